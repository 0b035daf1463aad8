"""Per-collection publish locks, so two workers never publish versions of one collection at once.

Redis: `SET NX PX` with a token, renewed while held; a SIGKILLed holder's lock expires after
`ttl_s`. Without Redis, an flock file serves the indexer processes of one machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from services.common.redis_client import reconnecting_redis

_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _backoff(first_s: float = 0.05, most_s: float = 1.0) -> Iterator[float]:
    """Waits between tries for a held lock: doubling, capped, jittered, so waiters of a long
    publish ask about once a second instead of ten times."""
    wait = first_s
    while True:
        yield wait * random.uniform(0.5, 1.0)
        wait = min(most_s, wait * 2)


class Locks(ABC):
    @abstractmethod
    def hold(self, name: str) -> contextlib.AbstractAsyncContextManager[None]: ...

    async def aclose(self) -> None:
        return None


class RedisLocks(Locks):
    def __init__(self, url: str, namespace: str, ttl_s: float) -> None:
        self.prefix = f"timanh:{namespace}:lock:"
        self.client = reconnecting_redis(url, socket_timeout=5, socket_connect_timeout=2)
        self.ttl_ms = int(ttl_s * 1000)

    async def _renew(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            await self.client.eval(_RENEW, 1, key, token, str(self.ttl_ms))

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        key, token = self.prefix + name, uuid.uuid4().hex
        waits = _backoff()
        while not await self.client.set(key, token, nx=True, px=self.ttl_ms):
            await asyncio.sleep(next(waits))
        renew = asyncio.create_task(self._renew(key, token))
        try:
            yield
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            await self.client.eval(_RELEASE, 1, key, token)

    async def aclose(self) -> None:
        await self.client.aclose()


class FileLocks(Locks):
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        fd = os.open(self.folder / f"{name.replace('/', '_')}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            waits = _backoff()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(next(waits))
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock


def open_locks(redis_url: str | None, namespace: str, folder: Path, ttl_s: float) -> Locks:
    return RedisLocks(redis_url, namespace, ttl_s) if redis_url else FileLocks(folder)
