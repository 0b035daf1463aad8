"""The collections a replica holds: loaded, verified, swapped without pausing queries.

A version is loaded beside the one serving (unchanged segments are reused, not fetched);
only when every held segment verified against the manifest's sha256 does one reference
swap make it current. In-flight queries keep the snapshot they started with. A corrupt or
missing object refuses the whole version: the last good one keeps serving and the failure
is reported (readiness, metrics) until a good version arrives.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.common.routing import data_collection
from services.common.shards import (
    CURRENT_PREFIX,
    CurrentPointer,
    Manifest,
    collection_of_current_key,
    read_current,
    tombstone_prefix,
    unpack_ids,
)
from services.common.storage import ChecksumMismatch, ObjectStore, StorageError, sha256_hex
from services.search.segment import LoadedSegment
from services.search.view import MergedView, ViewConfig, ViewKeeper, ViewKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldCollection:
    manifest: Manifest
    segments: tuple[LoadedSegment, ...]

    @property
    def rows(self) -> int:
        return sum(s.index.ntotal for s in self.segments)


@dataclass
class Failure:
    version: str
    reason: str


@dataclass
class _Metrics:
    registry: CollectorRegistry
    failures: Counter = field(init=False)
    failed: Gauge = field(init=False)
    vectors: Gauge = field(init=False)
    view_rows: Gauge = field(init=False)

    def __post_init__(self) -> None:
        self.failures = Counter(
            "search_index_load_failures",
            "Index versions refused (checksum, missing object)",
            ["collection"],
            registry=self.registry,
        )
        self.failed = Gauge(
            "search_index_load_failed",
            "1 while the current version of a collection is refused",
            ["collection"],
            registry=self.registry,
        )
        self.vectors = Gauge(
            "search_index_vectors", "Rows held per collection", ["collection"], registry=self.registry
        )
        self.view_rows = Gauge(
            "search_view_rows",
            "Rows of the merged view of each model version and dim",
            ["view"],
            registry=self.registry,
        )


class IndexHolder:
    def __init__(
        self,
        store: ObjectStore,
        shard_count: int,
        shards: list[int],
        registry: CollectorRegistry,
        loader: ThreadPoolExecutor,
        views: ViewConfig | None = None,
    ) -> None:
        """`views`: keep merged views over the held collections (None: search each on its own)."""
        self.store, self.shard_count, self.shards = store, shard_count, set(shards)
        # Keyed by index id (`services.common.routing`): a collection indexed by two models (during
        # a model switch) is held twice. Its deleted ids are one set, keyed by the collection.
        self.held: dict[str, HeldCollection] = {}
        self.tombs: dict[str, tuple[str, frozenset[str]]] = {}
        self._indexes: dict[str, set[str]] = {}  # collection -> the index ids of it held
        self.failures: dict[str, Failure] = {}
        self.synced_once = False
        self._locks: dict[str, asyncio.Lock] = {}
        self._loader = loader
        self._metrics = _Metrics(registry)
        self.views = (
            ViewKeeper(views, loader, lambda: self.held, self._views_built) if views is not None else None
        )

    def _views_built(self, views: dict[ViewKey, MergedView]) -> None:
        self._metrics.view_rows.clear()
        for (model_version, dim), view in views.items():
            self._metrics.view_rows.labels(f"{model_version}/{dim}").set(view.rows)

    def _changed(self) -> None:
        if self.views is not None:
            self.views.changed()

    def _lock(self, cid: str) -> asyncio.Lock:
        return self._locks.setdefault(cid, asyncio.Lock())

    async def sync(self, cid: str, retry_failed: bool = False) -> None:
        """Make the current version of `cid` the held one, single-flight per collection."""
        async with self._lock(cid):
            pointer = await asyncio.to_thread(read_current, self.store, cid)
            if pointer is None:
                self.drop(cid)
                return
            held = self.held.get(cid)
            if held is not None and held.manifest.version == pointer.version:
                return
            failed = self.failures.get(cid)
            if failed is not None and failed.version == pointer.version and not retry_failed:
                return
            loop = asyncio.get_running_loop()
            try:
                new = await loop.run_in_executor(self._loader, self._load, pointer, held)
            except (StorageError, ValueError, RuntimeError) as exc:
                self._refuse(cid, pointer.version, f"{type(exc).__name__}: {exc}"[:300])
                return
            self.held[cid] = new
            self._indexes.setdefault(data_collection(cid), set()).add(cid)
            self._changed()
            self.failures.pop(cid, None)
            self._metrics.failed.labels(cid).set(0)
            self._metrics.vectors.labels(cid).set(new.rows)
            if data_collection(cid) not in self.tombs:
                await self.sync_tombs(data_collection(cid), None)
            log.info("collection %s: serving version %s (%d rows here)", cid, pointer.version, new.rows)

    def _refuse(self, cid: str, version: str, reason: str) -> None:
        log.error("collection %s: version %s refused: %s", cid, version, reason)
        self.failures[cid] = Failure(version, reason)
        self._metrics.failures.labels(cid).inc()
        self._metrics.failed.labels(cid).set(1)

    def _verified(self, key: str, sha256: str) -> bytes:
        data = self.store.get(key)
        if sha256_hex(data) != sha256:
            raise ChecksumMismatch(f"{key}: sha256 differs from the manifest")
        return data

    def _load(self, pointer: CurrentPointer, held: HeldCollection | None) -> HeldCollection:
        manifest = Manifest.model_validate_json(self._verified(pointer.manifest_key, pointer.manifest_sha256))
        if manifest.shard_count != self.shard_count:
            raise ValueError(
                f"index has {manifest.shard_count} shards, this replica expects {self.shard_count}"
            )
        reuse = {s.entry.key: s for s in held.segments} if held else {}
        segments = []
        for shard in manifest.shards:
            if shard.shard not in self.shards:
                continue
            for entry in shard.segments:
                loaded = reuse.get(entry.key)
                if loaded is None or loaded.entry.sha256 != entry.sha256:
                    ids = unpack_ids(self._verified(entry.ids_key, entry.ids_sha256))
                    loaded = LoadedSegment.load(entry, self._verified(entry.key, entry.sha256), ids)
                segments.append(loaded)
        return HeldCollection(manifest, tuple(segments))

    async def sync_tombs(self, collection_id: str, gen: str | None) -> None:
        """Reload the deleted ids of a collection (storage is their durable home)."""
        keys = await self.store.alist(tombstone_prefix(collection_id))
        self.tombs[collection_id] = (gen or "", frozenset(k.rsplit("/", 1)[1] for k in keys))

    def tomb_gen(self, cid: str) -> str | None:
        """The tombstone generation applied to an index id's (or collection's) deleted ids."""
        entry = self.tombs.get(data_collection(cid))
        return entry[0] if entry else None

    def deleted(self, cid: str) -> frozenset[str]:
        """The deleted ids masked in an index id's results."""
        entry = self.tombs.get(data_collection(cid))
        return entry[1] if entry else frozenset()

    def collections(self) -> list[str]:
        """The collections of which at least one index is held."""
        return sorted(self._indexes)

    def drop(self, cid: str) -> None:
        """Drop one index id (its collection's deleted ids go with its last held index)."""
        if self.held.pop(cid, None) is not None:
            log.info("collection %s dropped", cid)
            self._changed()
        owner = data_collection(cid)
        held = self._indexes.get(owner, set())
        held.discard(cid)
        if not held:
            self._indexes.pop(owner, None)
            self.tombs.pop(owner, None)
        self.failures.pop(cid, None)
        self._metrics.vectors.labels(cid).set(0)
        self._metrics.failed.labels(cid).set(0)

    async def sync_all(self) -> None:
        """Polling: every collection with a pointer, retrying refused versions; drop the gone."""
        keys = await self.store.alist(CURRENT_PREFIX)
        present = {cid for key in keys if (cid := collection_of_current_key(key)) is not None}
        for cid in sorted(present):
            try:
                await self.sync(cid, retry_failed=True)
            except StorageError as exc:
                log.warning("sync of %s failed: %s", cid, exc)
        for cid in set(self.held) - present:
            self.drop(cid)
        self.synced_once = True

    async def ready(self) -> str | None:
        return None if self.synced_once else "the first index sync has not finished"

    async def integrity(self) -> str | None:
        if not self.failures:
            return None
        return "; ".join(f"{cid}@{f.version}: {f.reason}" for cid, f in sorted(self.failures.items()))[:1000]
