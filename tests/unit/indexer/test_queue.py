"""Both job queues: a dead worker's job is taken over, batch results survive, acked jobs stay gone."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from services.common.schemas.indexer import JobRequest, JobStatus, ObjectsSource
from services.indexer.queue import BatchResult, JobQueue, open_queue


@pytest.fixture(params=["sqlite", "redis"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> AsyncIterator[JobQueue]:
    url = redis_url if request.param == "redis" else None
    q = open_queue(url, f"test-{uuid.uuid4().hex[:8]}", tmp_path / "q.sqlite", claim_idle_s=0.5)
    yield q
    await q.aclose()


def _job() -> tuple[JobStatus, JobRequest]:
    now = time.time()
    status = JobStatus(
        job_id=uuid.uuid4().hex, collection_id="c", status="queued", created_at=now, updated_at=now
    )
    return status, JobRequest(collection_id="c", source=ObjectsSource(image_ids=["a"]))


async def test_dead_workers_job_is_taken_over_with_its_batches(queue: JobQueue) -> None:
    status, request = _job()
    await queue.enqueue(status, request)
    first = await queue.claim("w1", block_s=1)
    assert first is not None and first.job_id == status.job_id and first.request == request
    await queue.record_batch(status.job_id, 0, BatchResult(done=3, failed=0))
    assert await queue.claim("w2", block_s=0.1) is None  # claimed and fresh: not handed out
    await asyncio.sleep(0.7)  # w1 died: no heartbeat
    second = await queue.claim("w2", block_s=1)
    assert second is not None and second.job_id == status.job_id
    assert (await queue.batch_results(status.job_id))[0].done == 3
    await queue.ack(second)
    await asyncio.sleep(0.7)
    assert await queue.claim("w3", block_s=0.1) is None
    assert (await queue.get_status(status.job_id)) == status


async def test_heartbeat_keeps_a_live_job(queue: JobQueue) -> None:
    status, request = _job()
    await queue.enqueue(status, request)
    claimed = await queue.claim("w1", block_s=1)
    assert claimed is not None
    for _ in range(4):
        await asyncio.sleep(0.25)
        await queue.heartbeat(claimed, "w1")
    assert await queue.claim("w2", block_s=0.1) is None


async def test_each_hand_out_is_counted(queue: JobQueue) -> None:
    status, request = _job()
    await queue.enqueue(status, request)
    seen = []
    for consumer in ("w1", "w2", "w3"):
        claimed = await queue.claim(consumer, block_s=1)
        assert claimed is not None and claimed.job_id == status.job_id
        seen.append(claimed.deliveries)
        await queue.heartbeat(claimed, consumer)  # heartbeats are not hand-outs
        await asyncio.sleep(0.7)  # the worker died without acknowledging
    assert seen == [1, 2, 3]


async def test_redis_keeps_job_statuses_for_the_configured_time(tmp_path: Path, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    q = open_queue(redis_url, namespace, tmp_path / "q.sqlite", claim_idle_s=0.5, status_ttl_s=300)
    try:
        status, request = _job()
        await q.enqueue(status, request)
        await q.record_batch(status.job_id, 0, BatchResult(done=1, failed=0))
        client = aioredis.from_url(redis_url)
        try:
            for key in (
                f"timanh:{namespace}:job:{status.job_id}",
                f"timanh:{namespace}:job:{status.job_id}:batches",
            ):
                assert 250 < await client.ttl(key) <= 300, key
        finally:
            await client.aclose()
    finally:
        await q.aclose()
