"""Outside development (`TIMANH_DEV`), services refuse to start on default or example secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from deploy.harness.fullstack import REPO
from gateway.settings import GatewaySettings
from services.indexer.settings import IndexerSettings

S3 = {"STORAGE_S3_ENDPOINT": "http://minio:9000"}
REAL = {
    "STORAGE_S3_ACCESS_KEY": "timanh",
    "STORAGE_S3_SECRET_KEY": "Vv2kQ7tNw9bX1yZ3",
    "REDIS_URL": "redis://:p9Lm2xQ4zR8s@redis:6379/0",
    "GATEWAY_API_KEYS": "read:R3adK3y-9fj2,write:Wr1teK3y-2ks9",
    "GATEWAY_URL_SIGNING_KEY": "S1gn-8sk2-qp0z",
}


def _env_file(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("TIMANH_DEV", "STORAGE_BACKEND", "GATEWAY_CACHE_REDIS_URL", *S3, *REAL):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({**S3}, "STORAGE_S3_ACCESS_KEY, STORAGE_S3_SECRET_KEY"),  # MinIO's minioadmin
        ({**S3, **REAL, "STORAGE_S3_SECRET_KEY": "change-me-minio-password"}, "STORAGE_S3_SECRET_KEY"),
        ({**REAL, "REDIS_URL": "redis://:change-me-redis-password@redis:6379/0"}, "REDIS_URL"),
        (
            {**REAL, "GATEWAY_CACHE_REDIS_URL": "redis://:change-me@redis-cache:6379/0"},
            "GATEWAY_CACHE_REDIS_URL",
        ),
        ({**REAL, "GATEWAY_API_KEYS": "change-me-api-key"}, "GATEWAY_API_KEYS"),
        ({**REAL, "GATEWAY_API_KEYS": "write:change-me"}, "GATEWAY_API_KEYS"),
        ({**REAL, "GATEWAY_URL_SIGNING_KEY": ""}, "GATEWAY_URL_SIGNING_KEY"),
        ({k: v for k, v in REAL.items() if k != "GATEWAY_URL_SIGNING_KEY"}, "GATEWAY_URL_SIGNING_KEY"),
        ({**REAL, "GATEWAY_URL_SIGNING_KEY": "Wr1teK3y-2ks9"}, "GATEWAY_URL_SIGNING_KEY"),  # an API key
    ],
)
def test_default_secrets_are_refused(
    production: pytest.MonkeyPatch, env: dict[str, str], refused: str
) -> None:
    for name, value in env.items():
        production.setenv(name, value)
    with pytest.raises(ValidationError, match=refused):
        GatewaySettings()
    production.setenv("TIMANH_DEV", "1")
    GatewaySettings()  # a development machine starts on the same values


def test_real_secrets_start(production: pytest.MonkeyPatch) -> None:
    for name, value in {**S3, **REAL}.items():
        production.setenv(name, value)
    assert GatewaySettings().storage.resolved_backend == "s3"
    assert IndexerSettings().cache.redis_url == REAL["REDIS_URL"]
    production.delenv("GATEWAY_API_KEYS")
    production.delenv("GATEWAY_URL_SIGNING_KEY")
    GatewaySettings()  # no keys (auth off), no signing key needed


def test_every_service_refuses_minioadmin(production: pytest.MonkeyPatch) -> None:
    production.setenv("STORAGE_S3_ENDPOINT", S3["STORAGE_S3_ENDPOINT"])
    with pytest.raises(ValidationError, match="STORAGE_S3_SECRET_KEY"):
        IndexerSettings()


def test_the_compose_example_env_is_not_usable_as_is(production: pytest.MonkeyPatch) -> None:
    example = _env_file(REPO / ".env.example")
    production.setenv("STORAGE_S3_ENDPOINT", "http://minio:9000")
    production.setenv("STORAGE_S3_ACCESS_KEY", example["MINIO_ROOT_USER"])
    production.setenv("STORAGE_S3_SECRET_KEY", example["MINIO_ROOT_PASSWORD"])
    production.setenv("REDIS_URL", f"redis://:{example['REDIS_PASSWORD']}@redis:6379/0")
    production.setenv("GATEWAY_CACHE_REDIS_URL", f"redis://:{example['REDIS_PASSWORD']}@redis-cache:6379/0")
    production.setenv("GATEWAY_API_KEYS", example["GATEWAY_API_KEYS"])
    production.setenv("GATEWAY_URL_SIGNING_KEY", example["GATEWAY_URL_SIGNING_KEY"])
    with pytest.raises(ValidationError) as err:
        GatewaySettings()
    for name in (
        "STORAGE_S3_SECRET_KEY",
        "REDIS_URL",
        "GATEWAY_CACHE_REDIS_URL",
        "GATEWAY_API_KEYS",
        "GATEWAY_URL_SIGNING_KEY",
    ):
        assert name in str(err.value)


def test_the_gateway_process_exits_at_start_up_on_a_missing_signing_key() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TIMANH_DEV", "GATEWAY_URL_SIGNING_KEY")}
    env.update(GATEWAY_API_KEYS="Pr0d-K3y-8d7s", GATEWAY_PORT="0", STORAGE_BACKEND="local")
    proc = subprocess.run(
        [sys.executable, "-m", "gateway"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "GATEWAY_URL_SIGNING_KEY" in proc.stderr and "TIMANH_DEV=1" in proc.stderr
