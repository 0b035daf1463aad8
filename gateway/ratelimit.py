"""Per-caller rate limits: fixed one-minute windows counted in Redis, in this process when it is down.

Failing open would let anyone past the limit whenever Redis has trouble, and failing closed
would turn a cache outage into an outage of the whole API (the gateway otherwise answers
uncached without Redis). So a Redis error switches counting to a bounded table in this
process: the limit still holds per gateway process, and at worst each of N processes
allows the limit once (N times it in all) until Redis is back.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from gateway.resilience import GuardedCache
from services.common.errors import ApiError


class LocalWindows:
    """Counters of the current windows, at most `max_keys` of them (the oldest go first)."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._counts: OrderedDict[str, int] = OrderedDict()

    def incr(self, key: str) -> int:
        count = self._counts.pop(key, 0) + 1
        self._counts[key] = count
        while len(self._counts) > self.max_keys:
            self._counts.popitem(last=False)
        return count


class RateLimiter:
    def __init__(self, per_minute: int, cache: GuardedCache, local_max_keys: int = 10_000) -> None:
        self.per_minute = per_minute
        self.cache = cache
        self.local = LocalWindows(local_max_keys)

    async def check(self, caller_id: str) -> None:
        """429 with Retry-After once `caller_id` has made more than the limit this minute."""
        if self.per_minute <= 0:
            return
        now = time.time()
        key = f"rl:{caller_id}:{int(now // 60)}"
        count = await self.cache.incr(key, ttl_s=61)
        if count is None:  # Redis unavailable: count here instead of letting everything through
            count = self.local.incr(key)
        if count > self.per_minute:
            retry = 60 - int(now) % 60
            raise ApiError(
                429,
                "rate_limited",
                f"More than {self.per_minute} requests this minute; try again in {retry} s.",
                {"limit_per_minute": self.per_minute},
                headers={"Retry-After": str(retry)},
            )
