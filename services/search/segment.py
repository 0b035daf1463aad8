"""One loaded FAISS segment: verified bytes turned into an index plus its row ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import faiss as _faiss
import numpy as np

from services.common.shards import SegmentEntry

faiss: Any = _faiss  # the SWIG stubs lack most attributes and keyword arguments


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


@dataclass
class LoadedSegment:
    entry: SegmentEntry
    index: Any
    ids: list[str]
    positions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, entry: SegmentEntry, index_bytes: bytes, ids: list[str]) -> LoadedSegment:
        index = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))  # owns, typed
        if index.ntotal != len(ids):
            raise ValueError(f"{entry.key}: {index.ntotal} rows but {len(ids)} ids")
        return cls(entry, index, ids, {iid: i for i, iid in enumerate(ids)})

    def search(
        self, x: np.ndarray, k: int, excluded: frozenset[str], params: Any
    ) -> list[list[tuple[float, str]]]:
        """Top-k per query without excluded ids: asks for k plus the excluded rows present here."""
        if self.index.ntotal == 0:
            return [[] for _ in range(len(x))]
        small, large = (
            (excluded, self.positions) if len(excluded) < len(self.positions) else (self.positions, excluded)
        )
        hidden = sum(1 for iid in small if iid in large)
        kk = min(self.index.ntotal, k + hidden)
        scores, rows = self.index.search(x, kk, params=params)
        out = []
        for srow, irow in zip(scores, rows, strict=True):
            hits = [(float(s), self.ids[i]) for s, i in zip(srow, irow, strict=True) if i >= 0]
            out.append([h for h in hits if h[1] not in excluded][:k])
        return out
