"""Merged views: every held collection of one (model version, dim) in one FAISS index.

A search over all (or most) collections then costs one FAISS search, as over one collection of
the same total size, instead of one search per segment per collection merged in Python (with
100 collections of 1,000 rows, 400 small searches). A view holds the rows of its collections'
held segments, read back as the segments store them (so its scores are the ones those segments
rank by), an array mapping each view row to its collection, and the segments themselves for
their id -> row maps. Its index is Flat up to `flat_max` rows, else the `auto` type the indexer
would give one shard of that size.

A view is a snapshot of the held versions. It is rebuilt on the loader pool when they change,
debounced, and until the new one is in, a collection whose held version differs from the
view's is searched on its own segments and its rows in the view are hidden, so an answer is
exact for what is held and never mixes two versions of a collection. Hidden rows (collections
not asked for or stale, tombstoned or excluded ids) are over-fetched, as `LoadedSegment.search`
does, and dropped from the hits. Collections whose segments cannot give rows back, and groups
of one collection, get no view.

Memory: a view is a second copy of its collections' vectors (plus a graph past `flat_max`),
so a replica holding only collections that share a view needs about twice their index memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from services.common.routing import data_collection
from services.search.ids import PackedIds
from services.search.segment import LoadedSegment
from services.vector_index.build import build_index, resolve_index_type

if TYPE_CHECKING:
    from services.search.holder import HeldCollection

log = logging.getLogger(__name__)
REBUILD_SPACING = 3.0  # the next rebuild waits at least this many times the last one's time

ViewKey = tuple[str, int]  # (model version, dim)
Chosen = tuple[str, "HeldCollection", frozenset[str]]  # (collection, held version, ids hidden in it)


@dataclass(frozen=True)
class ViewConfig:
    flat_max: int = 20_000
    budget_bytes: int = 1 << 30
    debounce_s: float = 1.0


@dataclass(frozen=True)
class ViewPart:
    """One collection's rows `[start, stop)` of a view, from its segments in order."""

    number: int
    cid: str
    version: str
    start: int
    stop: int
    segments: tuple[tuple[int, LoadedSegment], ...]  # (first view row, segment)

    @property
    def rows(self) -> int:
        return self.stop - self.start

    def hidden_rows(self, ids: frozenset[str]) -> list[int]:
        """View rows of the given ids held in this part."""
        out: list[int] = []
        for offset, seg in self.segments:
            if len(ids) < len(seg.ids):
                out += (seg.rows_of_ids(ids) + offset).tolist()
            else:
                out += [offset + r for r, iid in enumerate(seg.ids) if iid in ids]
        return out


@dataclass(frozen=True)
class MergedView:
    key: ViewKey
    index: Any
    index_type: str
    parts: dict[str, ViewPart]
    cids: list[str]  # part number -> collection (the collection of a model's index id: hits name it)
    part_rows: np.ndarray  # part number -> rows
    owner: np.ndarray  # view row -> part number
    ids: PackedIds  # view row -> image id

    @property
    def rows(self) -> int:
        return len(self.ids)

    def covers(self, cid: str, held: HeldCollection) -> ViewPart | None:
        part = self.parts.get(cid)
        return part if part is not None and part.version == held.manifest.version else None

    def search(
        self, x: np.ndarray, k: int, covered: dict[str, frozenset[str]], params: Any
    ) -> list[list[tuple[float, str, str]]]:
        """Top-k (score, image id, collection) per query over the covered collections' rows,
        without their hidden ids: asks for k plus every hidden row present, then drops those."""
        hidden_parts = np.ones(len(self.cids), dtype=bool)
        hidden_rows: list[int] = []
        for cid, excluded in covered.items():
            part = self.parts[cid]
            hidden_parts[part.number] = False
            if excluded:
                hidden_rows += part.hidden_rows(excluded)
        hidden = int(self.part_rows[hidden_parts].sum()) + len(hidden_rows)
        kk = min(self.rows, k + hidden)
        scores, rows = self.index.search(x, kk, params=params)
        found = rows >= 0
        safe = np.where(found, rows, 0)
        keep = found & ~hidden_parts[self.owner[safe]]
        if hidden_rows:
            keep &= ~np.isin(safe, np.asarray(hidden_rows, dtype=np.int64))
        out = []
        for srow, rrow, krow in zip(scores, rows, keep, strict=True):
            at = np.flatnonzero(krow)[:k]
            picked = rrow[at]
            owners = [self.cids[o] for o in self.owner[picked].tolist()]
            out.append(list(zip(srow[at].tolist(), self.ids.take(picked), owners, strict=True)))
        return out


def readable(held: HeldCollection) -> bool:
    return all(seg.scorer.readable for seg in held.segments)


