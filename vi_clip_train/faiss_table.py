"""The seed's FAISS method comparison: Flat, HNSW, IVF and IVF-PQ over the same embeddings.

Recall@10 is measured against exact search (how much an approximate index loses), next to the
retrieval R@10 each index gives on the task and its milliseconds per query.
"""

from __future__ import annotations

import time
from typing import Any

import faiss
import numpy as np


def build_indexes(dim: int, n: int) -> dict[str, Any]:
    """Index parameters scaled to the gallery: IVF lists ~ sqrt(n), PQ with ~8-dim sub-vectors."""
    nlist = max(1, int(np.sqrt(n)))
    ip = faiss.METRIC_INNER_PRODUCT
    hnsw = faiss.IndexHNSWFlat(dim, 32, ip)
    hnsw.hnsw.efSearch = 64
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, ip)
    ivf.nprobe = max(1, nlist // 4)
    pq_bits = max(1, min(8, int(np.log2(n)) - 1))  # k-means needs more points than 2**bits centroids
    sub = max(m for m in range(1, max(1, dim // 8) + 1) if dim % m == 0)  # ~8 dims per sub-quantizer
    ivfpq = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, sub, pq_bits, ip)
    ivfpq.nprobe = max(1, nlist // 4)
    return {"Flat": faiss.IndexFlatIP(dim), "HNSW": hnsw, "IVF": ivf, "IVF-PQ": ivfpq}


def faiss_method_table(
    gallery: np.ndarray, queries: np.ndarray, relevant: np.ndarray, k: int = 10
) -> list[dict[str, Any]]:
    """One row per method; `relevant` [Q, G] bool says which gallery items answer each query."""
    gallery = np.ascontiguousarray(gallery, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(k, len(gallery))
    exact = np.argsort(-(queries @ gallery.T), axis=1)[:, :k]
    rows = []
    for name, index in build_indexes(gallery.shape[1], len(gallery)).items():
        if not index.is_trained:
            index.train(gallery)
        index.add(gallery)
        start = time.perf_counter()
        _, found = index.search(queries, k)
        ms = (time.perf_counter() - start) * 1000 / len(queries)
        overlap = np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact, strict=True)])
        task = np.mean([relevant[q, found[q][found[q] >= 0]].any() for q in range(len(queries))])
        rows.append(
            {
                "method": name,
                f"recall@{k}_vs_exact": round(float(overlap), 4),
                f"t2i_r{k}": round(float(task), 4),
                "ms_per_query": round(ms, 4),
            }
        )
    return rows
