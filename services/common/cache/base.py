"""The cache interface: bytes by key with a TTL, plus a counter for rate limits."""

from __future__ import annotations

from abc import ABC, abstractmethod


class CacheUnavailable(Exception):
    """The cache backend did not answer in time; callers go on uncached."""


class Cache(ABC):
    name: str

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""

    @abstractmethod
    async def set(self, key: str, value: bytes, ttl_s: int | None = None) -> None:
        """Store `value` for `ttl_s` seconds (the default TTL when None)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the key; a missing key is not an error."""

    @abstractmethod
    async def incr(self, key: str, ttl_s: int) -> int:
        """Add one to a counter that expires `ttl_s` seconds after its first increment."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise CacheUnavailable when the backend does not answer."""

    async def aclose(self) -> None:
        """Release connections; the in-process cache holds none."""
        return None
