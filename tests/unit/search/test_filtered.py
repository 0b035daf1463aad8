"""Allow-list search on every index type: exact over the allowed rows, k whenever k are allowed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from services.common.errors import ApiError
from services.common.index_signals import StoreSignals
from services.common.schemas.search import MAX_INCLUDE_IDS, SearchParams
from services.common.shards import tombgen_key, tombstone_key
from services.common.storage.local import LocalObjectStore
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher
from services.search import segment
from services.search.allowlist import AllowList, HashIndex
from services.search.engine import SearchEngine
from services.search.holder import IndexHolder
from tests.support.index_data import clustered, exact_top_k, ids_for, write_batches

CID = "col1"
N, DELTA, QUERIES = 3000, 200, 8
# The index types of tests/unit/indexer/test_builder.py: exact, graph, inverted lists, compressed.
INDEX_TYPES = ["Flat", "HNSW32", "IVF32,Flat", "IVF32,PQ16x4,Refine(SQ8)"]
LOSSY = {"IVF32,PQ16x4,Refine(SQ8)"}  # stores an 8-bit copy of each vector: scores within ~1%


class Library:
    """One collection published with `index_type`: a base per shard and a delta, all held by one engine."""

    def __init__(self, tmp_path: Path, index_type: str) -> None:
        self.index_type = index_type
        data = clustered(N + DELTA + QUERIES, seed=3)
        self.x, self.q = data[: N + DELTA], data[N + DELTA :]
        self.ids = ids_for(N + DELTA)
        self.row = {iid: i for i, iid in enumerate(self.ids)}
        self.store = LocalObjectStore(tmp_path / "store")
        self.publisher = Publisher(
            self.store,
            StoreSignals(self.store),
            FileLocks(tmp_path / "locks"),
            BuildConfig(shard_count=2, index_type=index_type),
        )
        holder = IndexHolder(self.store, 2, [0, 1], CollectorRegistry(), ThreadPoolExecutor(1))
        self.engine = SearchEngine(holder, StoreSignals(self.store), ThreadPoolExecutor(2), 10.0)

    async def publish(self) -> None:
        write_batches(self.store, CID, self.ids[:N], self.x[:N])
        await self.publisher.publish(CID)
        write_batches(self.store, CID, self.ids[N:], self.x[N:], tag="c")
        manifest = await self.publisher.publish(CID)
        assert manifest is not None
        assert all([s.kind for s in shard.segments] == ["base", "delta"] for shard in manifest.shards)

    async def search(self, k: int, **params: object) -> tuple[list[list[str]], list[list[float]], int]:
        resp = await self.engine.search(self.q, SearchParams(collection_ids=[CID], k=k, **params))
        ids = [[h.image_id for h in hits] for hits in resp.results]
        scores = [[h.score for h in hits] for hits in resp.results]
        return ids, scores, resp.total_candidates

    def brute_force(self, allowed: list[str], k: int) -> list[list[str]]:
        rows = [self.row[i] for i in allowed]
        return exact_top_k(self.x[rows], allowed, self.q, k)


@pytest.fixture(scope="module", params=INDEX_TYPES)
async def library(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Library:
    """Built once per index type and only read: the test that deletes builds its own."""
    lib = Library(tmp_path_factory.mktemp("library"), request.param)
    await lib.publish()
    return lib


def _allowed(lib: Library, n: int, seed: int) -> list[str]:
    """`n` ids spread over every segment, bases and deltas alike."""
    rng = np.random.default_rng(seed)
    return [lib.ids[i] for i in sorted(rng.choice(len(lib.ids), n, replace=False))]


@pytest.mark.parametrize("n_allowed", [1, 7, 40, 600])
async def test_filtered_search_equals_brute_force_over_the_allowed_vectors(
    library: Library, n_allowed: int
) -> None:
    k = 10
    allowed = _allowed(library, n_allowed, seed=n_allowed)
    got, scores, candidates = await library.search(k, include_ids=allowed)
    truth = library.brute_force(allowed, k)
    assert candidates == n_allowed
    assert all(len(row) == min(k, n_allowed) for row in got)  # k whenever k are allowed, never short
    assert all(set(row) <= set(allowed) for row in got)
    if library.index_type in LOSSY:
        hit = np.mean([len(set(g) & set(t)) / len(t) for g, t in zip(got, truth, strict=True)])
        assert hit >= 0.9
        true_scores = [
            [float(q @ library.x[library.row[i]]) for i in row] for q, row in zip(library.q, got, strict=True)
        ]
        assert np.allclose(scores, true_scores, atol=0.02)
    else:
        assert got == truth
        assert np.allclose(scores, [sorted(s, reverse=True) for s in scores])


async def test_a_small_filter_is_answered_where_the_index_alone_would_miss(library: Library) -> None:
    """The allowed images are the ones unfiltered search ranks last: no over-fetch would reach them."""
    k = 20
    ranked, _, _ = await library.search(1)
    order = np.argsort(library.q[0] @ library.x.T)  # worst first for the first query
    allowed = [library.ids[i] for i in order[:50]]
    got, _, _ = await library.search(k, include_ids=allowed)
    assert len(got[0]) == k and ranked[0][0] not in got[0]
    if library.index_type not in LOSSY:
        assert got == library.brute_force(allowed, k)


@pytest.mark.parametrize("index_type", INDEX_TYPES)
async def test_tombstoned_and_excluded_ids_never_come_back_even_if_allowed(
    tmp_path: Path, index_type: str
) -> None:
    library = Library(tmp_path, index_type)
    await library.publish()
    k = 5
    allowed = _allowed(library, 30, seed=1)
    first, _, _ = await library.search(k, include_ids=allowed)
    victim, excluded = first[0][0], first[0][1]
    library.store.put(tombstone_key(CID, victim), b"")
    library.store.put(tombgen_key(CID), b"g1")
    got, _, candidates = await library.search(k, include_ids=allowed, exclude_ids=[excluded])
    assert all(victim not in row and excluded not in row for row in got)
    assert all(len(row) == k for row in got) and candidates == 28
    rest = [i for i in allowed if i not in (victim, excluded)]
    if library.index_type not in LOSSY:
        assert got == library.brute_force(rest, k)


async def test_unknown_ids_are_ignored_and_an_empty_list_allows_nothing(library: Library) -> None:
    allowed = _allowed(library, 3, seed=2)
    got, _, candidates = await library.search(10, include_ids=[*allowed, "no-such-image", "img9999999"])
    assert [sorted(row) for row in got] == [sorted(allowed)] * QUERIES and candidates == 3
    nothing, _, candidates = await library.search(10, include_ids=[])
    assert nothing == [[]] * QUERIES and candidates == 0
    everything, _, candidates = await library.search(10)
    assert all(len(row) == 10 for row in everything) and candidates == N + DELTA


async def test_allowing_every_image_is_exact_search(library: Library) -> None:
    got, _, _ = await library.search(10, include_ids=library.ids)
    if library.index_type in LOSSY:
        truth = exact_top_k(library.x, library.ids, library.q, 10)
        assert np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth, strict=True)]) >= 0.9
    else:
        assert got == exact_top_k(library.x, library.ids, library.q, 10)


def test_the_allow_list_is_bounded() -> None:
    SearchParams(include_ids=["a"] * MAX_INCLUDE_IDS)
    with pytest.raises(ValueError, match=f"at most {MAX_INCLUDE_IDS}"):
        SearchParams(include_ids=["a"] * (MAX_INCLUDE_IDS + 1))
    with pytest.raises(ValueError):
        SearchParams(include_ids=[""])


async def test_gathering_in_small_chunks_gives_the_same_answer(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = _allowed(library, 600, seed=4)
    ids, scores, _ = await library.search(25, include_ids=allowed)
    monkeypatch.setattr(segment, "GATHER_ROWS", 7)  # 600 rows in 86 chunks, each merged into the top k
    chunked_ids, chunked_scores, _ = await library.search(25, include_ids=allowed)
    assert chunked_ids == ids
    assert np.allclose(chunked_scores, scores, atol=1e-6)  # products of other shapes round differently


async def test_segments_without_a_hash_index_filter_the_same_way(library: Library) -> None:
    """Where two held ids share a hash the segment compares strings: same answer."""
    allowed = _allowed(library, 300, seed=5)
    hashed = await library.search(10, include_ids=allowed)
    held = library.engine.holder.held[CID]
    library.engine.holder.held[CID] = replace(
        held, segments=tuple(replace(s, by_hash=None) for s in held.segments)
    )
    try:
        by_string = await library.search(10, include_ids=allowed)
    finally:
        library.engine.holder.held[CID] = held
    assert by_string[0] == hashed[0] and by_string[2] == hashed[2]


def test_a_hash_index_refuses_ids_that_share_a_hash() -> None:
    class Colliding(str):
        def __hash__(self) -> int:
            return 7

    assert HashIndex.build(["a", "b", "c"]) is not None
    assert HashIndex.build([Colliding("a"), "b", Colliding("c")]) is None


async def test_a_held_id_that_only_hashes_like_an_allowed_one_never_comes_back(library: Library) -> None:
    """The intruder is the row this segment ranks first: a hash match alone would make it a hit."""
    seg = library.engine.holder.held[CID].segments[0]
    rows = np.array([library.row[i] for i in seg.ids])
    allowed = [seg.ids[i] for i in range(1, len(seg.ids), 9)]
    scores = library.q[:1] @ library.x[rows].T
    intruder = next(seg.ids[j] for j in np.argsort(-scores[0]) if seg.ids[j] not in set(allowed))
    ids = frozenset(allowed)
    allow = AllowList(ids, np.sort(np.array([hash(i) for i in [*ids, intruder]], dtype=np.int64)))
    found, count = seg.search_allowed(library.q[:1], 10, allow)
    assert count == len(allowed)  # the search was redone over the rows whose ids compare equal
    assert intruder not in {i for _, i in found[0]}
    if library.index_type not in LOSSY:
        assert [i for _, i in found[0]] == library.brute_force(allowed, 10)[0]


@pytest.mark.parametrize("index_type", ["PCA32,Flat", "IVF32,PQ16x4fs"])
async def test_index_types_that_cannot_give_rows_back_refuse_a_filter_and_still_search(
    tmp_path: Path, index_type: str
) -> None:
    """A transform in front keeps no vectors in the query's space; FAISS crashes reading fast-scan codes."""
    library = Library(tmp_path, index_type)
    await library.publish()
    with pytest.raises(ApiError) as refused:
        await library.search(10, include_ids=library.ids[:50])
    assert refused.value.status == 422 and refused.value.code == "filter_unsupported"
    got, _, _ = await library.search(10)
    assert all(len(row) == 10 for row in got)
