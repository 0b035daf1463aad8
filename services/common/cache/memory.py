"""An in-process LRU cache with TTLs: the default when no Redis is configured."""

from __future__ import annotations

import time
from collections import OrderedDict

from services.common.cache.base import Cache


class MemoryCache(Cache):
    name = "memory"

    def __init__(self, max_items: int = 10_000, default_ttl_s: int = 3600) -> None:
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._counters: dict[str, tuple[float, int]] = {}
        self.max_items = max_items
        self.default_ttl_s = default_ttl_s

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: int | None = None) -> None:
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        self._items[key] = (time.monotonic() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)
        self._counters.pop(key, None)

    async def incr(self, key: str, ttl_s: int) -> int:
        now = time.monotonic()
        expires, count = self._counters.get(key, (now + ttl_s, 0))
        if expires < now:
            expires, count = now + ttl_s, 0
        self._counters[key] = (expires, count + 1)
        if len(self._counters) > self.max_items:
            self._counters = {k: v for k, v in self._counters.items() if v[0] >= now}
        return count + 1

    async def ping(self) -> None:
        return None
