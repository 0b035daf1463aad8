"""Property-based API testing of the gateway from its own OpenAPI schema: no 5xx, no undocumented status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deploy.harness.fullstack import RunningStack
from tests.integration.gateway.conftest import API_KEY

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_schemathesis_finds_no_5xx_and_no_undocumented_status(system: RunningStack, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(cli),
            "run",
            f"{system.gateway}/openapi.json",
            "--header",
            f"X-API-Key: {API_KEY}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            "--seed",
            "1234",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--max-time",
            "120",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
