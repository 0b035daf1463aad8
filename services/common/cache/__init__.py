"""Caching behind one interface: Redis when `REDIS_URL` is set, an in-process LRU otherwise."""

from services.common.cache.base import Cache, CacheUnavailable
from services.common.cache.memory import MemoryCache
from services.common.settings import CacheSettings


def open_cache(settings: CacheSettings) -> Cache:
    if settings.redis_url:
        from services.common.cache.redis_cache import RedisCache

        return RedisCache(settings.redis_url, settings.timeout_s, settings.default_ttl_s)
    return MemoryCache(settings.local_max_items, settings.default_ttl_s)


__all__ = ["Cache", "CacheUnavailable", "MemoryCache", "open_cache"]
