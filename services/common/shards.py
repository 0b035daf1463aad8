"""Shard assignment, storage key layout and manifest models of the sharded index.

Pure Python (no faiss) so the gateway can read index versions and image counts cheaply.
Layout in object storage, per collection `cid` and model version `mv`:

- `vectors/{cid}/{mv}/{batch}.npz` — ids and float32 vectors, the source of truth;
- `index/{cid}/{version}/manifest.json` and `index/{cid}/{version}/s{shard}-{seg}.faiss|.ids`;
- `index-current/{cid}.json` — the pointer to the current manifest, moved last;
- `tombstones/{cid}/{image_id}` — deleted images, kept so a rebuild never resurrects one;
- `index-state/tombgen/{cid}` — generation of the tombstone set, changed on every delete;
- `index-state/deleted/{cid}` — an empty marker: the collection was deleted, for good (ids are
  never reused), so no job or publish still running can bring it back.
"""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from services.common.storage import ObjectNotFound, ObjectStore

CURRENT_PREFIX = "index-current/"
_POINTER_SUFFIX = ".json"
EVENTS_CHANNEL = "timanh:index:events"


def shard_of(image_id: str, shard_count: int) -> int:
    """A stable shard for an id: the same on every machine and Python run (no `hash()`)."""
    digest = hashlib.blake2b(image_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count


def new_version() -> str:
    """Sortable by creation time, unique across workers."""
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"


def vectors_prefix(collection_id: str, model_version: str | None = None) -> str:
    return f"vectors/{collection_id}/" + (f"{model_version}/" if model_version else "")


def vector_batch_key(collection_id: str, model_version: str, batch: str) -> str:
    return f"{vectors_prefix(collection_id, model_version)}{batch}.npz"


def index_prefix(collection_id: str) -> str:
    return f"index/{collection_id}/"


def manifest_key(collection_id: str, version: str) -> str:
    return f"{index_prefix(collection_id)}{version}/manifest.json"


def segment_keys(collection_id: str, version: str, shard: int, seg: int) -> tuple[str, str]:
    base = f"{index_prefix(collection_id)}{version}/s{shard}-{seg}"
    return base + ".faiss", base + ".ids"


def current_key(collection_id: str) -> str:
    return f"{CURRENT_PREFIX}{collection_id}{_POINTER_SUFFIX}"


def collection_of_current_key(key: str) -> str | None:
    """The collection whose pointer `key` is (`current_key` read backwards), or None for another key."""
    if not (key.startswith(CURRENT_PREFIX) and key.endswith(_POINTER_SUFFIX)):
        return None
    return key[len(CURRENT_PREFIX) : -len(_POINTER_SUFFIX)] or None


def tombstone_prefix(collection_id: str) -> str:
    return f"tombstones/{collection_id}/"


def tombgen_key(collection_id: str) -> str:
    return f"index-state/tombgen/{collection_id}"


def deleted_key(collection_id: str) -> str:
    return f"index-state/deleted/{collection_id}"


def is_deleted(store: ObjectStore, collection_id: str) -> bool:
    return store.stat(deleted_key(collection_id)) is not None


def version_time(version: str) -> float:
    """When a version (`new_version()`) was created, in seconds since the epoch."""
    head = version.split("-", 1)[0]
    return int(head) / 1e9 if head.isdecimal() else 0.0


def tombstones_digest(dead_ids: list[str]) -> str:
    """One hash of a sorted id set: what a manifest records instead of every deleted id."""
    return hashlib.sha256("\n".join(sorted(dead_ids)).encode()).hexdigest()


class SegmentEntry(BaseModel):
    """One immutable FAISS index object of a shard with the ids of its rows."""

    key: str
    ids_key: str
    sha256: str
    ids_sha256: str
    count: int
    index_type: str
    kind: Literal["base", "delta"]


class ShardEntry(BaseModel):
    shard: int
    segments: list[SegmentEntry] = Field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(s.count for s in self.segments)


class Manifest(BaseModel):
    """Everything a replica needs to load one version; written before the pointer moves."""

    collection_id: str
    version: str
    parent: str | None = None
    model_version: str
    dim: int
    metric: Literal["ip"] = "ip"
    shard_count: int
    index_type: str = Field(description="Configured type of base segments (`auto` resolved per shard)")
    count: int = Field(description="Live images: rows minus tombstoned rows")
    shards: list[ShardEntry]
    batches: list[str] = Field(description="Vector batch keys folded into this version")
    dead: int = Field(0, description="Deleted ids still present in segments (masked by tombstones)")
    tombstones_sha256: str = Field(
        tombstones_digest([]), description="Digest of those ids: the manifest stays O(1) in deletions"
    )
    created_at: float


class CurrentPointer(BaseModel):
    collection_id: str
    version: str
    manifest_key: str
    manifest_sha256: str
    model_version: str
    count: int
    shard_count: int
    updated_at: float


class CollectionIndex(BaseModel):
    """What the gateway needs per collection: a cache-key version and an image count."""

    collection_id: str
    version: str | None = Field(description="Manifest version; None before the first build")
    index_version: str | None = Field(description="Version plus tombstone generation: changes on delete")
    model_version: str | None
    image_count: int
    shard_count: int | None


def pack_ids(ids: list[str]) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(ids, dtype=np.str_), allow_pickle=False)
    return buf.getvalue()


def unpack_ids(data: bytes) -> list[str]:
    return [str(x) for x in np.load(io.BytesIO(data), allow_pickle=False).tolist()]


def pack_vectors(ids: list[str], vectors: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, ids=np.asarray(ids, dtype=np.str_), vectors=np.ascontiguousarray(vectors, np.float32))
    return buf.getvalue()


def unpack_vectors(data: bytes) -> tuple[list[str], np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return [str(x) for x in npz["ids"].tolist()], np.asarray(npz["vectors"], np.float32)


def unpack_vector_ids(data: bytes) -> list[str]:
    """The ids of a vector batch alone (the vectors are not read)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return [str(x) for x in npz["ids"].tolist()]


def read_current(store: ObjectStore, collection_id: str) -> CurrentPointer | None:
    try:
        return CurrentPointer.model_validate_json(store.get(current_key(collection_id)))
    except ObjectNotFound:
        return None


def read_tombgen(store: ObjectStore, collection_id: str) -> str:
    try:
        return store.get(tombgen_key(collection_id)).decode()
    except ObjectNotFound:
        return "0"


def collection_index(store: ObjectStore, collection_id: str) -> CollectionIndex:
    """Two small reads; blocking, so async callers run it on a worker thread."""
    pointer = read_current(store, collection_id)
    gen = read_tombgen(store, collection_id)
    if pointer is None:
        return CollectionIndex(
            collection_id=collection_id,
            version=None,
            index_version=None,
            model_version=None,
            image_count=0,
            shard_count=None,
        )
    return CollectionIndex(
        collection_id=collection_id,
        version=pointer.version,
        index_version=f"{pointer.version}.{gen}",
        model_version=pointer.model_version,
        image_count=pointer.count,
        shard_count=pointer.shard_count,
    )


def tombstone_key(collection_id: str, image_id: str) -> str:
    return f"{tombstone_prefix(collection_id)}{image_id}"
