"""A job that keeps failing is tried a bounded number of times, then `failed` with its errors."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from deploy.stack import free_port
from services.common.catalog import Catalog
from services.common.clients import EncoderClient
from services.common.index_signals import StoreSignals
from services.common.schemas.indexer import JobRequest, JobStatus, ObjectsSource
from services.common.storage.local import LocalObjectStore
from services.indexer.encoding import EncoderEmbedder
from services.indexer.ingest import Ingestor
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher
from services.indexer.queue import JobQueue, open_queue
from services.indexer.sources import SourcePolicy
from services.indexer.worker import Worker
from tests.support.index_data import vishapes_pngs


@pytest.fixture(params=["sqlite", "redis"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> AsyncIterator[JobQueue]:
    url = redis_url if request.param == "redis" else None
    q = open_queue(url, f"test-{uuid.uuid4().hex[:8]}", tmp_path / "q.sqlite", claim_idle_s=0.3)
    yield q
    await q.close()


async def test_a_job_that_keeps_failing_ends_failed_after_max_deliveries(
    queue: JobQueue, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "store")
    catalog = Catalog(store)
    ids = [catalog.store_image("c", f"{i}.png", data)[0].image_id for i, data in enumerate(vishapes_pngs(2))]
    encoder = EncoderClient(f"http://127.0.0.1:{free_port()}", 1.0)  # nothing listens: every try fails
    publisher = Publisher(store, StoreSignals(store), FileLocks(tmp_path / "locks"), BuildConfig())
    policy = SourcePolicy([], None, ["imports/"], 1 << 20)
    ingestor = Ingestor(
        catalog, EncoderEmbedder(encoder), publisher, queue, StoreSignals(store), batch_size=8, policy=policy
    )
    now = time.time()
    status = JobStatus(
        job_id=uuid.uuid4().hex, collection_id="c", status="queued", created_at=now, updated_at=now
    )
    await queue.enqueue(status, JobRequest(collection_id="c", source=ObjectsSource(image_ids=ids)))
    worker = Worker("w1", queue, ingestor, max_deliveries=2)
    task = asyncio.create_task(worker.loop())
    try:
        deadline = time.monotonic() + 30
        while (job := await queue.get_status(status.job_id)) is None or job.status != "failed":
            assert time.monotonic() < deadline, job
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await encoder.aclose()
    codes = [e.code for e in job.errors]
    assert codes[-1] == "too_many_tries" and "attempt_failed" in codes, job.errors
    assert "encoder" in next(e.message for e in job.errors if e.code == "attempt_failed")
    assert await queue.claim("w2", block_s=0.5) is None  # acknowledged: never handed out again
