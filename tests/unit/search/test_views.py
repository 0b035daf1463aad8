"""Merged views: the same answers as searching each collection on its own, whatever is pending."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from services.common.index_signals import IndexEvent, IndexSignals, RedisSignals, StoreSignals
from services.common.schemas.search import SearchParams, SearchResponse
from services.common.shards import collection_index, tombgen_key, tombstone_key
from services.common.storage.local import LocalObjectStore
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher
from services.search import view as view_module
from services.search.engine import SearchEngine
from services.search.holder import IndexHolder
from services.search.view import ViewConfig, plan
from tests.support.index_data import clustered, ids_for, write_batches

SIZES = [400, 240, 320, 200, 360, 280]  # rows per collection; each shard of IVF4 trains on >= 156
INDEX_TYPES = ["Flat", "HNSW32", "IVF4,Flat"]
K, QUERIES = 15, 6


class Library:
    """Collections published as a base and a delta per shard, held by two engines over one store:
    one searching through merged views, one searching each collection on its own."""

    def __init__(self, tmp_path: Path, index_type: str, signals: IndexSignals | None = None) -> None:
        self.index_type = index_type
        self.store = LocalObjectStore(tmp_path / "store")
        self.signals = signals or StoreSignals(self.store)
        cfg = BuildConfig(shard_count=2, index_type=index_type)
        self.publisher = Publisher(self.store, self.signals, FileLocks(tmp_path / "locks"), cfg)
        data = clustered(sum(SIZES) + 400 + QUERIES, seed=7)
        self.q, self.spare = data[-QUERIES:], data[sum(SIZES) : sum(SIZES) + 400]
        self.vectors: dict[str, tuple[list[str], np.ndarray]] = {}
        start = 0
        for n, size in enumerate(SIZES):
            self.vectors[f"c{n:02d}"] = (ids_for(size, start), data[start : start + size])
            start += size
        self.viewed = self._engine(ViewConfig(debounce_s=0.0))
        self.plain = self._engine(None)

    def _engine(self, views: ViewConfig | None) -> SearchEngine:
        holder = IndexHolder(self.store, 2, [0, 1], CollectorRegistry(), ThreadPoolExecutor(2), views)
        return SearchEngine(holder, self.signals, ThreadPoolExecutor(2), 10.0)

    async def publish(self, cid: str, ids: list[str], x: np.ndarray, tag: str = "b") -> None:
        half = len(ids) * 3 // 4
        write_batches(self.store, cid, ids[:half], x[:half], tag=tag)
        await self.publisher.publish(cid)
        write_batches(self.store, cid, ids[half:], x[half:], tag=tag + "d")  # a delta segment
        await self.publisher.publish(cid)

    async def publish_all(self) -> None:
        for cid, (ids, x) in self.vectors.items():
            await self.publish(cid, ids, x)
        for engine in (self.viewed, self.plain):
            await engine.holder.sync_all()
        await self.settled()

    async def settled(self) -> None:
        assert self.viewed.holder.views is not None
        await self.viewed.holder.views.settled()

    def truth(
        self, cids: list[str], k: int, hidden: frozenset[str] = frozenset()
    ) -> list[list[tuple[str, str]]]:
        """Exact top-k (collection, image) over the vectors of `cids`, without `hidden` ids."""
        rows = [
            (cid, iid, v)
            for cid in cids
            for iid, v in zip(*self.vectors[cid], strict=True)
            if iid not in hidden
        ]
        x = np.stack([v for _, _, v in rows])
        order = np.argsort(-(self.q @ x.T), axis=1, kind="stable")[:, :k]
        return [[(rows[j][0], rows[j][1]) for j in row] for row in order]


def pairs(resp: SearchResponse) -> list[list[tuple[str, str]]]:
    return [[(h.collection_id, h.image_id) for h in hits] for hits in resp.results]


def views_of(engine: SearchEngine) -> dict[Any, view_module.MergedView]:
    assert engine.holder.views is not None
    return engine.holder.views.views


@pytest.fixture(params=INDEX_TYPES)
async def library(request: pytest.FixtureRequest, tmp_path: Path) -> Library:
    lib = Library(tmp_path, request.param)
    await lib.publish_all()
    return lib


async def test_a_view_answers_exactly_what_searching_each_collection_answers(library: Library) -> None:
    (view,) = views_of(library.viewed).values()
    assert (
        view.index_type == "Flat"
        and view.rows == sum(SIZES)
        and sorted(view.parts) == sorted(library.vectors)
    )
    params = SearchParams(k=K)
    got = await library.viewed.search(library.q, params)
    assert pairs(got) == library.truth(sorted(library.vectors), K)
    assert got.total_candidates == sum(SIZES)
    assert got.index_versions == {c: h.manifest.version for c, h in library.viewed.holder.held.items()}
    plain = await library.plain.search(library.q, params)
    assert plain.total_candidates == got.total_candidates
    if library.index_type == "Flat":  # the others search each collection approximately
        assert pairs(plain) == pairs(got)
        for a, b in zip(plain.results, got.results, strict=True):
            assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-5)


async def test_tombstones_and_exclusions_hide_rows_of_the_view(library: Library) -> None:
    cids = sorted(library.vectors)
    first = pairs(await library.viewed.search(library.q, SearchParams(k=K)))
    (victim_cid, victim), (_, excluded) = first[0][0], first[0][1]
    library.store.put(tombstone_key(victim_cid, victim), b"")
    library.store.put(tombgen_key(victim_cid), b"g1")
    params = SearchParams(k=K, exclude_ids=[excluded])
    got = await library.viewed.search(library.q, params)
    assert pairs(got) == library.truth(cids, K, frozenset({victim, excluded}))
    if library.index_type == "Flat":
        assert pairs(got) == pairs(await library.plain.search(library.q, params))


async def test_scoped_searches_use_the_view_for_most_of_it_and_segments_for_a_few(library: Library) -> None:
    cids = sorted(library.vectors)
    views = views_of(library.viewed)
    held = library.viewed.holder.held
    for scope, through_view in ((cids[:4], True), (cids[1:2], False), (cids[::2], True)):
        jobs, rest = plan(views, [(c, held[c], frozenset()) for c in scope])
        assert bool(jobs) == through_view and len(rest) == (0 if through_view else len(scope))
        got = await library.viewed.search(library.q, SearchParams(k=K, collection_ids=scope))
        assert pairs(got) == library.truth(scope, K)
        assert got.total_candidates == sum(held[c].rows for c in scope)


async def test_a_version_changed_while_the_view_rebuilds_is_searched_on_its_own_segments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = Library(tmp_path, "Flat")
    await lib.publish_all()
    built = view_module.build_views
    gate = threading.Event()

    def gated(*args: Any) -> Any:
        assert gate.wait(60), "the test never opened the gate"
        return built(*args)

    monkeypatch.setattr(view_module, "build_views", gated)
    before = views_of(lib.viewed)
    # c01 gets a new version with 300 more images, then a tombstone.
    old_ids, old_x = lib.vectors["c01"]
    added = [f"new{i:04d}" for i in range(300)]
    await lib.publish("c01", added, lib.spare[:300], tag="v2")
    new_ids, new_x = old_ids + added, np.vstack([old_x, lib.spare[:300]])
    lib.store.put(tombstone_key("c01", "new0000"), b"")
    lib.store.put(tombstone_key("c01", old_ids[0]), b"")  # in both versions: the stale rows must hide it
    lib.store.put(tombgen_key("c01"), b"g2")
    lib.vectors["c01"] = (new_ids, new_x)
    params = SearchParams(k=K, collection_ids=sorted(lib.vectors))
    # Queries that ask exactly where the new images and the tombstoned old one lie.
    lib.q = np.vstack([lib.q, lib.spare[:4], old_x[:2]])
    try:
        got = await lib.viewed.search(lib.q, params)
        assert views_of(lib.viewed) is before  # the rebuild is still waiting at the gate
        assert before[next(iter(before))].covers("c01", lib.viewed.holder.held["c01"]) is None
        truth = lib.truth(sorted(lib.vectors), K, frozenset({"new0000", old_ids[0]}))
        assert pairs(got) == truth
        assert pairs(got) == pairs(await lib.plain.search(lib.q, params))
        assert got.index_versions["c01"] == lib.viewed.holder.held["c01"].manifest.version
    finally:
        gate.set()
    await lib.settled()
    (view,) = views_of(lib.viewed).values()
    assert view.covers("c01", lib.viewed.holder.held["c01"]) is not None
    assert pairs(await lib.viewed.search(lib.q, params)) == truth


async def test_no_view_for_a_single_collection(tmp_path: Path) -> None:
    lib = Library(tmp_path, "Flat")
    ids, x = lib.vectors["c00"]
    await lib.publish("c00", ids, x)
    await lib.viewed.holder.sync_all()
    await lib.settled()
    assert views_of(lib.viewed) == {}
    got = await lib.viewed.search(lib.q, SearchParams(k=K))
    assert pairs(got) == lib.truth(["c00"], K)


async def test_a_view_past_flat_max_is_the_auto_type(tmp_path: Path) -> None:
    lib = Library(tmp_path, "Flat")
    assert lib.viewed.holder.views is not None
    lib.viewed.holder.views.config = ViewConfig(flat_max=1000, debounce_s=0.0)
    await lib.publish_all()
    (view,) = views_of(lib.viewed).values()
    assert view.index_type == "HNSW32"
    got = await lib.viewed.search(lib.q, SearchParams(k=K, ef_search=512))
    truth = lib.truth(sorted(lib.vectors), K)
    recall = np.mean([len(set(g) & set(t)) / K for g, t in zip(pairs(got), truth, strict=True)])
    assert recall >= 0.9


async def test_with_redis_an_announced_change_reaches_the_next_search(tmp_path: Path, redis_url: str) -> None:
    signals = RedisSignals(redis_url, f"test-views-{uuid.uuid4().hex[:8]}")
    try:
        lib = Library(tmp_path, "Flat", signals)
        await lib.publish_all()
        cids = sorted(lib.vectors)
        params = SearchParams(k=K, collection_ids=cids)
        assert pairs(await lib.viewed.search(lib.q, params)) == lib.truth(cids, K)
        await lib.viewed.search(lib.q, params)  # the epoch unchanged: no signal is read
        ids, x = lib.vectors["c02"]
        extra = [f"late{i:03d}" for i in range(50)]
        lib.vectors["c02"] = (ids + extra, np.vstack([x, lib.spare[:50]]))
        lib.q = lib.spare[:4]
        write_batches(lib.store, "c02", extra, lib.spare[:50], tag="late")
        await lib.publisher.publish("c02")  # announced: new version and a new epoch
        assert pairs(await lib.viewed.search(lib.q, params)) == lib.truth(cids, K)
        lib.store.put(tombstone_key("c02", "late000"), b"")
        lib.store.put(tombgen_key("c02"), b"g1")
        await signals.announce(IndexEvent(type="tombstones", collection_id="c02", value="g1"))
        got = await lib.viewed.search(lib.q, params)
        assert pairs(got) == lib.truth(cids, K, frozenset({"late000"}))
    finally:
        await signals.aclose()


class CountingSignals(StoreSignals):
    """Store signals that count how often a search asked them what is latest."""

    def __init__(self, store: LocalObjectStore) -> None:
        super().__init__(store)
        self.reads = 0

    async def latest(self, collection_ids: list[str]) -> dict[str, Any]:
        self.reads += 1
        return await super().latest(collection_ids)


async def test_a_search_naming_the_held_versions_reads_no_signal(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    signals = CountingSignals(store)
    lib = Library(tmp_path, "Flat", signals)  # the same folder as `store`
    await lib.publish_all()
    cids = sorted(lib.vectors)

    def versions() -> dict[str, str]:
        return {cid: collection_index(store, cid).index_version or "" for cid in cids}

    named = SearchParams(k=K, collection_ids=cids, versions=versions())
    await lib.plain.search(lib.q, SearchParams(k=K, collection_ids=cids))  # tombstone generations read
    before = signals.reads
    assert pairs(await lib.plain.search(lib.q, named)) == lib.truth(cids, K)
    assert signals.reads == before, "held exactly what the request names: nothing to ask"
    # A version the replica does not hold yet (published since): it asks, loads it, answers it.
    ids, x = lib.vectors["c02"]
    extra = [f"late{i:03d}" for i in range(50)]
    lib.vectors["c02"] = (ids + extra, np.vstack([x, lib.spare[:50]]))
    write_batches(store, "c02", extra, lib.spare[:50], tag="late")
    await lib.publisher.publish("c02")
    lib.q = lib.spare[:4]
    got = await lib.plain.search(lib.q, SearchParams(k=K, collection_ids=cids, versions=versions()))
    assert signals.reads == before + 1 and pairs(got) == lib.truth(cids, K)
    # An older version named than the one held: asked as well, and the held (newer) one answers.
    stale = {**versions(), "c02": named.versions["c02"] if named.versions else ""}
    assert pairs(await lib.plain.search(lib.q, SearchParams(k=K, collection_ids=cids, versions=stale))) == (
        lib.truth(cids, K)
    )
    assert signals.reads == before + 2
