"""One loaded FAISS segment: verified bytes turned into an index plus its row ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faiss as _faiss
import numpy as np

from services.common.shards import SegmentEntry
from services.search.allowlist import AllowList, HashIndex
from services.search.ids import PackedIds

faiss: Any = _faiss  # the SWIG stubs lack most attributes and keyword arguments

# Rows an allow-list search scores at once: where the vectors are gathered first, 32k rows of 512-d
# floats are 64 MiB, so concurrent filtered searches stay within memory whatever the list's size.
GATHER_ROWS = 32_768


def search_params(index: Any, nprobe: int | None, ef_search: int | None) -> Any:
    """Per-request nprobe / efSearch for the index's type (through a refinement wrapper too)."""
    refine = isinstance(index, faiss.IndexRefine)
    inner = faiss.downcast_index(index.base_index) if refine else index
    params: Any = None
    if ef_search is not None and hasattr(inner, "hnsw"):
        params = faiss.SearchParametersHNSW(efSearch=ef_search)
    elif nprobe is not None and isinstance(inner, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(nprobe=nprobe)
    if refine and params is not None:
        wrapped = faiss.IndexRefineSearchParameters(k_factor=index.k_factor, base_index_params=params)
        wrapped.keep_alive = params  # SWIG does not own the inner object
        return wrapped
    return params


def _readable(index: Any) -> Any:
    """The index whose `reconstruct_batch` gives each row back as stored, or None where none does.

    A refined index reads from its refinement (an 8-bit copy, what it re-ranks by); an IVF index
    through its id -> list map, built here (8 bytes a row). FAISS's fast-scan codes crash when read
    back, and a transform in front (PCA, OPQ) keeps no vectors in the query's space.
    """
    if isinstance(index, faiss.IndexRefine):
        return _readable(faiss.downcast_index(index.refine_index))
    if isinstance(index, faiss.IndexFastScan | faiss.IndexIVFFastScan):
        return None
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()
    return index if isinstance(index, faiss.IndexFlatCodes | faiss.IndexHNSW | faiss.IndexIVF) else None


class RowScorer:
    """Inner products of queries with chosen rows of one index, as the index stores them.

    Flat and HNSW-Flat keep the vectors in an IndexFlat, which scores rows in place
    (`compute_distance_subset`: nothing is copied, ~10x faster than a gather at 10k rows). Other
    types give their rows back (`_readable`), then one matrix product. Either way the scores are
    those the index itself ranks by at its best, so a top-k over them is exact search over what is
    held. `readable` is False for the few factory types that cannot give rows back.
    """

    def __init__(self, index: Any) -> None:
        storage = faiss.downcast_index(index.storage) if hasattr(index, "storage") else index
        self.flat = storage if isinstance(storage, faiss.IndexFlat) else None
        self.stored = self.flat if self.flat is not None else _readable(index)

    @property
    def readable(self) -> bool:
        return self.stored is not None

    def vectors(self, n: int) -> np.ndarray:
        """Rows `[0, n)` as the index stores them, [n, dim] float32 (what a merged view holds)."""
        if self.stored is None:
            raise ValueError("this index type cannot give its rows back")
        return np.asarray(self.stored.reconstruct_batch(np.arange(n, dtype=np.int64)), dtype=np.float32)

    def scores(self, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[len(x), len(rows)] float32 scores of the queries `x` with the index's `rows`."""
        x, rows = np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(rows, dtype=np.int64)
        if self.flat is None:
            if self.stored is None:
                raise ValueError("this index type cannot give its rows back")
            return np.asarray(x @ self.stored.reconstruct_batch(rows).T, dtype=np.float32)
        out = np.empty((len(x), len(rows)), dtype=np.float32)
        labels = faiss.swig_ptr(rows)
        for i in range(len(x)):  # one query at a time: its labels are `rows` as they are, never tiled
            self.flat.compute_distance_subset(
                1, faiss.swig_ptr(x[i]), len(rows), faiss.swig_ptr(out[i]), labels
            )
        return out


@dataclass
class LoadedSegment:
    entry: SegmentEntry
    index: Any
    ids: PackedIds
    scorer: RowScorer
    by_hash: HashIndex | None  # None when two ids share a hash: lookups then use `_rows`
    _rows: dict[str, int] | None = None  # id -> row, only where `by_hash` cannot serve

    @classmethod
    def load(cls, entry: SegmentEntry, index_bytes: bytes, ids: list[str]) -> LoadedSegment:
        index = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))  # owns, typed
        if index.ntotal != len(ids):
            raise ValueError(f"{entry.key}: {index.ntotal} rows but {len(ids)} ids")
        return cls(entry, index, PackedIds.of(ids), RowScorer(index), HashIndex.build(ids))

    def _positions(self) -> dict[str, int]:
        """id -> row, made on first need for a segment without a hash index."""
        if self._rows is None:
            self._rows = {iid: i for i, iid in enumerate(self.ids)}
        return self._rows

    def rows_of_ids(self, ids: frozenset[str]) -> np.ndarray:
        """Ascending rows of these ids held here (ids not held are simply absent), exactly."""
        if self.by_hash is None:
            get = self._positions().get
            rows = np.fromiter((r for r in map(get, ids) if r is not None), dtype=np.int64)
            rows.sort()
            return rows
        rows = self.rows_of(AllowList.of(ids))
        held = self.ids
        return rows[np.fromiter((held[int(r)] in ids for r in rows), dtype=bool, count=len(rows))]

    def held_count(self, ids: frozenset[str]) -> int:
        """How many of these ids this segment holds."""
        if len(ids) < len(self.ids):
            return len(self.rows_of_ids(ids))
        return sum(1 for iid in self.ids if iid in ids)

    def search(
        self, x: np.ndarray, k: int, excluded: frozenset[str], params: Any
    ) -> list[list[tuple[float, str]]]:
        """Top-k per query without excluded ids: asks for k plus the excluded rows present here."""
        if self.index.ntotal == 0:
            return [[] for _ in range(len(x))]
        hidden = self.held_count(excluded) if excluded else 0
        kk = min(self.index.ntotal, k + hidden)
        scores, rows = self.index.search(x, kk, params=params)
        out = []
        for srow, irow in zip(scores, rows, strict=True):
            found = irow >= 0
            hits = list(zip(srow[found].tolist(), self.ids.take(irow[found]), strict=True))
            out.append([h for h in hits if h[1] not in excluded][:k] if excluded else hits[:k])
        return out

    def rows_of(self, allow: AllowList) -> np.ndarray:
        """Ascending rows of the allowed ids held here (unknown ids are simply absent).

        Through the hashes this may, very rarely, hold a row that is not allowed; `search_allowed`
        checks the hits for it.
        """
        if self.by_hash is not None:
            return self.by_hash.candidates(allow)
        get = self._positions().get
        rows = np.fromiter((r for r in map(get, allow.ids) if r is not None), dtype=np.int64)
        rows.sort()
        return rows

    def search_allowed(
        self, x: np.ndarray, k: int, allow: AllowList
    ) -> tuple[list[list[tuple[float, str]]], int]:
        """Exact top-k among the allowed ids held here, and how many rows that was."""
        rows = self.rows_of(allow)
        found = self.search_among(x, k, rows)
        if all(iid in allow.ids for hits in found for _, iid in hits):
            return found, len(rows)
        # A row that only hashes like an allowed id reached the hits: compare every row's id.
        rows = rows[np.fromiter((self.ids[int(r)] in allow.ids for r in rows), dtype=bool, count=len(rows))]
        return self.search_among(x, k, rows), len(rows)

    def search_among(self, x: np.ndarray, k: int, rows: np.ndarray) -> list[list[tuple[float, str]]]:
        """Exact top-k over the given rows only, scored in chunks of GATHER_ROWS.

        The cost follows the number of rows, not the segment's size, and never depends on the
        index type's recall: the allowed rows that score best are found whatever the index.
        """
        top_scores = np.empty((len(x), 0), dtype=np.float32)
        top_rows = np.empty((len(x), 0), dtype=np.int64)
        for start in range(0, len(rows), GATHER_ROWS):
            chunk = rows[start : start + GATHER_ROWS]
            scores = np.hstack([top_scores, self.scorer.scores(x, chunk)])
            cands = np.hstack([top_rows, np.broadcast_to(chunk, (len(x), len(chunk)))])
            if scores.shape[1] > k:
                keep = np.argpartition(-scores, k - 1, axis=1)[:, :k]
                scores, cands = np.take_along_axis(scores, keep, 1), np.take_along_axis(cands, keep, 1)
            top_scores, top_rows = scores, cands
        order = np.argsort(-top_scores, axis=1, kind="stable")
        return [
            list(zip(srow[o].tolist(), self.ids.take(irow[o]), strict=True))
            for srow, irow, o in zip(top_scores, top_rows, order, strict=True)
        ]
