"""Jobs in a local SQLite file: the laptop default when no Redis is configured.

Same semantics as the Redis queue (claim, heartbeat, take-over after `claim_idle_s`,
per-batch results), so the code above the queue is the same. SQLite's locking makes it
safe for several indexer processes on one machine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from services.common.schemas.indexer import JobRequest, JobStatus
from services.indexer.queue.base import BatchResult, Claimed, JobQueue

T = TypeVar("T")
POLL_S = 0.2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT UNIQUE NOT NULL, request TEXT NOT NULL,
    status TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued', claimed_at REAL NOT NULL DEFAULT 0,
    deliveries INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS batches (
    job_id TEXT NOT NULL, n INTEGER NOT NULL, result TEXT NOT NULL, PRIMARY KEY (job_id, n));
"""


class SqliteJobQueue(JobQueue):
    name = "sqlite"

    def __init__(self, path: Path, claim_idle_s: float) -> None:
        super().__init__(claim_idle_s)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            if "deliveries" not in columns:  # a queue file from before deliveries were counted
                db.execute("ALTER TABLE jobs ADD COLUMN deliveries INTEGER NOT NULL DEFAULT 0")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            db = self._connect()
            try:
                return fn(db)
            finally:
                db.close()

        return await asyncio.to_thread(call)

    async def enqueue(self, status: JobStatus, request: JobRequest) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT INTO jobs (job_id, request, status) VALUES (?, ?, ?)",
                (status.job_id, request.model_dump_json(), status.model_dump_json()),
            )
        )

    def _claim_once(self, db: sqlite3.Connection) -> Claimed | None:
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT seq, job_id, request, deliveries FROM jobs WHERE state = 'queued' "
                "OR (state = 'claimed' AND claimed_at < ?) ORDER BY state = 'queued', seq LIMIT 1",
                (now - self.claim_idle_s,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'claimed', claimed_at = ?, deliveries = deliveries + 1 "
                "WHERE seq = ?",
                (now, row[0]),
            )
            return Claimed(row[1], JobRequest.model_validate_json(row[2]), str(row[0]), row[3] + 1)
        finally:
            db.execute("COMMIT")

    async def claim(self, consumer: str, block_s: float) -> Claimed | None:
        deadline = time.monotonic() + block_s
        while True:
            claimed = await self._run(self._claim_once)
            if claimed is not None or time.monotonic() >= deadline:
                return claimed
            await asyncio.sleep(POLL_S)

    async def heartbeat(self, claimed: Claimed, consumer: str) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE jobs SET claimed_at = ? WHERE seq = ?", (time.time(), claimed.token)
            )
        )

    async def ack(self, claimed: Claimed) -> None:
        await self._run(
            lambda db: db.execute("UPDATE jobs SET state = 'acked' WHERE seq = ?", (claimed.token,))
        )

    async def get_status(self, job_id: str) -> JobStatus | None:
        row = await self._run(
            lambda db: db.execute("SELECT status FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        )
        return JobStatus.model_validate_json(row[0]) if row else None

    async def put_status(self, status: JobStatus) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE jobs SET status = ? WHERE job_id = ?", (status.model_dump_json(), status.job_id)
            )
        )

    async def record_batch(self, job_id: str, batch: int, result: BatchResult) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO batches (job_id, n, result) VALUES (?, ?, ?)",
                (job_id, batch, result.model_dump_json()),
            )
        )

    async def batch_results(self, job_id: str) -> dict[int, BatchResult]:
        rows = await self._run(
            lambda db: db.execute("SELECT n, result FROM batches WHERE job_id = ?", (job_id,)).fetchall()
        )
        return {int(n): BatchResult.model_validate_json(r) for n, r in rows}

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT 1").fetchone())
