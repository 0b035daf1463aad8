"""Writing embedded images into a collection in bulk: catalog rows, vector batches, one publish.

Used by the embeddings import (`bulk_import`) for vectors computed elsewhere, and by bulk
embedding on Ray (`bulk`), which share here what they open (`open_publishing`) and what they
refuse (`check_target`). Order per chunk:
catalog rows first, then the vector batch, so a batch in storage always has its rows; the index
version is published once, after the last chunk. Batch keys come from the source and the chunk
(`bulk-{source}-{part}-{chunk}`), so a rerun writes the same objects, and a chunk whose batch is
already stored is skipped whole: an interrupted import resumes where it stopped and never
duplicates an image (ids are deterministic, the publisher keeps one vector per id). Images
deleted from the collection stay deleted: their ids are left out of every batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from services.common.catalog import Catalog, ReferencedImage, open_catalog
from services.common.clients import EncoderClient
from services.common.index_signals import open_signals, redis_namespace
from services.common.routing import read_routing, serving_index_id
from services.common.shards import (
    CurrentPointer,
    Manifest,
    is_deleted,
    pack_vectors,
    read_current,
    tombstone_prefix,
    vector_batch_key,
)
from services.common.storage import ObjectStore, open_store
from services.indexer.app import build_config
from services.indexer.locks import open_locks
from services.indexer.publisher import CollectionDeleted, Publisher
from services.indexer.settings import IndexerSettings


class Refused(Exception):
    """What a bulk command will not do, said to the operator (exit status 2)."""


@dataclass(frozen=True)
class Publishing:
    """What a bulk command writes with: storage, the catalog, and a publisher of index versions."""

    store: ObjectStore
    catalog: Catalog
    publisher: Publisher


@contextlib.asynccontextmanager
async def open_publishing(settings: IndexerSettings) -> AsyncIterator[Publishing]:
    """The indexer's storage, catalog, signals and locks, as its service opens them, closed after."""
    store = open_store(settings.storage)
    catalog = await asyncio.to_thread(open_catalog, settings.catalog, store)
    redis_url = settings.cache.redis_url
    signals = open_signals(redis_url, store, settings.storage, settings.cache.timeout_s)
    locks = open_locks(
        redis_url,
        redis_namespace(settings.storage),
        settings.queue_path.parent / "locks",
        settings.lock_ttl_s,
    )
    try:
        yield Publishing(store, catalog, Publisher(store, signals, locks, build_config(settings)))
    finally:
        for closing in (locks, signals, catalog, store):
            await closing.aclose()


async def serving_model(settings: IndexerSettings) -> tuple[str, int] | None:
    """The version and dimension of the model the encoder serves, or None when it does not answer."""
    encoder = EncoderClient(settings.encoder_url, settings.http_timeout_s)
    try:
        info = await encoder.model_info()
    except Exception:  # not running: the command says so, or the operator names the model
        return None
    finally:
        await encoder.aclose()
    return info.version, info.dim


async def check_target(
    catalog: Catalog, collection_id: str, version: str, serving: str | None, vectors: str
) -> CurrentPointer | None:
    """Refuse a collection that does not exist or was deleted, vectors of a model other than the
    one the encoder serves (`serving`, None when it does not answer) or than the collection is
    indexed with; else the collection's current index pointer, if it has one. `vectors` says
    whose vectors they are, for the message ("the vectors are of model", "CKPT is model")."""
    if await asyncio.to_thread(catalog.get_collection, collection_id) is None:
        raise Refused(f"collection {collection_id} does not exist (create it through the API first)")
    if await asyncio.to_thread(is_deleted, catalog.store, collection_id):
        raise Refused(f"collection {collection_id} was deleted")
    if serving is not None and serving != version:
        raise Refused(
            f"{vectors} {version} but the encoder serves {serving}: queries would never be compared with them"
        )
    routing = await asyncio.to_thread(read_routing, catalog.store)
    if routing is not None and len(routing.embedded) > 1:
        raise Refused(
            "a model switch is running or keeps a previous model; bulk writes embed by one model, so "
            "finish the switch first (python -m services.indexer.switch_model --collect)"
        )
    iid = serving_index_id(routing, collection_id, version)
    pointer = await asyncio.to_thread(read_current, catalog.store, iid)
    if pointer is not None and pointer.model_version != version:
        raise Refused(
            f"collection {collection_id} is indexed with model {pointer.model_version}, not {version}"
        )
    return pointer


