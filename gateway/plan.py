"""What one search is about to do, and what it did: the page asked for, the versions and filter
it reads, its candidate list and its answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from gateway.candidates import Candidates
from gateway.filtering import Allowed
from services.common.schemas.catalog import ImageFilter
from services.common.schemas.public import Fusion, SearchMode, SearchOrder, SearchResponse, SearchResult

NO_CANDIDATES = Candidates([], [], np.zeros(0, np.float32), 0, exhaustive=True)


@dataclass(frozen=True)
class Page:
    collection_id: str | None
    top_k: int
    offset: int
    min_score: float | str | None  # a cosine, "auto" (the model's relevance threshold) or None
    scope: tuple[str, ...] | None = None  # what a search over all covers (the caller's); None: all
    filters: ImageFilter | None = None
    order: SearchOrder = "relevance"
    # The search epoch read when the request came in (gateway/answers.py): image records read for
    # a page under it may serve later pages while it holds. None: read every page's records.
    epoch: bytes | None = None


@dataclass(frozen=True)
class Scoring:
    """How one query's scores read: the threshold of `match` labels, and whether the model has one."""

    threshold: float | None
    calibrated: bool
    exclusion: float | None = None  # the cosine from which an excluded phrase leaves an image out


@dataclass
class Fetched:
    candidates: Candidates
    cached: bool
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    built: list[tuple[str, str]]  # (collection id, index version) of every collection with an index
    index_version: str
    allowed: Allowed
    searched: list[str] | None  # the collections searched; None: every collection
    index_ids: dict[str, str] = field(default_factory=dict)  # collection -> another model's index id

    def replica_ids(self) -> list[str]:
        """What replicas are asked to search: the model's index id of each collection."""
        return [self.index_ids.get(cid, cid) for cid, _ in self.built]

    def replica_versions(self) -> dict[str, str]:
        return {self.index_ids.get(cid, cid): v for cid, v in self.built}


@dataclass(frozen=True)
class TextOptions:
    mode: SearchMode = "hybrid"
    exclude: tuple[str, ...] = ()
    fusion: Fusion | None = None


@dataclass(frozen=True)
class Outcome:
    response: SearchResponse
    missing: list[str]  # shards or replicas that did not answer
    skipped: list[str]  # collections a replica answered without searching


def by_date_taken(results: list[SearchResult]) -> list[SearchResult]:
    """Newest first, undated last; equal dates keep their relevance order (the sort is stable).
    Dates compare as the catalog keeps them (and filters them): UTC when the file stated its zone
    (an aware value here), else the camera's wall clock (a naive one)."""

    def when(r: SearchResult) -> tuple[bool, datetime]:
        taken = r.taken_at
        if taken is None:
            return False, datetime.min
        return True, taken.astimezone(UTC).replace(tzinfo=None) if taken.tzinfo else taken

    return sorted(results, key=when, reverse=True)
