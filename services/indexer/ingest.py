"""Running one ingestion job: items in batches, each encoded and stored as a vector batch.

Every step is idempotent so a job taken over after a SIGKILL ends the same: batch keys are
derived from the job id and batch number, batch results are stored per batch, image ids
come from content hashes, and the publisher skips ids already indexed. Before each batch and
before publishing the job checks that its collection was not deleted; if it was, the job
removes what it wrote and ends `failed`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from services.common.catalog import Catalog, CollectionNotFound, image_key
from services.common.index_signals import IndexEvent, IndexSignals
from services.common.routing import read_routing
from services.common.schemas.indexer import JobItemError, JobStatus, ObjectsSource
from services.common.shards import (
    is_deleted,
    new_version,
    pack_vectors,
    tombgen_key,
    tombstone_key,
    tombstone_prefix,
    vector_batch_key,
)
from services.indexer.ocr import OcrRunner
from services.indexer.publisher import CollectionDeleted, Publisher
from services.indexer.purge import apurge_collection
from services.indexer.queue import BatchResult, Claimed, JobQueue
from services.indexer.sources import ItemError, SourcePolicy, batches, iter_items, load_items

log = logging.getLogger(__name__)
MAX_REPORTED_ERRORS = 100
DELETED = "The collection was deleted; nothing of this job was kept."


@dataclass
class EmbedBatch:
    """Vectors of the inputs that encoded (`rows[i]` is input `i`'s row or None), and why others failed."""

    model_version: str
    vectors: np.ndarray
    rows: list[int | None]
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)


class Embedder(Protocol):
    async def embed_keys(self, keys: list[str], model_version: str | None = None) -> EmbedBatch:
        """By the primary encoder's model, or by `model_version`'s encoder when one is named."""
        ...


