"""The four services as separate processes, talking HTTP, on real Redis and a real S3 server."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from deploy.harness.fullstack import REPO
from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, free_port, service_specs
from tests.support.catalogs import sqlite_url


def _checks(url: str) -> tuple[int, dict[str, dict[str, object]]]:
    r = httpx.get(url + "/readyz", timeout=10)
    return r.status_code, {c["name"]: c for c in r.json()["checks"]}


@pytest.fixture
def stack_env(s3_endpoint: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": f"stack-{uuid.uuid4().hex[:12]}",
        "REDIS_URL": redis_url,
        "ENCODER_MODEL": "vi-tiny",
        "CATALOG_URL": sqlite_url(tmp_path),
    }


def test_gateway_reaches_every_service_and_reports_a_dead_one(stack_env: dict[str, str]) -> None:
    ports = Ports.free()
    specs = service_specs(ports, stack_env)
    urls = {s.name: s.url for s in specs}
    stack = Stack(specs, cwd=str(REPO), echo=False)
    with stack.running(timeout_s=90):
        wait_ready(urls["gateway"])  # the encoder loads its model in the background
        status, checks = _checks(urls["gateway"])
        assert status == 200, checks
        assert set(checks) == {
            "storage:s3",
            "catalog:sqlite",
            "cache:redis",
            "encoder",
            "indexer",
            "search[0]",
        }
        assert all(c["ok"] for c in checks.values())

        status, checks = _checks(urls["indexer"])
        assert status == 200, checks
        assert {"storage:s3", "catalog:sqlite", "cache:redis", "encoder"} <= set(checks)
        assert _checks(urls["search"])[0] == 200

        for name, url in urls.items():
            metrics = httpx.get(url + "/metrics").text
            assert f'service="{name}"' in metrics

        stack.stop_one("search")
        start = time.monotonic()
        status, checks = _checks(urls["gateway"])
        assert time.monotonic() - start < 5
        assert status == 503
        assert not checks["search[0]"]["ok"] and "unreachable" in str(checks["search[0]"]["reason"])
        assert checks["encoder"]["ok"]


def test_readyz_is_503_with_a_reason_when_storage_is_down(redis_url: str) -> None:
    port = free_port()
    dead_s3 = f"http://127.0.0.1:{free_port()}"
    spec = service_specs(Ports(search=port), {"STORAGE_S3_ENDPOINT": dead_s3, "STORAGE_TIMEOUT_S": "0.5"})[1]
    assert spec.name == "search"
    stack = Stack([spec], cwd=str(REPO), echo=False)
    with stack.running():
        start = time.monotonic()
        status, checks = _checks(spec.url)
        assert time.monotonic() - start < 5
    assert status == 503
    assert not checks["storage:s3"]["ok"]
    assert "unreachable" in str(checks["storage:s3"]["reason"]) or "no answer" in str(
        checks["storage:s3"]["reason"]
    )
