"""Filtered search benchmark: exact scoring of an allow-list against the index's own search.

    python -m bench.filtered_search_bench                  # 100k and 1M clustered 256-d vectors
    python -m bench.filtered_search_bench --sizes 100000   # the small half only

For each index type and allow-list size, one query at a time (as the gateway sends them) on one
segment as a replica loads it (HNSW only at 100k: its graph takes long to build on 2 cores):
the median and p99 milliseconds of
- `unfiltered`: the index's own top-10 search, the peer every filtered figure is a ratio of;
- `allow-list`: what the search service does, `LoadedSegment.search_allowed` (the request's ids
  to a set, to rows, the allowed rows scored), exact by construction; `ids → rows` is the part of
  it spent finding the rows;
- `selector`: FAISS's IDSelectorBatch inside the index's search, the alternative, with its
  recall@10 against exact search over the allowed vectors and the share of queries it answers
  with fewer than 10 hits although at least 10 are allowed.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import faiss as _faiss
import numpy as np

from bench.vectors import clustered_vectors
from services.common.shards import SegmentEntry
from services.search.allowlist import AllowList
from services.search.segment import LoadedSegment, search_params
from services.vector_index.build import build_index, serialize

faiss: Any = _faiss  # the SWIG stubs lack most attributes and keyword arguments
K = 10
DIM = 256
QUERIES = 40
ALLOWED = (100, 1_000, 10_000, 100_000)
# Index types by collection size: exact everywhere; a graph while it builds in reasonable time
# on 2 cores; inverted lists where `auto` would pick them.
TYPES = {100_000: ("Flat", "HNSW32", "IVF1024,Flat"), 1_000_000: ("Flat", "IVF1024,Flat")}


def load(x: np.ndarray, index_type: str, ids: list[str] | None = None) -> LoadedSegment:
    """A segment exactly as a replica holds one: built, serialised, loaded back; row i is `ids[i]`
    (default `img00000000`, `img00000001`, ...)."""
    ids = ids if ids is not None else [f"img{i:08d}" for i in range(len(x))]
    data = serialize(build_index(x, index_type))
    entry = SegmentEntry(
        key="bench",
        ids_key="bench.ids",
        sha256="",
        ids_sha256="",
        count=len(x),
        index_type=index_type,
        kind="base",
    )
    return LoadedSegment.load(entry, data, ids)


def selector_params(index: Any, selector: Any) -> Any:
    """The index's own search breadth (efSearch, nprobe) with the selector added."""
    if hasattr(index, "hnsw"):
        params = faiss.SearchParametersHNSW(efSearch=index.hnsw.efSearch)
    elif isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(nprobe=index.nprobe)
    else:
        params = faiss.SearchParameters()
    params.sel = selector
    return params


def timed(run: Any, queries: np.ndarray, prepare: Any = lambda: None) -> tuple[list[Any], float, float]:
    """Each query alone, `run(query, prepare())` with `prepare` untimed: the results, median and p99 ms."""
    out, times = [], []
    run(queries[:1], prepare())  # warm-up: page faults, thread pools
    for i in range(len(queries)):
        arg = prepare()
        start = time.perf_counter()
        out.append(run(queries[i : i + 1], arg))
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1e3
    return out, float(np.median(ms)), float(np.percentile(ms, 99))


def selector_search(seg: LoadedSegment, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The alternative: the index's own search, told to skip every row outside `rows`."""
    selector = faiss.IDSelectorBatch(rows)  # referenced here for as long as the search runs
    return np.asarray(seg.index.search(v, K, params=selector_params(seg.index, selector))[1][0])


def bench(seg: LoadedSegment, x: np.ndarray, q: np.ndarray, n_allowed: int, seed: int) -> dict[str, Any]:
    """Both ways of one allow-list of `n_allowed` random ids, each timed as a replica runs it: from the
    request's list of ids (new string objects every time, as a decoded body gives them) to the hits."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(x), n_allowed, replace=False))
    wanted = [seg.ids[r] for r in rows]
    kept = x[rows]
    truth = [{seg.ids[r] for r in rows[np.argsort(-(kept @ v))[:K]]} for v in q]

    def request() -> list[str]:
        return [(iid + ".")[:-1] for iid in wanted]

    _, map_p50, _ = timed(lambda v, ids: seg.rows_of(AllowList.of(frozenset(ids))), q, request)
    exact, exact_p50, exact_p99 = timed(
        lambda v, ids: seg.search_allowed(v, K, AllowList.of(frozenset(ids)))[0], q, request
    )
    assert all({i for _, i in hits[0]} == t for hits, t in zip(exact, truth, strict=True))
    found, sel_p50, sel_p99 = timed(
        lambda v, ids: selector_search(seg, v, seg.rows_of(AllowList.of(frozenset(ids)))), q, request
    )
    recall = np.mean(
        [len({seg.ids[r] for r in f if r >= 0} & t) / K for f, t in zip(found, truth, strict=True)]
    )
    short = np.mean([int((f >= 0).sum()) < K for f in found])
    return {
        "map": map_p50,
        "exact": (exact_p50, exact_p99),
        "selector": (sel_p50, sel_p99, recall, short),
    }


def report(n: int, index_type: str, x: np.ndarray, q: np.ndarray) -> None:
    """One index type at one size: its unfiltered search, then each allow-list size, as table rows."""
    start = time.perf_counter()
    seg = load(x, index_type)
    built = time.perf_counter() - start
    params = search_params(seg.index, None, None)
    _, un50, un99 = timed(lambda v, _: seg.index.search(v, K, params=params), q)
    for n_allowed in (a for a in ALLOWED if a <= n // 2):
        r = bench(seg, x, q, n_allowed, seed=n_allowed)
        (ex50, ex99), (s50, s99, recall, short) = r["exact"], r["selector"]
        print(
            f"| {n:,} | {index_type} | {n_allowed:,} | {un50:.2f} / {un99:.2f} | {ex50:.2f} / {ex99:.2f} "
            f"| {ex50 / un50:.2f} | {r['map']:.2f} | {s50:.2f} / {s99:.2f} | {recall:.3f} | {short:.0%} |",
            flush=True,
        )
    print(f"<!-- {index_type} at {n:,}: built and loaded in {built:.0f} s -->", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated vector counts")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)  # one query on one search thread, as a replica's pool runs them
    print(f"dim {DIM}, k {K}, {QUERIES} single queries, one thread for FAISS\n")
    print(
        "| vectors | index | allowed | unfiltered p50 / p99 ms | allow-list p50 / p99 ms | × unfiltered "
        "| ids → rows p50 ms "
        "| selector p50 / p99 ms | selector recall@10 | selector short pages |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(size) for size in args.sizes.split(",")):
        data = clustered_vectors(n + QUERIES, DIM, clusters=200, intrinsic=16, seed=0)
        for index_type in TYPES.get(n, ("Flat",)):
            report(n, index_type, data[:n], data[n:])


if __name__ == "__main__":
    main()
