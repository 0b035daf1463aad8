"""A process-local LRU bounded by bytes, each entry with its own deadline."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class LocalLRU(Generic[V]):
    """Least recently used entries go first once their sizes add up past `max_bytes`; an entry
    past its deadline (`ttl_s` from when it was put, or sooner when the caller says so) reads as
    absent. The sizes are the caller's measure of what an entry costs (its encoded bytes)."""

    def __init__(self, max_bytes: int, ttl_s: float) -> None:
        self.max_bytes, self.ttl_s = max_bytes, ttl_s
        self._items: OrderedDict[str, tuple[float, int, V]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            self._drop(key)
            return None
        self._items.move_to_end(key)
        return item[2]

    def put(self, key: str, value: V, size: int, ttl_s: float | None = None) -> None:
        if key in self._items:
            self._drop(key)
        if size > self.max_bytes:
            return
        ttl = self.ttl_s if ttl_s is None else min(ttl_s, self.ttl_s)
        self._items[key] = (time.monotonic() + ttl, size, value)
        self._bytes += size
        while self._bytes > self.max_bytes and self._items:
            self._drop(next(iter(self._items)))

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def _drop(self, key: str) -> None:
        self._bytes -= self._items.pop(key)[1]
