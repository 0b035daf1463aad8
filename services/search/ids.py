"""A segment's row ids, packed: what a replica keeps for each of its millions of rows besides the vector.

A list of str costs about 90 bytes a 32-character id (the object and its pointer) and the id ->
row dict beside it about 100 more; at a million rows that was 190 MB, a sixth of the replica's
memory next to 1 KB of 256-d floats a row. Here the ids are their UTF-8 bytes end to end plus
the offset where each ends: 40 bytes a 32-character id. Rows are found by id through the sorted
64-bit hashes of `allowlist.HashIndex` (16 bytes a row), each candidate confirmed by comparing
its id, so no id -> row dict is kept (but for the rare segment where two ids share a hash).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import SupportsIndex, overload

import numpy as np


class PackedIds(Sequence[str]):
    __slots__ = ("_blob", "_ends")

    def __init__(self, blob: bytes, ends: np.ndarray) -> None:
        self._blob = blob
        self._ends = ends  # int64: id i is blob[ends[i-1]:ends[i]] (ends[-1] of id 0 is 0)

    @classmethod
    def of(cls, ids: Iterable[str]) -> PackedIds:
        encoded = [i.encode() for i in ids]
        ends = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
        return cls(b"".join(encoded), ends)

    @classmethod
    def concat(cls, parts: Sequence[PackedIds]) -> PackedIds:
        if not parts:
            return cls.of([])
        shifts = np.cumsum([0] + [len(p._blob) for p in parts[:-1]])
        ends = np.concatenate([p._ends + s for p, s in zip(parts, shifts, strict=True)])
        return cls(b"".join(p._blob for p in parts), ends.astype(np.int64))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: SupportsIndex) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[j] for j in range(*index.indices(len(self)))]
        i, n = operator.index(index), len(self._ends)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        start = int(self._ends[i - 1]) if i else 0
        return self._blob[start : int(self._ends[i])].decode()

    def take(self, rows: Sequence[int]) -> list[str]:
        """The ids of these rows (each in range), in their order: one vectorised lookup of the
        offsets instead of two numpy scalar reads per row (a search's 100 hits: most of the
        replica's Python time per query before)."""
        if not len(rows):
            return []
        at = np.asarray(rows, dtype=np.int64)
        ends = self._ends[at]
        starts = np.where(at > 0, self._ends[at - 1], 0)
        blob = self._blob
        return [blob[a:b].decode() for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]

    def __iter__(self) -> Iterator[str]:
        blob, start = self._blob, 0
        for end in self._ends.tolist():
            yield blob[start:end].decode()
            start = end

    @property
    def nbytes(self) -> int:
        return len(self._blob) + self._ends.nbytes
