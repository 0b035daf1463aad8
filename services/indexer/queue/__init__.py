"""The job queue: Redis Streams with a consumer group, or SQLite when no Redis is configured."""

from pathlib import Path

from services.indexer.queue.base import BatchResult, Claimed, JobQueue


def open_queue(
    redis_url: str | None,
    namespace: str,
    sqlite_path: Path,
    claim_idle_s: float,
    status_ttl_s: int = 7 * 24 * 3600,
) -> JobQueue:
    """`status_ttl_s`: how long Redis keeps a job's status and batch results (SQLite keeps them)."""
    if redis_url:
        from services.indexer.queue.redis_queue import RedisJobQueue

        return RedisJobQueue(redis_url, namespace, claim_idle_s, status_ttl_s)
    from services.indexer.queue.sqlite_queue import SqliteJobQueue

    return SqliteJobQueue(sqlite_path, claim_idle_s)


__all__ = ["BatchResult", "Claimed", "JobQueue", "open_queue"]