class Ingestor:
    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        publisher: Publisher,
        queue: JobQueue,
        signals: IndexSignals,
        *,
        batch_size: int,
        policy: SourcePolicy,
        ocr: OcrRunner | None = None,
    ) -> None:
        self.catalog, self.store, self.embedder = catalog, catalog.store, embedder
        self.publisher, self.queue, self.signals = publisher, queue, signals
        self.batch_size, self.policy, self.ocr = batch_size, policy, ocr

    async def run(self, claimed: Claimed, beat: Callable[[], Awaitable[None]]) -> JobStatus:
        req, job_id = claimed.request, claimed.job_id
        status = await self.queue.get_status(job_id) or JobStatus(
            job_id=job_id,
            collection_id=req.collection_id,
            status="queued",
            created_at=time.time(),
            updated_at=time.time(),
        )
        results = await self.queue.batch_results(job_id)
        try:
            return await self._run(claimed, status, results, beat)
        except CollectionDeleted:
            await self.settle_deleted(req.collection_id)
            error = JobItemError(item=req.collection_id, code="collection_deleted", message=DELETED)
            status.status, status.index_version = "failed", None
            await self._report(status, results, [error])
            return status

    async def _run(
        self,
        claimed: Claimed,
        status: JobStatus,
        results: dict[int, BatchResult],
        beat: Callable[[], Awaitable[None]],
    ) -> JobStatus:
        req, job_id = claimed.request, claimed.job_id
        await self._check_live(req.collection_id)
        chunks = batches(iter_items(req, self.store, self.policy), self.batch_size)
        tomb = set(await self.store.alist(tombstone_prefix(req.collection_id)))
        # Uploads know their size at once; an import's total grows as its listing streams.
        known = len(set(req.source.image_ids)) if isinstance(req.source, ObjectsSource) else 0
        status.total, status.status, listed = known, "running", 0
        model_version: str | None = None
        n = 0
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            listed += len(chunk)
            status.total = max(known, listed)
            if n not in results:
                await self._check_live(req.collection_id)
                result, model_version = await self._batch(claimed, n, chunk, tomb)
                await self.queue.record_batch(job_id, n, result)
                results[n] = result
            await self._report(status, results)
            await beat()
            n += 1
        await self._check_live(req.collection_id)
        # Every model's index of the collection; the serving model's version is reported.
        manifest = await self.publisher.publish_models(req.collection_id, model_version, req.index_type)
        status.index_version = manifest.version if manifest else None
        status.status = "done" if status.done or not status.total else "failed"
        await self._report(status, results)
        return status

    async def _check_live(self, collection_id: str) -> None:
        if await asyncio.to_thread(is_deleted, self.store, collection_id):
            raise CollectionDeleted(collection_id)

    async def settle_deleted(self, collection_id: str) -> bool:
        """Remove what a job wrote for a collection deleted meanwhile; True when it was deleted."""
        if not await asyncio.to_thread(is_deleted, self.store, collection_id):
            return False
        await apurge_collection(self.store, self.catalog, collection_id)
        return True

    async def _report(
        self, status: JobStatus, results: dict[int, BatchResult], extra: list[JobItemError] | None = None
    ) -> None:
        status.done = sum(r.done for r in results.values())
        status.failed = sum(r.failed for r in results.values())
        errors = [*(extra or []), *(e for r in results.values() for e in r.errors)]
        status.errors = errors[:MAX_REPORTED_ERRORS]
        status.updated_at = time.time()
        await self.queue.put_status(status)

    async def _batch(
        self, claimed: Claimed, n: int, refs: list[str], tomb: set[str]
    ) -> tuple[BatchResult, str | None]:
        cid = claimed.request.collection_id
        errors: list[JobItemError] = []
        ids: list[str] = []
        try:
            loaded = await asyncio.to_thread(load_items, claimed.request, refs, self.catalog, self.policy)
        except CollectionNotFound as exc:  # deleted while this batch ran
            raise CollectionDeleted(cid) from exc
        for ref, record in zip(refs, loaded, strict=True):
            if isinstance(record, ItemError):
                errors.append(JobItemError(item=ref, code=record.code, message=record.message))
            elif record.image_id not in ids:
                ids.append(record.image_id)
        if not ids:
            return BatchResult(done=0, failed=len(errors), errors=errors), None
        keys = [image_key(cid, i) for i in ids]
        # Read after the catalog rows were written: a model switch that starts later lists them.
        routing = await asyncio.to_thread(read_routing, self.store)
        emb = await self.embedder.embed_keys(keys, routing.serving if routing else None)
        ok = [(iid, row) for iid, row in zip(ids, emb.rows, strict=True) if row is not None]
        for i, (code, message) in emb.errors.items():
            errors.append(JobItemError(item=ids[i], code=code, message=message))
        if ok:
            vectors = emb.vectors[[row for _, row in ok]]
            key = vector_batch_key(cid, emb.model_version, f"{claimed.job_id}-{n:05d}")
            await self.store.aput(key, pack_vectors([iid for iid, _ in ok], vectors))
            for other in routing.embedded[1:] if routing else []:  # the model built or kept too
                await self._embed_also(claimed, n, [keys[row] for _, row in ok], ok, other)
            await self._revive(cid, [iid for iid, _ in ok], tomb)
            if self.ocr is not None:  # read beside the job, which goes on without waiting
                self.ocr.submit(cid, [iid for iid, _ in ok])
        return BatchResult(done=len(ok), failed=len(errors), errors=errors), emb.model_version

    async def _embed_also(
        self, claimed: Claimed, n: int, keys: list[str], ok: list[tuple[str, int]], model_version: str
    ) -> None:
        """The same images by a second model (a switch's target, or the model kept for rollback):
        every image the serving model indexed must be in the other model's index too, so an image
        the second encoder cannot embed fails the batch (it is retried) rather than go missing."""
        emb = await self.embedder.embed_keys(keys, model_version)
        if emb.model_version != model_version or emb.errors:
            raise RuntimeError(
                f"model {model_version} did not embed batch {n} of job {claimed.job_id}: "
                f"{emb.model_version}, {len(emb.errors)} errors"
            )
        key = vector_batch_key(claimed.request.collection_id, model_version, f"{claimed.job_id}-{n:05d}")
        await self.store.aput(key, pack_vectors([iid for iid, _ in ok], emb.vectors))

    async def _revive(self, cid: str, ids: list[str], tomb: set[str]) -> None:
        """An image deleted and uploaded again is live again: drop its tombstone."""
        revived = [i for i in ids if tombstone_key(cid, i) in tomb]
        for iid in revived:
            await self.store.adelete(tombstone_key(cid, iid))
            tomb.discard(tombstone_key(cid, iid))
        if revived:
            gen = new_version()
            await self.store.aput(tombgen_key(cid), gen.encode())
            await self.signals.announce(IndexEvent(type="tombstones", collection_id=cid, value=gen))
