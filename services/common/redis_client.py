"""Redis clients for coordination (job queue, locks, index signals) that outlive a Redis restart."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def reconnecting_redis(url: str, *, socket_timeout: float, socket_connect_timeout: float) -> aioredis.Redis:
    """A client whose calls are retried, twice and briefly, on a broken connection.

    A restarted Redis leaves dead connections in the pool, and without a retry the first call
    on each fails: an upload whose job cannot be queued, a version published but never announced.
    Only connection errors are retried, never timeouts, so a blocking read is not repeated.
    """
    return aioredis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_connect_timeout,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 2, (RedisConnectionError,)),
    )
