"""Redis cache with short timeouts: a slow Redis must never slow a search."""

from __future__ import annotations

from typing import cast

from redis.exceptions import RedisError

from services.common.cache.base import Cache, CacheUnavailable
from services.common.redis_client import reconnecting_redis


class RedisCache(Cache):
    name = "redis"

    def __init__(self, url: str, timeout_s: float = 0.25, default_ttl_s: int = 3600) -> None:
        # Connection errors are retried (a restarted Redis leaves dead pooled connections);
        # timeouts are not, so a slow Redis still costs at most `timeout_s` per call.
        self.client = reconnecting_redis(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self.default_ttl_s = default_ttl_s

    async def get(self, key: str) -> bytes | None:
        try:
            value = cast(bytes | None, await self.client.get(key))
        except (RedisError, OSError) as exc:
            raise CacheUnavailable(str(exc)) from exc
        return value

    async def set(self, key: str, value: bytes, ttl_s: int | None = None) -> None:
        try:
            await self.client.set(key, value, ex=self.default_ttl_s if ttl_s is None else ttl_s)
        except (RedisError, OSError) as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def delete(self, key: str) -> None:
        try:
            await self.client.delete(key)
        except (RedisError, OSError) as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def incr(self, key: str, ttl_s: int) -> int:
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, ttl_s, nx=True)
            count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise CacheUnavailable(str(exc)) from exc
        return int(count)

    async def ping(self) -> None:
        try:
            await self.client.ping()
        except (RedisError, OSError) as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def aclose(self) -> None:
        await self.client.aclose()
