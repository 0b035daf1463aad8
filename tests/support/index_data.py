"""Test data for the index: clustered unit vectors, vector batches written as the indexer does."""

from __future__ import annotations

import numpy as np

from bench.vectors import clustered_vectors
from services.common.shards import pack_vectors, vector_batch_key
from services.common.storage import ObjectStore


def clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    return clustered_vectors(n, dim, clusters=20, intrinsic=8, seed=seed)


def ids_for(n: int, start: int = 0) -> list[str]:
    return [f"img{i:07d}" for i in range(start, start + n)]


def write_batches(
    store: ObjectStore,
    cid: str,
    ids: list[str],
    x: np.ndarray,
    model_version: str = "mv1",
    size: int = 100,
    tag: str = "b",
) -> None:
    for start in range(0, len(ids), size):
        key = vector_batch_key(cid, model_version, f"{tag}-{start // size:05d}")
        store.put(key, pack_vectors(ids[start : start + size], x[start : start + size]))


def exact_top_k(x: np.ndarray, ids: list[str], q: np.ndarray, k: int) -> list[list[str]]:
    scores = q @ x.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [[ids[j] for j in row] for row in order]


def vishapes_pngs(n: int, seed: int = 0, size: int = 64) -> list[bytes]:
    """`n` distinct ViShapes-vi pictures as PNG bytes, deterministic by seed."""
    import io

    from vi_clip_train.vishapes import sample_scene
    from vi_clip_train.vishapes.render import render

    rng = np.random.default_rng(seed)
    out: list[bytes] = []
    for _ in range(n):
        buf = io.BytesIO()
        render(sample_scene(rng), size, rng).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out