def build_view(key: ViewKey, members: dict[str, HeldCollection], config: ViewConfig) -> MergedView:
    """Blocking: one index over the members' rows, in collection order (runs on the loader pool)."""
    parts: dict[str, ViewPart] = {}
    blocks: list[np.ndarray] = []
    ids: list[PackedIds] = []
    rows = 0
    owners: list[np.ndarray] = []
    for number, cid in enumerate(sorted(members)):
        held = members[cid]
        start = rows
        placed = []
        for seg in held.segments:
            placed.append((rows, seg))
            blocks.append(seg.scorer.vectors(seg.index.ntotal))
            ids.append(seg.ids)
            rows += len(seg.ids)
        parts[cid] = ViewPart(number, cid, held.manifest.version, start, rows, tuple(placed))
        owners.append(np.full(rows - start, number, dtype=np.int32))
    x = np.vstack(blocks) if blocks else np.zeros((0, key[1]), dtype=np.float32)
    index_type = resolve_index_type("auto", len(x), key[1], config.budget_bytes, config.flat_max)
    index = build_index(x, index_type)
    cids = sorted(members)
    part_rows = np.asarray([parts[c].rows for c in cids], dtype=np.int64)
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int32)
    names = [data_collection(c) for c in cids]
    return MergedView(key, index, index_type, parts, names, part_rows, owner, PackedIds.concat(ids))


def build_views(
    held: dict[str, HeldCollection], config: ViewConfig, current: dict[ViewKey, MergedView]
) -> dict[ViewKey, MergedView]:
    """A view per (model version, dim) of two or more readable collections; one whose members
    and versions are unchanged is kept as it is."""
    groups: dict[ViewKey, dict[str, HeldCollection]] = {}
    for cid, h in held.items():
        if h.rows and readable(h):
            groups.setdefault((h.manifest.model_version, h.manifest.dim), {})[cid] = h
    out = {}
    for key, members in groups.items():
        if len(members) < 2:
            continue
        old = current.get(key)
        if (
            old is not None
            and old.parts.keys() == members.keys()
            and all(old.covers(c, h) for c, h in members.items())
        ):
            out[key] = old
            continue
        out[key] = build_view(key, members, config)
        log.info(
            "merged view %s: %d collections, %d rows, %s",
            key,
            len(members),
            out[key].rows,
            out[key].index_type,
        )
    return out


@dataclass
class ViewJob:
    view: MergedView
    covered: dict[str, frozenset[str]]  # collection -> ids hidden in it

    @property
    def rows(self) -> int:
        return sum(self.view.parts[cid].rows for cid in self.covered)


def plan(views: dict[ViewKey, MergedView], chosen: list[Chosen]) -> tuple[list[ViewJob], list[Chosen]]:
    """Which chosen collections a view answers and which are searched on their own segments.

    A view answers the collections it holds at their held version when they hold at least half
    of its rows; for a smaller subset, over-fetching past the rest of the view costs more than
    searching the subset's own segments.
    """
    if not views:
        return [], chosen
    jobs: dict[ViewKey, ViewJob] = {}
    rest: list[Chosen] = []
    entries: dict[ViewKey, list[Chosen]] = {}
    for entry in chosen:
        cid, held, excluded = entry
        key = (held.manifest.model_version, held.manifest.dim)
        view = views.get(key)
        if view is None or view.covers(cid, held) is None:
            rest.append(entry)
            continue
        jobs.setdefault(key, ViewJob(view, {})).covered[cid] = excluded
        entries.setdefault(key, []).append(entry)
    out = []
    for key, job in jobs.items():
        if 2 * job.rows >= job.view.rows:
            out.append(job)
        else:
            rest += entries[key]
    return out, rest


class ViewKeeper:
    """The replica's merged views, rebuilt in the background when the held versions change."""

    def __init__(
        self,
        config: ViewConfig,
        loader: ThreadPoolExecutor,
        held: Callable[[], dict[str, HeldCollection]],
        on_built: Callable[[dict[ViewKey, MergedView]], None] | None = None,
    ) -> None:
        self.config, self._loader, self._held, self._on_built = config, loader, held, on_built
        self.views: dict[ViewKey, MergedView] = {}
        self._dirty = False
        self._last_build_s = 0.0
        self._task: asyncio.Task[None] | None = None

    def changed(self) -> None:
        """The held versions changed: a rebuild follows after the debounce."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._rebuild())

    async def _rebuild(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty:
            # Changes arriving meanwhile fold into one build. Builds are spaced by a multiple of the
            # last one's time, so a library under steady ingestion spends at most a quarter of a
            # loader thread on rebuilding (a 100,000-row HNSW view took 26 s on 2 cores); the
            # collections changed meanwhile are searched on their own segments, exactly.
            await asyncio.sleep(max(self.config.debounce_s, REBUILD_SPACING * self._last_build_s))
            self._dirty = False
            snapshot = dict(self._held())
            started = time.perf_counter()
            try:
                self.views = await loop.run_in_executor(
                    self._loader, build_views, snapshot, self.config, self.views
                )
                self._last_build_s = time.perf_counter() - started
                if self._on_built is not None:
                    self._on_built(self.views)
            except (RuntimeError, ValueError, MemoryError) as exc:
                # Collections a view does not cover at their held version are searched on their own.
                log.error("merged views not rebuilt: %s", exc)

    async def settled(self) -> None:
        """Wait until no rebuild is pending (tests, benchmarks)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
