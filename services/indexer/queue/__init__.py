"""The job queue: Redis Streams with a consumer group, or SQLite when no Redis is configured."""

from pathlib import Path

from services.indexer.queue.base import BatchResult, Claimed, JobQueue


def open_queue(redis_url: str | None, namespace: str, sqlite_path: Path, claim_idle_s: float) -> JobQueue:
    if redis_url:
        from services.indexer.queue.redis_queue import RedisJobQueue

        return RedisJobQueue(redis_url, namespace, claim_idle_s)
    from services.indexer.queue.sqlite_queue import SqliteJobQueue

    return SqliteJobQueue(sqlite_path, claim_idle_s)


__all__ = ["BatchResult", "Claimed", "JobQueue", "open_queue"]
