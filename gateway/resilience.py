"""Single-flight for cold queries and a circuit breaker that lets the gateway run without its cache."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from services.common.cache import Cache, CacheUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_PENDING_WRITES = 1024


class SingleFlight(Generic[T]):
    """Concurrent calls with one key share one execution (100 identical cold queries, one encode)."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        existing = self._inflight.get(key)
        if existing is not None:
            return await asyncio.shield(existing)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await fn()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, none is left unobserved
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(key, None)


class GuardedCache:
    """The cache behind a circuit breaker: errors read as misses, and after a few the cache
    is skipped for a while, so a dead or slow Redis costs nothing per request."""

    def __init__(self, cache: Cache, failure_threshold: int = 3, open_for_s: float = 5.0) -> None:
        self.cache = cache
        self.failure_threshold = failure_threshold
        self.open_for_s = open_for_s
        self._failures = 0
        self._open_until = 0.0
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        if self._failures >= self.failure_threshold:
            if not self.is_open:
                log.warning("cache unavailable, going on uncached for %.0fs: %s", self.open_for_s, exc)
            self._open_until = time.monotonic() + self.open_for_s
            self._failures = 0

    async def get(self, key: str) -> bytes | None:
        if self.is_open:
            return None
        try:
            value = await self.cache.get(key)
        except CacheUnavailable as exc:
            self._failed(exc)
            return None
        self._failures = 0
        return value

    async def set(self, key: str, value: bytes, ttl_s: int) -> None:
        if self.is_open:
            return
        try:
            await self.cache.set(key, value, ttl_s)
        except CacheUnavailable as exc:
            self._failed(exc)

    def set_soon(self, key: str, value: bytes, ttl_s: int) -> None:
        """`set` without waiting for it: what a search keeps for later goes out after its answer
        (two Redis round trips off a new query's path). Writes in flight are bounded; past
        `MAX_PENDING_WRITES` one is dropped, as a failed write would be (a cache may miss)."""
        if self.is_open or len(self._pending) >= MAX_PENDING_WRITES:
            return
        task = asyncio.get_running_loop().create_task(self.set(key, value, ttl_s))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for the writes `set_soon` started (before the cache closes)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def incr(self, key: str, ttl_s: int) -> int | None:
        """The counter's new value, or None while the cache is unavailable."""
        if self.is_open:
            return None
        try:
            return await self.cache.incr(key, ttl_s)
        except CacheUnavailable as exc:
            self._failed(exc)
            return None
