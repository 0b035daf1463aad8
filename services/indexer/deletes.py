"""Deletions: a durable tombstone and a new generation first, so searches drop the image at once.

The publisher later folds tombstones into a version (exact counts, compaction), at most once
per `fold_interval_s` per collection however many deletes arrive; tombstone keys stay, so a
rebuild from the stored vectors never brings a deleted image back. A deleted collection
leaves one empty marker behind, so no job still running can bring it back either.
"""

from __future__ import annotations

import asyncio

from services.common.index_signals import IndexEvent, IndexSignals
from services.common.routing import read_routing, serving_index_id
from services.common.schemas.indexer import DeleteResult
from services.common.shards import (
    collection_index,
    current_key,
    deleted_key,
    new_version,
    tombgen_key,
    tombstone_key,
)
from services.common.storage import ObjectStore
from services.indexer.debounce import Debouncer
from services.indexer.publisher import CollectionDeleted, Publisher
from services.indexer.purge import apurge_index, index_ids_of


class Deleter:
    def __init__(
        self,
        store: ObjectStore,
        signals: IndexSignals,
        publisher: Publisher,
        fold_interval_s: float,
    ) -> None:
        self.store, self.signals, self.publisher = store, signals, publisher
        self.folds = Debouncer(fold_interval_s, self._fold, "folding deletions")

    async def _fold(self, collection_id: str) -> None:
        try:
            await self.publisher.publish_models(collection_id)  # every model's index of it
        except CollectionDeleted:
            return

    async def delete_image(self, collection_id: str, image_id: str) -> DeleteResult:
        await self.store.aput(tombstone_key(collection_id, image_id), b"")
        gen = new_version()
        await self.store.aput(tombgen_key(collection_id), gen.encode())
        await self.signals.announce(IndexEvent(type="tombstones", collection_id=collection_id, value=gen))
        self.folds.poke(collection_id)
        routing = await asyncio.to_thread(read_routing, self.store)
        serving = serving_index_id(routing, collection_id)
        info = await asyncio.to_thread(collection_index, self.store, serving)
        return DeleteResult(collection_id=collection_id, image_id=image_id, index_version=info.index_version)

    async def delete_collection(self, collection_id: str) -> DeleteResult:
        """Marker first (no job or publish may write it again), pointer next (replicas drop the
        collection), then everything under it; safe to retry."""
        await self.store.aput(deleted_key(collection_id), b"")
        for iid in await asyncio.to_thread(index_ids_of, self.store, collection_id):
            await self.store.adelete(current_key(iid))
            await self.signals.announce(IndexEvent(type="dropped", collection_id=iid))
        await apurge_index(self.store, collection_id)
        return DeleteResult(collection_id=collection_id)

    async def aclose(self) -> None:
        await self.folds.aclose()
