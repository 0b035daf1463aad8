"""Reading vector batches and segment id lists, writing segments: the publisher's storage side.

Segments and batches are immutable once written, so their contents are cached by key.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np

from services.common.shards import (
    Manifest,
    SegmentEntry,
    pack_ids,
    segment_keys,
    unpack_ids,
    unpack_vectors,
)
from services.common.storage import ChecksumMismatch, ObjectStore, sha256_hex
from services.vector_index.build import build_index, resolve_index_type, serialize

_IVF_RE = re.compile(r"IVF(\d+)")


def trainable_type(index_type: str, n: int) -> str:
    """An IVF type that `n` vectors cannot train (39 per list) falls back to exact Flat."""
    match = _IVF_RE.search(index_type)
    return "Flat" if match and n < 39 * int(match.group(1)) else index_type


class SegmentIO:
    def __init__(self, store: ObjectStore, cache_items: int = 256) -> None:
        self.store = store
        self._ids: OrderedDict[str, list[str]] = OrderedDict()
        self._cache_items = cache_items
        self._lock = threading.Lock()

    def read_verified(self, key: str, sha256: str) -> bytes:
        data = self.store.get(key)
        if sha256_hex(data) != sha256:
            raise ChecksumMismatch(f"{key}: sha256 differs from the manifest")
        return data

    def segment_ids(self, seg: SegmentEntry) -> list[str]:
        with self._lock:
            cached = self._ids.get(seg.ids_key)
        if cached is not None:
            return cached
        ids = unpack_ids(self.read_verified(seg.ids_key, seg.ids_sha256))
        with self._lock:
            self._ids[seg.ids_key] = ids
            while len(self._ids) > self._cache_items:
                self._ids.popitem(last=False)
        return ids

    def shard_ids(self, manifest: Manifest | None, shard: int) -> list[list[str]]:
        if manifest is None or shard >= len(manifest.shards):
            return []
        return [self.segment_ids(seg) for seg in manifest.shards[shard].segments]

    def load_batches(self, keys: list[str]) -> dict[str, np.ndarray]:
        """id -> vector over the batches; an id in several batches keeps one vector."""
        out: dict[str, np.ndarray] = {}
        for key in sorted(keys):
            ids, vectors = unpack_vectors(self.store.get(key))
            out.update(zip(ids, vectors, strict=True))
        return out

    def write_segment(
        self,
        collection_id: str,
        version: str,
        shard: int,
        seg: int,
        ids: list[str],
        vectors: np.ndarray,
        kind: str,
        index_type: str,
    ) -> SegmentEntry:
        index_type = trainable_type(index_type, len(ids))
        data = serialize(build_index(vectors, index_type))
        id_bytes = pack_ids(ids)
        key, ids_key = segment_keys(collection_id, version, shard, seg)
        self.store.put(key, data)
        self.store.put(ids_key, id_bytes)
        entry = SegmentEntry(
            key=key,
            ids_key=ids_key,
            sha256=sha256_hex(data),
            ids_sha256=sha256_hex(id_bytes),
            count=len(ids),
            index_type=index_type,
            kind="base" if kind == "base" else "delta",
        )
        with self._lock:
            self._ids[ids_key] = list(ids)
        return entry


def base_type(spec: str, n: int, dim: int, budget_bytes: int, flat_max: int) -> str:
    return trainable_type(resolve_index_type(spec, n, dim, budget_bytes, flat_max), n)
