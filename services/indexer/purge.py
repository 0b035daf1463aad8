"""Removing everything of a deleted collection: index, vectors, tombstones, catalog, image bytes.

The deletion removes the index (the gateway removes the catalog); any job that then finds
its collection deleted removes both again, so whatever a racing job stored (vectors, an
import's images) is removed too. Safe to repeat.
"""

from __future__ import annotations

import asyncio

from services.common.catalog import Catalog
from services.common.routing import MODEL_SEP
from services.common.shards import (
    collection_of_current_key,
    current_key,
    index_prefix,
    tombgen_key,
    tombstone_prefix,
    vectors_prefix,
)
from services.common.storage import ObjectStore


def index_ids_of(store: ObjectStore, collection_id: str) -> list[str]:
    """Blocking: the index ids of every model's index the collection has a pointer for (and its own)."""
    others = store.list_keys(current_key(collection_id + MODEL_SEP)[: -len(".json")])
    return [collection_id, *(i for k in others if (i := collection_of_current_key(k)) is not None)]


def purge_model_index(store: ObjectStore, iid: str) -> None:
    """Blocking: one index id's pointer, then its versions (not the collection's vectors)."""
    store.delete(current_key(iid))
    for key in store.iter_keys(index_prefix(iid)):
        store.delete(key)


def purge_index(store: ObjectStore, collection_id: str) -> None:
    """Blocking: pointers first (nothing serves them), then versions, vectors and tombstones.
    Other models' versions are found by their folders too: their pointers may be gone already."""
    for iid in index_ids_of(store, collection_id):
        purge_model_index(store, iid)
    for prefix in (
        index_prefix(collection_id + MODEL_SEP)[:-1],  # `index/{cid}@`: every other model's versions
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
