"""What a deployment may tune is read from the gateway's settings: the cache's circuit breaker (against
a Redis that is not there), the lifetime of cached image records (in a real Redis)."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from deploy.stack import free_port
from gateway.app import open_resources
from gateway.hydrate import Hydrator
from gateway.settings import GatewaySettings
from services.common.settings import StorageSettings
from tests.support.bad_images import encode, photo


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


async def test_image_records_are_cached_for_the_configured_lifetime(tmp_path: Path, redis_url: str) -> None:
    settings = GatewaySettings(
        storage=StorageSettings(backend="local", local_root=tmp_path),
        cache_redis_url=redis_url,
        record_cache_ttl_s=123,
    )
    resources = open_resources(settings)
    client = aioredis.from_url(redis_url)
    try:
        collection = resources.catalog.create_collection("records")
        record, _ = resources.catalog.store_image(collection.id, "a.png", encode(photo(), "PNG"))
        assert await Hydrator(resources).record(record.image_id) == record
        assert 100 < await client.ttl(f"img:{record.image_id}") <= 123
    finally:
        await client.aclose()
        await resources.aclose()
