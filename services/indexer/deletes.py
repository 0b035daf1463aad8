"""Deletions: a durable tombstone and a new generation first, so searches drop the image at once.

The publisher later folds tombstones into a version (exact counts, compaction); tombstone
keys stay, so a rebuild from the stored vectors never brings a deleted image back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.common.index_signals import IndexEvent, IndexSignals
from services.common.schemas.indexer import DeleteResult
from services.common.shards import (
    collection_index,
    current_key,
    index_prefix,
    new_version,
    tombgen_key,
    tombstone_key,
    tombstone_prefix,
    vectors_prefix,
)
from services.common.storage import ObjectStore
from services.indexer.publisher import Publisher

log = logging.getLogger(__name__)


class Deleter:
    def __init__(self, store: ObjectStore, signals: IndexSignals, publisher: Publisher) -> None:
        self.store, self.signals, self.publisher = store, signals, publisher
        self._background: set[asyncio.Task[None]] = set()

    async def delete_image(self, collection_id: str, image_id: str) -> DeleteResult:
        await self.store.aput(tombstone_key(collection_id, image_id), b"")
        gen = new_version()
        await self.store.aput(tombgen_key(collection_id), gen.encode())
        await self.signals.announce(IndexEvent(type="tombstones", collection_id=collection_id, value=gen))
        self._fold_later(collection_id)
        info = await asyncio.to_thread(collection_index, self.store, collection_id)
        return DeleteResult(collection_id=collection_id, image_id=image_id, index_version=info.index_version)

    def _fold_later(self, collection_id: str) -> None:
        async def fold() -> None:
            try:
                await self.publisher.publish(collection_id)
            except Exception:  # the next publish folds it in; the delete itself already holds
                log.exception("folding deletions of %s into a version failed", collection_id)

        task = asyncio.create_task(fold())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def delete_collection(self, collection_id: str) -> DeleteResult:
        """Pointer first (replicas drop the collection), then everything under it; safe to retry."""
        await self.store.adelete(current_key(collection_id))
        await self.signals.announce(IndexEvent(type="dropped", collection_id=collection_id))
        for prefix in (
            index_prefix(collection_id),
            vectors_prefix(collection_id),
            tombstone_prefix(collection_id),
        ):
            for key in await self.store.alist(prefix):
                await self.store.adelete(key)
        await self.store.adelete(tombgen_key(collection_id))
        return DeleteResult(collection_id=collection_id)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
