"""The cache's circuit breaker is tuned by the gateway's settings, against a Redis that is not there."""

from __future__ import annotations

from pathlib import Path

from deploy.stack import free_port
from gateway.app import open_resources
from gateway.settings import GatewaySettings
from services.common.settings import StorageSettings


async def _calls_until_open(tmp_path: Path, **tuning: float) -> tuple[int, float]:
    settings = GatewaySettings(
        storage=StorageSettings(backend="local", local_root=tmp_path),
        cache_redis_url=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        **tuning,
    )
    resources = open_resources(settings)
    try:
        guarded = resources.guarded_cache
        calls = 0
        while not guarded.is_open and calls < 10:
            await guarded.get("k")
            calls += 1
        return calls, guarded.open_for_s
    finally:
        await resources.aclose()


async def test_the_breaker_opens_after_the_configured_failures(tmp_path: Path) -> None:
    assert await _calls_until_open(tmp_path) == (3, 5.0)
    assert await _calls_until_open(tmp_path, cache_failure_threshold=1, cache_open_s=30) == (1, 30.0)
