"""OCR in ingestion: an indexed image's words reach the catalog's keyword index, beside the job; without
Tesseract's language the job still indexes every image and `/readyz` says OCR is off.

The vectors come from a stand-in embedder (the encoder's model is not what is tested here); the
catalog, the queue, the publisher and Tesseract are real."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event

from imaging.ocr import OcrBudget, engine_version
from services.common.catalog import Catalog
from services.common.index_signals import StoreSignals
from services.common.schemas.indexer import JobRequest, JobStatus, ObjectsSource
from services.common.storage.local import LocalObjectStore
from services.indexer.ingest import EmbedBatch, Ingestor
from services.indexer.locks import FileLocks
from services.indexer.ocr import OcrRunner
from services.indexer.publisher import BuildConfig, Publisher
from services.indexer.queue import JobQueue, open_queue
from services.indexer.sources import SourcePolicy
from tests.support.catalogs import catalog_with, sqlite_url
from vi_clip_train.vishapes.render import render
from vi_clip_train.vishapes.scene import sample_scene
from vi_clip_train.vishapes.text_set import draw_sign


class RandomEmbedder:
    async def embed_keys(self, keys: list[str], model_version: str | None = None) -> EmbedBatch:
        vectors = np.random.default_rng(len(keys)).standard_normal((len(keys), 16)).astype(np.float32)
        return EmbedBatch("mv-test", vectors, list(range(len(keys))))


def picture(seed: int, sign: str | None) -> bytes:
    rng = np.random.default_rng(seed)
    image = render(sample_scene(rng), 480, rng)
    out = io.BytesIO()
    (draw_sign(image, sign, rng) if sign else image).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def queue(tmp_path: Path) -> AsyncIterator[JobQueue]:
    q = open_queue(None, f"test-{uuid.uuid4().hex[:8]}", tmp_path / "q.sqlite", claim_idle_s=30)
    yield q
    await q.aclose()


async def ingest(
    catalog: Catalog, queue: JobQueue, ocr: OcrRunner, images: list[bytes], locks: Path
) -> JobStatus:
    store = catalog.store
    ids = [catalog.store_image("c", f"{i}.png", data)[0].image_id for i, data in enumerate(images)]
    publisher = Publisher(store, StoreSignals(store), FileLocks(locks), BuildConfig())
    ingestor = Ingestor(
        catalog,
        RandomEmbedder(),
        publisher,
        queue,
        StoreSignals(store),
        batch_size=8,
        policy=SourcePolicy([], None, ["imports/"], 1 << 22),
        ocr=ocr,
    )
    now = time.time()
    status = JobStatus(
        job_id=uuid.uuid4().hex, collection_id="c", status="queued", created_at=now, updated_at=now
    )
    await queue.enqueue(status, JobRequest(collection_id="c", source=ObjectsSource(image_ids=ids)))
    claimed = await queue.claim("w", block_s=1)
    assert claimed is not None

    async def beat() -> None:
        return None

    return await ingestor.run(claimed, beat)


@pytest.mark.usefixtures("tesseract")
async def test_an_indexed_image_gets_its_words(tmp_path: Path, queue: JobQueue) -> None:
    catalog = catalog_with(LocalObjectStore(tmp_path / "store"), sqlite_url(tmp_path), "c")
    ocr = OcrRunner(catalog, OcrBudget(), workers=2)
    await ocr.start()
    try:
        job = await ingest(catalog, queue, ocr, [picture(1, "Phở Thìn"), picture(2, None)], tmp_path)
        assert job.status == "done" and job.done == 2
        await ocr.drain()
        hits = catalog.keyword_search("pho thin", ["c"])
        assert len(hits) == 1 and "Phở Thìn" in hits[0].snippet
        read = catalog.get_image_text(hits[0].image_id)
        assert read is not None and read.engine.startswith("tesseract-") and read.confidence > 50
        assert (await ocr.check().fn()) is None
        assert not ocr.read_one("c", hits[0].image_id)  # read once by this engine: not read again
    finally:
        await ocr.aclose()
        catalog.sessions.dispose()


async def test_without_tesseract_ingestion_goes_on(tmp_path: Path, queue: JobQueue) -> None:
    catalog = catalog_with(LocalObjectStore(tmp_path / "store"), sqlite_url(tmp_path), "c")
    ocr = OcrRunner(catalog, OcrBudget(language="xyz"), workers=1)  # a language no machine has
    await ocr.start()
    try:
        job = await ingest(catalog, queue, ocr, [picture(3, "Bánh mì")], tmp_path)
        assert job.status == "done" and job.done == 1 and job.index_version
        await ocr.drain()
        assert catalog.keyword_search("banh mi", ["c"]) == []
        check = ocr.check()
        assert not check.required and "not installed" in (await check.fn() or "")
    finally:
        await ocr.aclose()
        catalog.sessions.dispose()


def test_a_batch_is_read_with_one_query_and_one_write(tmp_path: Path) -> None:
    catalog = catalog_with(LocalObjectStore(tmp_path / "store"), sqlite_url(tmp_path), "c")
    ocr = OcrRunner(catalog, OcrBudget(), workers=1)
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    try:
        ids = [catalog.store_image("c", f"{i}.png", picture(10 + i, None))[0].image_id for i in range(12)]
        event.listen(catalog.sessions.engine, "before_cursor_execute", count)
        assert ocr.read_batch("c", ids[:2]) == 2
        few, seen[:] = len(seen), []
        assert ocr.read_batch("c", [*ids[2:], "not-stored"]) == 10  # the missing one logged, the rest stored
        assert len(seen) == few
        seen.clear()
        assert ocr.read_batch("c", ids) == 0  # read by this engine: one query, no write
        assert sum(q.startswith("SELECT") for q in seen) == 1 and not any("INSERT" in q for q in seen)
        assert all(
            t.text == "" and t.engine == engine_version() for t in catalog.get_image_texts(ids).values()
        )
    finally:
        event.remove(catalog.sessions.engine, "before_cursor_execute", count)
        catalog.sessions.dispose()
