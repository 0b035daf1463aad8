"""Deletes coalesce into one fold per interval; manifests stay O(1) in deletions; superseded
versions are collected after the grace period, so a collection holds at most two."""

from __future__ import annotations

import time
from pathlib import Path

from services.common.index_signals import StoreSignals
from services.common.shards import Manifest, index_prefix, manifest_key, read_current
from services.common.storage.local import LocalObjectStore
from services.indexer.deletes import Deleter
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher
from services.indexer.versions_gc import collect_versions
from tests.support.index_data import clustered, ids_for, write_batches

CID = "col1"


def versions(store: LocalObjectStore) -> list[str]:
    return sorted(k.split("/")[2] for k in store.list_keys(index_prefix(CID)) if k.endswith("manifest.json"))


def current_manifest(store: LocalObjectStore) -> tuple[Manifest, bytes]:
    pointer = read_current(store, CID)
    assert pointer is not None
    raw = store.get(pointer.manifest_key)
    return Manifest.model_validate_json(raw), raw


def publisher_for(store: LocalObjectStore, tmp_path: Path, grace_s: float, commits: list[str]) -> Publisher:
    config = BuildConfig(shard_count=4, version_gc_grace_s=grace_s)
    return Publisher(store, StoreSignals(store), FileLocks(tmp_path / "locks"), config, commits.append)


async def test_many_deletes_cost_one_fold_per_interval(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    commits: list[str] = []
    publisher = publisher_for(store, tmp_path, 3600, commits)
    ids = ids_for(400)
    write_batches(store, CID, ids, clustered(400))
    await publisher.publish(CID)
    deleter = Deleter(store, StoreSignals(store), publisher, fold_interval_s=0.5)
    started = time.monotonic()
    for iid in ids[:200]:
        await deleter.delete_image(CID, iid)
    elapsed = time.monotonic() - started
    await deleter.folds.idle()
    folds = len(commits) - 1
    assert 1 <= folds <= elapsed / 0.5 + 2, (folds, elapsed)  # runs start 0.5 s apart, one after the last
    manifest, raw = current_manifest(store)
    assert manifest.count == 200 and manifest.dead < 200  # shards past the threshold were compacted
    assert not any(iid.encode() in raw for iid in ids[:200])  # O(1) in deletions: no deleted id listed
    await deleter.aclose()


async def test_superseded_versions_are_collected_after_the_grace(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    commits: list[str] = []
    publisher = publisher_for(store, tmp_path, 0.5, commits)
    data = clustered(300)
    for n in range(3):  # three versions, each adding vectors (delta segments share old objects)
        write_batches(store, CID, ids_for(100, 100 * n), data[100 * n : 100 * (n + 1)], tag=f"b{n}")
        await publisher.publish(CID)
    assert len(versions(store)) == 3  # within the grace everything stays
    time.sleep(0.6)
    assert collect_versions(store, CID, 0.5).retry_in_s is None  # nothing left to come back for
    current = read_current(store, CID)
    assert current is not None and versions(store) == [current.version]
    manifest = Manifest.model_validate_json(store.get(manifest_key(CID, current.version)))
    for shard in manifest.shards:  # objects shared with removed versions are kept
        for seg in shard.segments:
            assert store.stat(seg.key) is not None and store.stat(seg.ids_key) is not None
    referenced = {k for s in manifest.shards for g in s.segments for k in (g.key, g.ids_key)}
    assert set(store.list_keys(index_prefix(CID))) == referenced | {manifest_key(CID, current.version)}


async def test_a_version_a_replica_may_still_load_is_kept(tmp_path: Path) -> None:
    grace_s = 3600.0
    store = LocalObjectStore(tmp_path / "store")
    publisher = publisher_for(store, tmp_path, grace_s, [])
    data = clustered(200)
    for n in range(2):
        write_batches(store, CID, ids_for(100, 100 * n), data[100 * n : 100 * (n + 1)], tag=f"b{n}")
        await publisher.publish(CID)
    kept = collect_versions(store, CID, grace_s)
    assert kept.removed == 0 and len(versions(store)) == 2
    assert kept.retry_in_s is not None and grace_s - 60 < kept.retry_in_s <= grace_s  # when to come back
