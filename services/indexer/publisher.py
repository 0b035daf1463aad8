"""Publishing index versions: fold new vector batches and deletions into shards, move the pointer.

Each shard is a base segment plus small exact delta segments: new images go into a delta,
so unchanged segments keep their objects and replicas reuse them; a shard is rebuilt
(compacted) when deltas or deletions outgrow its base, or when the model version changes,
since vectors of two models never share an index. Objects are written first, then the
manifest, then the pointer, so a crash leaves the previous version current and intact.
A deleted collection is never published: the deletion marker is checked before building and
again after the pointer moved (the deletion writes its marker before removing the pointer,
so one of the two checks always sees it). Superseded versions are collected after a grace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from services.common.index_signals import IndexEvent, IndexSignals
from services.common.routing import data_collection, model_of_index, read_routing
from services.common.shards import (
    CurrentPointer,
    Manifest,
    ShardEntry,
    current_key,
    is_deleted,
    manifest_key,
    new_version,
    read_current,
    shard_of,
    tombstone_prefix,
    tombstones_digest,
    vectors_prefix,
)
from services.common.storage import ObjectStore, sha256_hex
from services.indexer.locks import Locks
from services.indexer.segments import SegmentIO, base_type
from services.indexer.versions_gc import collect_versions

log = logging.getLogger(__name__)
DELTA_MIN_ROWS = 1000
MAX_DELTAS = 8


class PublishConflict(Exception):
    """The pointer moved while this version was built (a lost lock); the publish is retried."""


class CollectionDeleted(Exception):
    """The collection was deleted: nothing of it may be published (or kept) any more."""


@dataclass(frozen=True)
class BuildConfig:
    shard_count: int = 4
    index_type: str = "auto"
    budget_bytes: int = 1 << 30
    flat_max: int = 20_000
    delta_max_fraction: float = 0.25
    tombstone_max_fraction: float = 0.2
    version_gc_grace_s: float = 600.0


@dataclass
class _Plan:
    cid: str
    mv: str
    cur: Manifest | None
    batches: list[str]
    tomb: set[str]
    index_type: str


class Publisher:
    def __init__(
        self,
        store: ObjectStore,
        signals: IndexSignals,
        locks: Locks,
        config: BuildConfig,
        after_commit: Callable[[str], None] | None = None,
    ) -> None:
        """`after_commit(cid)` is told of each new version (the app schedules a later collection)."""
        self.store, self.signals, self.locks, self.config = store, signals, locks, config
        self.after_commit = after_commit
        self.io = SegmentIO(store)

    async def publish(
        self, collection_id: str, model_version: str | None = None, index_type: str | None = None
    ) -> Manifest | None:
        """Fold everything stored for the collection into a new current version (or keep it).

        `collection_id` is an index id (`services.common.routing`): the collection's own id for the
        base model's index, `{collection}@{model}` for another model's."""
        for _ in range(3):
            async with self.locks.hold(f"publish-{collection_id}"):
                try:
                    manifest, changed = await asyncio.to_thread(
                        self._publish, collection_id, model_version, index_type
                    )
                except PublishConflict:
                    continue
                except CollectionDeleted:
                    await self.signals.announce(IndexEvent(type="dropped", collection_id=collection_id))
                    raise
            if changed and self.after_commit is not None:
                self.after_commit(collection_id)
            if manifest is not None:
                # Announced even when unchanged: a retry after an announce that failed (Redis
                # down or restarting) must still tell the replicas. Announcing is idempotent.
                await self.signals.announce(
                    IndexEvent(type="version", collection_id=collection_id, value=manifest.version)
                )
            return manifest
        raise PublishConflict(collection_id)

    async def publish_models(
        self, collection_id: str, model_version: str | None = None, index_type: str | None = None
    ) -> Manifest | None:
        """Publish every model's index of a collection the routing keeps (one without a routing,
        `model_version`'s); the serving model's last, and its manifest is returned."""
        routing = await asyncio.to_thread(read_routing, self.store)
        targets: list[tuple[str | None, str]] = [(model_version, collection_id)]
        if routing is not None:
            targets = [(mv, iid) for mv, iid in routing.index_ids(collection_id).items()]
        manifest = None
        for mv, iid in reversed(targets):
            manifest = await self.publish(iid, mv, index_type)
        return manifest

    def current_manifest(self, collection_id: str) -> Manifest | None:
        pointer = read_current(self.store, collection_id)
        if pointer is None:
            return None
        return Manifest.model_validate_json(
            self.io.read_verified(pointer.manifest_key, pointer.manifest_sha256)
        )

    def _model_version(self, iid: str, cur: Manifest | None, requested: str | None) -> str | None:
        named = model_of_index(iid)
        if named is not None:  # a second model's index: its id says which model
            if requested and requested != named:
                raise ValueError(f"index {iid} is model {named}'s, not {requested}'s")
            return named
        if requested:
            return requested
        if cur is not None:
            return cur.model_version
        keys = self.store.list_keys(vectors_prefix(iid))
        return keys[-1].split("/")[2] if keys else None

    def _publish(
        self, iid: str, requested_mv: str | None, index_type: str | None
    ) -> tuple[Manifest | None, bool]:
        # `iid` is an index id (routing.py): its collection's vectors and tombstones are read.
        cid = data_collection(iid)
        if is_deleted(self.store, cid):
            raise CollectionDeleted(cid)
        cur = self.current_manifest(iid)
        mv = self._model_version(iid, cur, requested_mv)
        if mv is None:
            return cur, False
        tomb_keys = self.store.list_keys(tombstone_prefix(cid))
        plan = _Plan(
            iid,
            mv,
            cur,
            self.store.list_keys(vectors_prefix(cid, mv)),
            {k.rsplit("/", 1)[1] for k in tomb_keys},
            index_type or (cur.index_type if cur else self.config.index_type),
        )
        if cur is not None and (
            cur.model_version != mv
            or cur.shard_count != self.config.shard_count
            or cur.index_type != plan.index_type
        ):
            plan.cur = None  # a new model, shard count or index type: a fresh index, never a mix
        manifest = self._build(plan)
        if manifest is None:
            return cur, False
        self._commit(manifest, cur)
        collect_versions(self.store, iid, self.config.version_gc_grace_s)
        return manifest, True

    def _build(self, plan: _Plan) -> Manifest | None:
        cfg, cur = self.config, plan.cur
        included = set(cur.batches) if cur else set()
        new_keys = [k for k in plan.batches if k not in included]
        present = [self.io.shard_ids(cur, s) for s in range(cfg.shard_count)]
        present_sets = [set().union(*segs) if segs else set() for segs in present]
        new_by_shard: list[dict[str, np.ndarray]] = [{} for _ in range(cfg.shard_count)]
        for iid, vec in self.io.load_batches(new_keys).items():
            s = shard_of(iid, cfg.shard_count)
            if iid not in plan.tomb and iid not in present_sets[s]:
                new_by_shard[s][iid] = vec
        if (
            cur
            and not any(new_by_shard)
            and tombstones_digest(sorted(plan.tomb & set().union(*present_sets))) == cur.tombstones_sha256
        ):
            return None
        version, everything = new_version(), None
        shards, dim = [], cur.dim if cur else 0
        for s in range(cfg.shard_count):
            entry = cur.shards[s] if cur else ShardEntry(shard=s)
            new = new_by_shard[s]
            base = sum(g.count for g in entry.segments if g.kind == "base")
            deltas = [g for g in entry.segments if g.kind == "delta"]
            delta_rows = sum(g.count for g in deltas) + len(new)
            dead = len(plan.tomb & present_sets[s])
            rebuild = (
                cur is None
                or not entry.segments
                or len(deltas) + 1 > MAX_DELTAS
                or delta_rows > max(DELTA_MIN_ROWS, cfg.delta_max_fraction * base)
                or dead > cfg.tombstone_max_fraction * max(1, entry.rows)
            )
            if rebuild:
                if everything is None:
                    everything = self.io.load_batches(plan.batches)
                live = sorted(
                    i for i in everything if i not in plan.tomb and shard_of(i, cfg.shard_count) == s
                )
                entry = self._segment_shard(plan, version, s, live, everything)
                present_sets[s] = set(live)
            elif new:
                ids = sorted(new)
                seg = self.io.write_segment(
                    plan.cid,
                    version,
                    s,
                    len(entry.segments),
                    ids,
                    np.stack([new[i] for i in ids]),
                    "delta",
                    "Flat",
                )
                entry = ShardEntry(shard=s, segments=[*entry.segments, seg])
                present_sets[s] |= set(ids)
            shards.append(entry)
            dim = dim or self._dim(new, everything)
        rows = sum(e.rows for e in shards)
        dead_ids = sorted(plan.tomb & set().union(*present_sets))
        return Manifest(
            collection_id=plan.cid,
            version=version,
            parent=cur.version if cur else None,
            model_version=plan.mv,
            dim=dim,
            shard_count=cfg.shard_count,
            index_type=plan.index_type,
            count=rows - len(dead_ids),
            shards=shards,
            batches=plan.batches,
            dead=len(dead_ids),
            tombstones_sha256=tombstones_digest(dead_ids),
            created_at=time.time(),
        )

    @staticmethod
    def _dim(new: dict[str, np.ndarray], everything: dict[str, np.ndarray] | None) -> int:
        for source in (new, everything or {}):
            for vec in source.values():
                return int(vec.shape[0])
        return 0

    def _segment_shard(
        self, plan: _Plan, version: str, s: int, ids: list[str], vectors: dict[str, np.ndarray]
    ) -> ShardEntry:
        if not ids:
            return ShardEntry(shard=s)
        x = np.stack([vectors[i] for i in ids])
        cfg = self.config
        index_type = base_type(plan.index_type, len(ids), x.shape[1], cfg.budget_bytes, cfg.flat_max)
        return ShardEntry(
            shard=s, segments=[self.io.write_segment(plan.cid, version, s, 0, ids, x, "base", index_type)]
        )

    def _commit(self, manifest: Manifest, parent: Manifest | None) -> None:
        data = manifest.model_dump_json().encode()
        key = manifest_key(manifest.collection_id, manifest.version)
        self.store.put(key, data, "application/json")
        now = read_current(self.store, manifest.collection_id)
        if (now.version if now else None) != (parent.version if parent else None):
            raise PublishConflict(manifest.collection_id)
        pointer = CurrentPointer(
            collection_id=manifest.collection_id,
            version=manifest.version,
            manifest_key=key,
            manifest_sha256=sha256_hex(data),
            model_version=manifest.model_version,
            count=manifest.count,
            shard_count=manifest.shard_count,
            updated_at=time.time(),
        )
        self.store.put(
            current_key(manifest.collection_id), pointer.model_dump_json().encode(), "application/json"
        )
        if is_deleted(self.store, data_collection(manifest.collection_id)):  # deleted while built
            self.store.delete(current_key(manifest.collection_id))
            raise CollectionDeleted(manifest.collection_id)
        log.info(
            "collection %s: version %s, %d images", manifest.collection_id, manifest.version, manifest.count
        )
