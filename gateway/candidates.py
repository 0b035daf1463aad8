"""One query's ranked candidates: merged once from the replicas, cached as compact bytes, cut per request.

Every page, `min_score` and `match` label of a query comes from the same list (up to
`MAX_DEPTH` hits), so `top_k`, `offset` and `min_score` never multiply cache keys. The bytes
are a small header, the float32 scores, a uint16 collection index per hit and the image ids
(16 bytes each when they are the catalog's 32-hex ids); `encode` drops the tail of the list
rather than exceed its byte budget, and says so, so one key's cost is bounded.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import numpy as np

from gateway.lru import LocalLRU
from services.common.schemas.search import Hit

_MAGIC = b"qc1"
_HEADER = struct.Struct("<3sBIII")  # magic, flags, total candidates, hits, collections
_EXHAUSTIVE, _HEX_IDS = 1, 2
_HEX_LEN = 32


class CorruptCandidates(ValueError):
    """Bytes that are not a candidate list (another format, truncated): read as a miss."""


@dataclass(frozen=True)
class Candidates:
    image_ids: list[str]
    collection_ids: list[str]
    scores: np.ndarray  # float32 [N], best first
    total_candidates: int  # vectors the replicas searched over
    exhaustive: bool  # the list holds every hit there is, not just the first `depth`

    @classmethod
    def from_hits(cls, hits: list[Hit], total_candidates: int, depth: int) -> Candidates:
        """`hits` best first, as merged from every replica that was asked for `depth`."""
        return cls(
            [h.image_id for h in hits],
            [h.collection_id for h in hits],
            np.asarray([h.score for h in hits], dtype=np.float32),
            total_candidates,
            exhaustive=len(hits) < depth,
        )

    def __len__(self) -> int:
        return len(self.image_ids)

    @property
    def best_score(self) -> float | None:
        return float(self.scores[0]) if len(self) else None

    def covers(self, end: int) -> bool:
        """Whether ranks `[0, end)` are all here (or there are no more)."""
        return self.exhaustive or end <= len(self)

    def count_at_least(self, min_score: float | None) -> int:
        """How many candidates score at least `min_score` (all when None); scores are sorted."""
        if min_score is None:
            return len(self)
        return int(np.searchsorted(-self.scores, -np.float32(min_score), side="right"))

    def hits(self, start: int, stop: int) -> list[Hit]:
        return [
            Hit(image_id=self.image_ids[i], collection_id=self.collection_ids[i], score=float(self.scores[i]))
            for i in range(start, min(stop, len(self)))
        ]

    def encode(self, max_bytes: int) -> bytes:
        """The list as bytes, its tail dropped (and `exhaustive` cleared) so it fits `max_bytes`."""
        names = list(dict.fromkeys(self.collection_ids))
        if len(names) > 0xFFFF:
            raise ValueError("more than 65535 collections in one candidate list")
        packed = _hex_packed(self.image_ids)
        hex_ids = packed is not None
        names_blob = "\n".join(names).encode()
        fixed = _HEADER.size + 4 + len(names_blob)
        if hex_ids:
            n = min(len(self), max(0, max_bytes - fixed) // (4 + 2 + _HEX_LEN // 2))
        else:
            per_hit = np.asarray([4 + 2 + len(i.encode()) + 1 for i in self.image_ids], dtype=np.int64)
            n = int(np.searchsorted(np.cumsum(per_hit), max_bytes - fixed, side="right"))
        exhaustive = self.exhaustive and n == len(self)
        index = {name: i for i, name in enumerate(names)}
        ids = self.image_ids[:n]
        id_blob = packed[: n * (_HEX_LEN // 2)] if packed is not None else "\n".join(ids).encode()
        flags = (_EXHAUSTIVE if exhaustive else 0) | (_HEX_IDS if hex_ids else 0)
        return b"".join(
            (
                _HEADER.pack(_MAGIC, flags, self.total_candidates, n, len(names)),
                struct.pack("<I", len(names_blob)),
                names_blob,
                self.scores[:n].astype("<f4").tobytes(),
                np.asarray([index[c] for c in self.collection_ids[:n]], dtype="<u2").tobytes(),
                id_blob,
            )
        )

    @classmethod
    def decode(cls, data: bytes) -> Candidates:
        try:
            magic, flags, total, n, n_names = _HEADER.unpack_from(data)
            if magic != _MAGIC:
                raise CorruptCandidates("not a candidate list")
            at = _HEADER.size
            (names_len,) = struct.unpack_from("<I", data, at)
            at += 4
            names = data[at : at + names_len].decode().split("\n") if n_names else []
            at += names_len
            scores = np.frombuffer(data, dtype="<f4", count=n, offset=at).astype(np.float32)
            at += 4 * n
            index = np.frombuffer(data, dtype="<u2", count=n, offset=at)
            at += 2 * n
            blob = data[at:]
            if flags & _HEX_IDS:
                hexed = blob.hex()
                ids = [hexed[i : i + _HEX_LEN] for i in range(0, len(hexed), _HEX_LEN)]
            else:
                ids = blob.decode().split("\n") if n else []
            collections = [names[i] for i in index]
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise CorruptCandidates(str(exc)) from exc
        if len(ids) != n or len(names) != n_names:
            raise CorruptCandidates("candidate list lengths disagree")
        return cls(ids, collections, scores, total, exhaustive=bool(flags & _EXHAUSTIVE))


_HEX_RE = re.compile(r"[0-9a-f]*")


def _hex_packed(ids: list[str]) -> bytes | None:
    """The ids as 16 bytes each when every one is a catalog id (32 lowercase hex digits), else
    None: one join, one regex pass and one conversion for the whole list, not a check per id."""
    if ids and (min(map(len, ids)) != _HEX_LEN or max(map(len, ids)) != _HEX_LEN):
        return None
    joined = "".join(ids)
    return bytes.fromhex(joined) if _HEX_RE.fullmatch(joined) else None


class LocalCandidates(LocalLRU[Candidates]):
    """The process's own LRU of recent lists, in front of the shared cache: the hot path needs no
    round trip, and a burst of identical queries while the shared cache is unreachable still
    costs one fan-out. Bounded by the bytes the lists would take encoded."""
