"""A publish lock held for a while is asked about with backoff, not ten times a second."""

from __future__ import annotations

import asyncio
import time
from typing import cast

import redis

from deploy.harness.servers import redis_server
from services.indexer.locks import RedisLocks


def set_calls(url: str) -> int:
    stats = cast(dict[str, dict[str, int]], redis.Redis.from_url(url).info("commandstats"))
    return int(stats.get("cmdstat_set", {}).get("calls", 0))


async def test_a_waiter_backs_off_while_the_lock_is_held() -> None:
    with redis_server() as (url, _):
        locks = RedisLocks(url, "test", ttl_s=10)
        holding = asyncio.Event()

        async def holder() -> None:
            async with locks.hold("publish-c"):
                holding.set()
                await asyncio.sleep(2.0)

        task = asyncio.create_task(holder())
        await holding.wait()
        before = set_calls(url)
        started = time.monotonic()
        async with locks.hold("publish-c"):
            waited = time.monotonic() - started
        await task
        tries = set_calls(url) - before
        await locks.aclose()
    assert 1.5 < waited < 3.5
    assert tries <= 10, tries  # a fixed 100 ms poll asks about 20 times in 2 s
