"""Workers: a poison job is tried a bounded number of times, then `failed` with its errors; a
dependency outage is waited out without using up the job's tries."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from deploy.stack import free_port
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
from tests.support.catalogs import catalog_with, sqlite_url
from tests.support.index_data import clustered, ids_for, vishapes_pngs, write_batches

IDLE_S = 0.3


@pytest.fixture(params=["sqlite", "redis"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> AsyncIterator[JobQueue]:
    url = redis_url if request.param == "redis" else None
    q = open_queue(url, f"test-{uuid.uuid4().hex[:8]}", tmp_path / "q.sqlite", claim_idle_s=IDLE_S)
    yield q
    await q.aclose()


@pytest.fixture
async def encoder() -> AsyncIterator[EncoderClient]:
    client = EncoderClient(f"http://127.0.0.1:{free_port()}", 1.0)  # nothing listens there
    yield client
    await client.aclose()


def ingestor_for(
    store: LocalObjectStore, queue: JobQueue, encoder: EncoderClient, tmp_path: Path
) -> Ingestor:
    publisher = Publisher(store, StoreSignals(store), FileLocks(tmp_path / "locks"), BuildConfig())
    policy = SourcePolicy([], None, ["imports/"], 1 << 20)
    return Ingestor(
        catalog_with(store, sqlite_url(tmp_path), "c"),
        EncoderEmbedder(encoder),
        publisher,
        queue,
        StoreSignals(store),
        batch_size=8,
        policy=policy,
    )


async def enqueue(queue: JobQueue, request: JobRequest) -> str:
    now = time.time()
    status = JobStatus(
        job_id=uuid.uuid4().hex, collection_id="c", status="queued", created_at=now, updated_at=now
    )
    await queue.enqueue(status, request)
    return status.job_id


async def wait_status(queue: JobQueue, job_id: str, state: str, timeout_s: float) -> JobStatus:
    deadline = time.monotonic() + timeout_s
    while (job := await queue.get_status(job_id)) is None or job.status != state:
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)
    return job


async def test_a_poison_job_ends_failed_after_max_deliveries(
    queue: JobQueue, encoder: EncoderClient, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "store")
    write_batches(store, "c", ids_for(50), clustered(50))
    # An index type that passes the request's pattern but that FAISS cannot build: every try raises.
    request = JobRequest(collection_id="c", source=ObjectsSource(image_ids=["gone"]), index_type="NotAnIndex")
    job_id = await enqueue(queue, request)
    worker = Worker("w1", queue, ingestor_for(store, queue, encoder, tmp_path), max_deliveries=2)
    task = asyncio.create_task(worker.loop())
    try:
        job = await wait_status(queue, job_id, "failed", 30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    codes = [e.code for e in job.errors]
    assert codes[-1] == "too_many_tries" and "attempt_failed" in codes and "not_found" in codes, job.errors
    assert "RuntimeError" in next(e.message for e in job.errors if e.code == "attempt_failed")
    assert await queue.claim("w2", block_s=0.5) is None  # acknowledged: never handed out again


async def test_a_job_whose_workers_died_is_given_up_without_running(
    queue: JobQueue, encoder: EncoderClient, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "store")
    job_id = await enqueue(queue, JobRequest(collection_id="c", source=ObjectsSource(image_ids=["a"])))
    for dead in ("w1", "w2"):  # each took the job and died without a word
        assert await queue.claim(dead, block_s=1) is not None
        await asyncio.sleep(IDLE_S + 0.2)
    worker = Worker("w3", queue, ingestor_for(store, queue, encoder, tmp_path), max_deliveries=2)
    task = asyncio.create_task(worker.loop())
    try:
        job = await wait_status(queue, job_id, "failed", 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [e.code for e in job.errors] == ["too_many_tries"]


async def test_an_encoder_outage_is_waited_out_without_using_up_tries(
    queue: JobQueue, encoder: EncoderClient, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "store")
    image = catalog_with(store, sqlite_url(tmp_path), "c").store_image("c", "a.png", vishapes_pngs(1)[0])[0]
    job_id = await enqueue(
        queue, JobRequest(collection_id="c", source=ObjectsSource(image_ids=[image.image_id]))
    )
    worker = Worker("w1", queue, ingestor_for(store, queue, encoder, tmp_path), max_deliveries=1)
    task = asyncio.create_task(worker.loop())
    try:
        await asyncio.sleep(4 * IDLE_S + 2)  # several tries, each long past the claim idle time
        job = await queue.get_status(job_id)
        assert job is not None and job.status in ("queued", "running"), job
        assert "encoder" in next(e.message for e in job.errors if e.code == "attempt_failed")
        assert await queue.claim("w2", block_s=0.2) is None  # still held by its live worker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
