"""Removing everything of a deleted collection: index, vectors, tombstones, catalog, image bytes.

The deletion removes the index (the gateway removes the catalog); any job that then finds
its collection deleted removes both again, so whatever a racing job stored (vectors, an
import's images) is removed too. Safe to repeat.
"""

from __future__ import annotations

import asyncio

from services.common.catalog import Catalog
from services.common.shards import current_key, index_prefix, tombgen_key, tombstone_prefix, vectors_prefix
from services.common.storage import ObjectStore


def purge_index(store: ObjectStore, collection_id: str) -> None:
    """Blocking: pointer first (nothing serves it), then versions, vectors and tombstones."""
    store.delete(current_key(collection_id))
    for prefix in (
        index_prefix(collection_id),
        vectors_prefix(collection_id),
        tombstone_prefix(collection_id),
    ):
        for key in store.iter_keys(prefix):
            store.delete(key)
    store.delete(tombgen_key(collection_id))


def purge_collection(store: ObjectStore, catalog: Catalog, collection_id: str) -> None:
    """Blocking: the index, then the catalog's rows and every image byte under the collection (bytes
    whose row was never written too); the deleted marker stays."""
    purge_index(store, collection_id)
    catalog.delete_collection(collection_id)


async def apurge_index(store: ObjectStore, collection_id: str) -> None:
    await asyncio.to_thread(purge_index, store, collection_id)


async def apurge_collection(store: ObjectStore, catalog: Catalog, collection_id: str) -> None:
    await asyncio.to_thread(purge_collection, store, catalog, collection_id)
