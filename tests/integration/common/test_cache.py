"""Both cache backends through one interface: an in-process LRU and a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from services.common.cache import Cache, CacheUnavailable, MemoryCache, open_cache
from services.common.settings import CacheSettings


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        c: Cache = MemoryCache(max_items=3)
    else:
        c = open_cache(request.getfixturevalue("cache_settings"))
    yield c
    await c.aclose()


def _key() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_set_get_delete(cache: Cache) -> None:
    key = _key()
    assert await cache.get(key) is None
    await cache.set(key, "xin chào".encode(), ttl_s=30)
    assert await cache.get(key) == "xin chào".encode()
    await cache.delete(key)
    await cache.delete(key)
    assert await cache.get(key) is None


async def test_ttl_expires(cache: Cache) -> None:
    key = _key()
    await cache.set(key, b"v", ttl_s=1)
    await asyncio.sleep(1.2)
    assert await cache.get(key) is None


async def test_incr_counts_within_window(cache: Cache) -> None:
    key = _key()
    assert [await cache.incr(key, ttl_s=1) for _ in range(3)] == [1, 2, 3]
    await asyncio.sleep(1.2)
    assert await cache.incr(key, ttl_s=1) == 1


async def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_items=2)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    await cache.get("a")
    await cache.set("c", b"3")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1"


async def test_unreachable_redis_fails_fast() -> None:
    from deploy.stack import free_port

    cache = open_cache(CacheSettings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2))
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(CacheUnavailable):
        await cache.get("k")
    assert loop.time() - start < 2
    await cache.aclose()
