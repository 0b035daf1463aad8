"""Publisher and replica together on a local store: versions, deltas, deletions, corruption."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from services.common.index_signals import StoreSignals
from services.common.schemas.search import SearchParams
from services.common.shards import Manifest, collection_index, read_current, tombgen_key, tombstone_key
from services.common.storage.local import LocalObjectStore
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher
from services.search import engine as engine_module
from services.search.engine import SearchEngine
from services.search.holder import IndexHolder
from tests.support.index_data import clustered, exact_top_k, ids_for, write_batches

CID = "col1"


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "store")


@pytest.fixture
def publisher(store: LocalObjectStore, tmp_path: Path) -> Publisher:
    return Publisher(store, StoreSignals(store), FileLocks(tmp_path / "locks"), BuildConfig(shard_count=4))


def engine_for(store: LocalObjectStore, shards: list[int]) -> SearchEngine:
    holder = IndexHolder(store, 4, shards, CollectorRegistry(), ThreadPoolExecutor(1))
    return SearchEngine(holder, StoreSignals(store), ThreadPoolExecutor(2), 10.0)


async def top_ids(engines: list[SearchEngine], q: np.ndarray, k: int = 10, **kw: object) -> list[list[str]]:
    """The gateway's merge: every replica's hits, best first."""
    params = SearchParams(collection_ids=[CID], k=k, **kw)
    merged: list[list[tuple[float, str]]] = [[] for _ in range(len(q))]
    for engine in engines:
        resp = await engine.search(q, params)
        for i, hits in enumerate(resp.results):
            merged[i] += [(h.score, h.image_id) for h in hits]
    return [[iid for _, iid in sorted(m, key=lambda h: (-h[0], h[1]))[:k]] for m in merged]


async def _published_500(
    store: LocalObjectStore, publisher: Publisher
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """500 clustered vectors published as one version, and 5 held-out queries."""
    data = clustered(505)
    x, q = data[:500], data[500:]
    ids = ids_for(500)
    write_batches(store, CID, ids, x)
    await publisher.publish(CID)
    return x, q, ids


async def test_flat_replicas_equal_brute_force_and_deltas_keep_other_segments(
    store: LocalObjectStore, publisher: Publisher
) -> None:
    data = clustered(1120)
    x, extra, q = data[:1000], data[1000:1100], data[1100:]
    ids, more = ids_for(1000), ids_for(100, 1000)
    write_batches(store, CID, ids, x)
    first = await publisher.publish(CID)
    assert first is not None and first.count == 1000
    engines = [engine_for(store, [0, 1]), engine_for(store, [2, 3])]
    assert await top_ids(engines, q) == exact_top_k(x, ids, q, 10)

    write_batches(store, CID, more, extra, tag="c")
    second = await publisher.publish(CID)
    assert second is not None and second.count == 1100
    for old, new in zip(first.shards, second.shards, strict=True):
        assert new.segments[0] == old.segments[0]  # base untouched: no rebuild
        assert [s.kind for s in new.segments] == ["base", "delta"]
    assert await top_ids(engines, q) == exact_top_k(np.vstack([x, extra]), ids + more, q, 10)
    assert await publisher.publish(CID) == second  # nothing new: same version


async def test_deletes_apply_at_once_and_fold_into_counts(
    store: LocalObjectStore, publisher: Publisher
) -> None:
    _, q, _ = await _published_500(store, publisher)
    engines = [engine_for(store, [0, 1, 2, 3])]
    victim = (await top_ids(engines, q[:1]))[0][0]
    store.put(tombstone_key(CID, victim), b"")
    store.put(tombgen_key(CID), b"g1")
    assert victim not in (await top_ids(engines, q[:1]))[0]
    excluded = (await top_ids(engines, q[:1]))[0][0]
    assert excluded not in (await top_ids(engines, q[:1], exclude_ids=[excluded]))[0]
    manifest = await publisher.publish(CID)
    assert manifest is not None and manifest.count == 499 and manifest.dead == 1
    assert collection_index(store, CID).image_count == 499


async def test_corrupt_segment_is_refused_and_last_good_version_serves(
    store: LocalObjectStore, publisher: Publisher
) -> None:
    data = clustered(410)
    x, q = data[:400], data[400:]
    ids = ids_for(400)
    write_batches(store, CID, ids[:300], x[:300])
    good = await publisher.publish(CID)
    engine = engine_for(store, [0, 1, 2, 3])
    await engine.holder.sync(CID)
    write_batches(store, CID, ids[300:], x[300:], tag="c")
    bad = await publisher.publish(CID)
    assert good is not None and bad is not None
    delta = bad.shards[0].segments[-1]
    raw = bytearray(store.get(delta.key))
    raw[len(raw) // 2] ^= 0xFF
    store.put(delta.key, bytes(raw))  # flipped bytes, fresh store checksum: only the manifest knows
    assert await top_ids([engine], q) == exact_top_k(x[:300], ids[:300], q, 10)
    assert engine.holder.held[CID].manifest.version == good.version
    reason = await engine.holder.integrity()
    assert reason is not None and "sha256" in reason
    pointer = read_current(store, CID)
    assert (
        pointer is not None
        and Manifest.model_validate_json(store.get(pointer.manifest_key)).version == bad.version
    )


async def test_model_change_rebuilds_without_mixing(store: LocalObjectStore, publisher: Publisher) -> None:
    x = clustered(200)
    write_batches(store, CID, ids_for(200), x, model_version="mv1")
    await publisher.publish(CID)
    write_batches(store, CID, ids_for(50), x[:50], model_version="mv2")
    manifest = await publisher.publish(CID, "mv2")
    assert manifest is not None and manifest.model_version == "mv2" and manifest.count == 50
    assert all(b.startswith(f"vectors/{CID}/mv2/") for b in manifest.batches)


async def test_a_small_scan_runs_on_the_event_loop_and_a_large_one_on_a_thread(
    store: LocalObjectStore, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, q, ids = await _published_500(store, publisher)
    threads: list[str] = []
    scan = engine_module._search

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return scan(*args)

    monkeypatch.setattr(engine_module, "_search", recorded)
    holder = IndexHolder(store, 4, [0, 1, 2, 3], CollectorRegistry(), ThreadPoolExecutor(1))
    small = SearchEngine(
        holder, StoreSignals(store), ThreadPoolExecutor(1, "faiss"), 10.0, inline_max_rows=500
    )
    params = SearchParams(collection_ids=[CID], k=10)
    one = await small.search(q[:1], params)
    five = await small.search(q, params)  # 5 queries × 500 rows: past the inline budget
    segments = len(holder.held[CID].segments)
    assert segments > 1, "one segment per shard"
    # Past the budget, each segment is searched on a search thread of its own, then merged.
    assert threads == [threading.current_thread().name] + ["faiss_0"] * segments
    assert [h.image_id for h in one.results[0]] == exact_top_k(x, ids, q[:1], 10)[0]
    assert [[h.image_id for h in r] for r in five.results] == exact_top_k(x, ids, q, 10)
    assert five.total_candidates == one.total_candidates == 500
    wide = SearchEngine(holder, StoreSignals(store), ThreadPoolExecutor(4, "wide"), 10.0, inline_max_rows=0)
    threads.clear()
    split = await wide.search(q, params)
    assert len(threads) == segments and all(t.startswith("wide") for t in threads)
    assert [[h.image_id for h in r] for r in split.results] == exact_top_k(x, ids, q, 10)
