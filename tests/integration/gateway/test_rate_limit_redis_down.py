"""The rate limit holds with Redis stopped: counting moves into the gateway process, the API stays up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.harness.fullstack import REPO
from deploy.harness.servers import redis_server
from deploy.stack import ProcessSpec, Stack, free_port
from tests.support.catalogs import sqlite_url

LIMIT = 5
KEYS = ["limit-key-redis-up", "limit-key-redis-down"]


@pytest.fixture
def limited_gateway(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A gateway alone (the rate limit runs before any route, so no peer is needed) on a private Redis."""
    with redis_server() as (redis_url, redis_proc):
        port = free_port()
        spec = ProcessSpec(
            "gateway",
            [sys.executable, "-m", "gateway"],
            port,
            {
                "GATEWAY_PORT": str(port),
                "GATEWAY_API_KEYS": ",".join(f"read:{k}" for k in KEYS),
                "GATEWAY_URL_SIGNING_KEY": "rate-limit-test-signing-key",
                "GATEWAY_RATE_LIMIT_PER_MINUTE": str(LIMIT),
                "REDIS_URL": redis_url,
                "STORAGE_BACKEND": "local",
                "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"),
                "CATALOG_URL": sqlite_url(tmp_path),
            },
        )
        stack = Stack([spec], cwd=str(REPO), echo=False)
        with stack.running(timeout_s=60):
            yield spec.url, redis_proc


def _burst(base_url: str, key: str) -> list[httpx.Response]:
    # 2 * LIMIT + 1 requests: even when a minute window turns over mid-burst, one window
    # receives more than LIMIT of them.
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=10) as client:
        return [client.get("/api/v1/me") for _ in range(2 * LIMIT + 1)]


def _assert_limited(answers: list[httpx.Response]) -> None:
    codes = [r.status_code for r in answers]
    assert set(codes) <= {200, 429}, codes
    assert codes[0] == 200, codes
    limited = [r for r in answers if r.status_code == 429]
    assert limited, f"no request of {len(codes)} was limited: {codes}"
    for resp in limited:
        assert resp.json()["error"]["code"] == "rate_limited"
        assert 0 < int(resp.headers["Retry-After"]) <= 60


def test_rate_limit_holds_when_redis_is_stopped(limited_gateway: tuple[str, subprocess.Popen[bytes]]) -> None:
    base_url, redis_proc = limited_gateway
    _assert_limited(_burst(base_url, KEYS[0]))  # counted in Redis
    redis_proc.kill()
    redis_proc.wait()
    _assert_limited(_burst(base_url, KEYS[1]))  # counted in the gateway: neither open nor down
