"""Index types: `auto` choices, every factory type builds, and ANN recall on clustered data."""

from __future__ import annotations

import numpy as np
import pytest

from services.common.shards import pack_ids, pack_vectors, shard_of, unpack_ids, unpack_vectors
from services.indexer.segments import trainable_type
from services.vector_index.build import build_index, resolve_index_type, serialize
from tests.support.index_data import clustered, exact_top_k, ids_for

DIM = 64


@pytest.mark.parametrize(
    ("n", "budget_mb", "expected"),
    [
        (5_000, 1024, "Flat"),
        (80_000, 1024, "HNSW32"),
        (200_000, 1024, "IVF2048,Flat"),  # past HNSW_MAX_ROWS: 8 bytes a row of lists, not ~280 of graph
        (200_000, 100, "IVF2048,Flat"),
        (2_000_000, 100, "IVF4096,PQ8,Refine(SQ8)"),
    ],
)
def test_auto_picks_by_size_and_memory(n: int, budget_mb: int, expected: str) -> None:
    assert resolve_index_type("auto", n, DIM, budget_mb << 20, flat_max=20_000) == expected


def test_explicit_types_pass_through_and_untrainable_ivf_falls_back_to_flat() -> None:
    assert resolve_index_type("HNSW16", 10, DIM, 1, 0) == "HNSW16"
    assert trainable_type("IVF256,Flat", 1000) == "Flat"
    assert trainable_type("IVF16,Flat", 1000) == "IVF16,Flat"


@pytest.mark.parametrize(
    ("index_type", "min_recall"),
    [("Flat", 1.0), ("HNSW32", 0.95), ("IVF32,Flat", 0.95), ("IVF32,PQ16x4,Refine(SQ8)", 0.9)],
)
def test_index_types_build_and_reach_recall(index_type: str, min_recall: float) -> None:
    data = clustered(4050, DIM)
    x, q = data[:4000], data[4000:]  # queries from the same distribution, not indexed
    ids = ids_for(4000)
    index = build_index(x, index_type)
    _, rows = index.search(q, 10)
    truth = exact_top_k(x, ids, q, 10)
    recall = np.mean([len({ids[j] for j in r} & set(t)) / 10 for r, t in zip(rows, truth, strict=True)])
    assert recall >= min_recall, (index_type, recall)
    assert len(serialize(index)) > 0


def test_shard_of_is_stable_and_spreads() -> None:
    assert shard_of("abc", 4) == shard_of("abc", 4)
    assert shard_of("img0000001", 4) == 3  # fixed forever: changing it would move every image
    counts = np.bincount([shard_of(i, 4) for i in ids_for(4000)], minlength=4)
    assert counts.min() > 900


def test_ids_and_vectors_round_trip() -> None:
    ids = ids_for(5)
    x = clustered(5, 8)
    assert unpack_ids(pack_ids(ids)) == ids
    got_ids, got_x = unpack_vectors(pack_vectors(ids, x))
    assert got_ids == ids and np.array_equal(got_x, x)