@dataclass
class BulkReport:
    collection_id: str
    model_version: str
    images: int = 0  # rows read
    written: int = 0  # rows written into vector batches this run
    resumed: int = 0  # rows of chunks a previous run had already written
    kept_deleted: int = 0  # rows of images deleted from the collection, left out
    rejected: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    publish_s: float = 0.0
    index_version: str | None = None
    index_count: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "collection_id": self.collection_id,
            "model_version": self.model_version,
            "images": self.images,
            "written": self.written,
            "resumed": self.resumed,
            "kept_deleted": self.kept_deleted,
            "rejected": dict(self.rejected),
            "batches": self.batches,
            "seconds": round(self.seconds, 2),
            "publish_s": round(self.publish_s, 2),
            "images_per_s": round(self.images / self.seconds, 1) if self.seconds else 0.0,
            "index_version": self.index_version,
            "index_count": self.index_count,
        }


class BulkSink:
    def __init__(
        self, catalog: Catalog, publisher: Publisher, collection_id: str, model_version: str, source: str
    ) -> None:
        self.catalog, self.store, self.publisher = catalog, catalog.store, publisher
        self.cid, self.mv, self.source = collection_id, model_version, source
        self.report = BulkReport(collection_id, model_version)
        self._tomb: set[str] | None = None

    def batch_key(self, part: int, chunk: int) -> str:
        return vector_batch_key(self.cid, self.mv, f"bulk-{self.source}-{part:05d}-{chunk:05d}")

    async def _deleted_ids(self) -> set[str]:
        if self._tomb is None:
            prefix = tombstone_prefix(self.cid)
            self._tomb = {k[len(prefix) :] for k in await self.store.alist(prefix)}
        return self._tomb

    async def already_written(self, part: int, chunk: int) -> bool:
        return await asyncio.to_thread(self.store.stat, self.batch_key(part, chunk)) is not None

    async def write_references(
        self, part: int, chunk: int, images: list[ReferencedImage], vectors: np.ndarray
    ) -> None:
        """Rows for images known by path or URL, then their vectors (`vectors[i]` is `images[i]`)."""
        ids = await asyncio.to_thread(self.catalog.add_referenced_images, self.cid, images)
        await self._write(part, chunk, ids, vectors)

    async def write_catalogued(self, part: int, chunk: int, ids: list[str], vectors: np.ndarray) -> None:
        """Vectors of images the catalog already holds; ids it does not know are rejected."""
        known = await asyncio.to_thread(self.catalog.get_images, ids)
        keep = [i for i, iid in enumerate(ids) if iid in known and known[iid].collection_id == self.cid]
        if len(keep) < len(ids):
            self.report.rejected["not_in_collection"] += len(ids) - len(keep)
        await self._write(part, chunk, [ids[i] for i in keep], vectors[keep])

    async def _write(self, part: int, chunk: int, ids: list[str], vectors: np.ndarray) -> None:
        if await asyncio.to_thread(is_deleted, self.store, self.cid):
            raise CollectionDeleted(self.cid)
        dead = await self._deleted_ids()
        live: dict[str, int] = {}
        for row, iid in enumerate(ids):  # one vector per id (the first), deleted ids left out
            if iid in dead:
                self.report.kept_deleted += 1
            else:
                live.setdefault(iid, row)
        if live:
            data = pack_vectors(list(live), vectors[list(live.values())])
            await self.store.aput(self.batch_key(part, chunk), data)
            self.report.batches += 1
        self.report.written += len(live)

    def resumed(self, rows: int) -> None:
        self.report.resumed += rows

    async def publish(self, index_type: str | None = None) -> Manifest | None:
        started = time.perf_counter()
        routing = await asyncio.to_thread(read_routing, self.catalog.store)
        iid = serving_index_id(routing, self.cid, self.mv)
        manifest = await self.publisher.publish(iid, self.mv, index_type)
        self.report.publish_s = time.perf_counter() - started
        self.report.seconds = time.perf_counter() - self.report.started
        if manifest is not None:
            self.report.index_version, self.report.index_count = manifest.version, manifest.count
        return manifest
