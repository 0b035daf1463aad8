"""Search through the gateway: encode once, fan out to every replica, merge, cache, cut pages.

A query's candidate list (ids and scores, up to `MAX_DEPTH`) is cached once per model
version, index versions searched, query, exclusions and the images its filter matched; each
request cuts its page, its `min_score` and its `match` labels from it, then hydrates and signs
just that page. Keys carry the versions (and a filter's matched ids, gateway/filtering.py), so a
new model, a new index version or an edit that changes what a filter matches simply misses;
nothing is ever invalidated by hand. Concurrent identical misses share one execution
(single-flight) for both the query embedding and the candidate list, whatever page each asked for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from redis.exceptions import RedisError

from gateway.candidates import Candidates, CorruptCandidates, LocalCandidates
from gateway.fanout import FanOutClient
from gateway.filtering import UNFILTERED, Allowed, resolve
from gateway.hydrate import Hydrator
from gateway.query import digest
from gateway.resilience import SingleFlight
from gateway.resources import Resources, collection_or_404
from services.common.index_signals import Signal
from services.common.schemas.catalog import ImageFilter
from services.common.schemas.encoder import ModelInfo
from services.common.schemas.public import MAX_DEPTH, EmptyReason, SearchOrder, SearchResponse, SearchResult
from services.common.schemas.search import SearchParams
from services.common.shards import collection_index

log = logging.getLogger(__name__)
LOCAL_CANDIDATE_BYTES = 32 << 20
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


@dataclass(frozen=True)
class Scoring:
    """How one query's scores read: the threshold of `match` labels, and whether the model has one."""

    threshold: float | None
    calibrated: bool


@dataclass
class Fetched:
    candidates: Candidates
    cached: bool
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    response: SearchResponse
    missing: list[str]  # shards or replicas that did not answer
    skipped: list[str]  # collections a replica answered without searching


class QueryPlanner:
    """The gateway's side of a search: which model and index versions answer it (so the cache keys),
    one fan-out to the replicas on a miss, their hits merged, the page cut and hydrated."""

    def __init__(self, res: Resources) -> None:
        self.res = res
        self._embed_flight: SingleFlight[np.ndarray] = SingleFlight()
        self._candidate_flight: SingleFlight[Fetched] = SingleFlight()
        self._info_flight: SingleFlight[ModelInfo] = SingleFlight()
        self._model_info: tuple[float, ModelInfo] | None = None
        self._local = LocalCandidates(LOCAL_CANDIDATE_BYTES, res.settings.result_cache_ttl_s)
        self.fan = FanOutClient(res.search, res.settings.search_timeout_s)
        self.hydrator = Hydrator(res)

    async def model_info(self) -> ModelInfo:
        """The serving model (version, relevance threshold), asked of the encoder every few seconds."""
        if (
            self._model_info
            and time.monotonic() - self._model_info[0] < self.res.settings.model_info_refresh_s
        ):
            return self._model_info[1]

        async def ask() -> ModelInfo:
            info = await self.res.encoder.model_info()
            self._model_info = (time.monotonic(), info)
            return info

        return await self._info_flight.run("model", ask)

    async def index_versions(
        self, collection_id: str | None, scope: tuple[str, ...] | None = None
    ) -> dict[str, str | None]:
        """Current index version of each collection searched (version plus tombstone generation).

        Redis answers in one round trip; a collection it does not know, or a Redis outage,
        falls back to the pointer objects in storage, the durable truth. An unknown
        collection id is a 404.
        """
        if collection_id:
            ids = [collection_id]
        elif scope is not None:  # the caller's collections, just read from the catalog
            ids = list(scope)
        else:  # every collection: one indexed query, cheap enough to need no cached listing
            ids = await asyncio.to_thread(self.res.catalog.collection_ids)
        signals: dict[str, Signal] = {}
        if not self.res.guarded_cache.is_open:
            try:
                signals = await self.res.signals.latest(ids)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("index signals unavailable, reading storage: %s", exc)
        out: dict[str, str | None] = {}
        unknown = []
        for cid in ids:
            signal = signals.get(cid)
            if signal is not None and signal.version is not None:
                out[cid] = f"{signal.version}.{signal.tombgen}"
            else:
                unknown.append(cid)
        store = self.res.store
        for index in await asyncio.gather(*(asyncio.to_thread(collection_index, store, c) for c in unknown)):
            out[index.collection_id] = index.index_version
        if collection_id and out[collection_id] is None:
            await collection_or_404(collection_id, self.res)
        return out

    async def embed_query(self, query: str, model_version: str) -> np.ndarray:
        key = f"qe:{model_version}:{digest(query)}"

        async def compute() -> np.ndarray:
            cached = await self.res.guarded_cache.get(key)
            if cached is not None:
                return np.frombuffer(cached, dtype=np.float32)
            vectors, version = await self.res.encoder.embed_texts([query])
            vector = np.ascontiguousarray(vectors[0], dtype=np.float32)
            if version == model_version:
                await self.res.guarded_cache.set(
                    key, vector.tobytes(), self.res.settings.embedding_cache_ttl_s
                )
            return vector

        return await self._embed_flight.run(key, compute)

    async def search_text(self, query: str, page: Page) -> Outcome:
        info = await self.model_info()

        async def vector() -> np.ndarray:
            return await self.embed_query(query, info.version)

        scoring = Scoring(info.relevance_threshold, info.calibrated)
        return await self._search(("text", query), vector, info.version, page, [], scoring)

    async def search_vector(
        self, source: str, vector: np.ndarray, model_version: str, page: Page, exclude: list[str]
    ) -> Outcome:
        """Images like an image. The calibration is of text-to-image scores, so no `match` label."""
        info = await self.model_info()

        async def given() -> np.ndarray:
            return vector

        scoring = Scoring(None, info.calibrated)
        return await self._search(("vector", source), given, model_version, page, exclude, scoring)

    async def _search(
        self,
        what: tuple[str, str],
        vector_fn: Callable[[], Awaitable[np.ndarray]],
        model_version: str,
        page: Page,
        exclude: list[str],
        scoring: Scoring,
    ) -> Outcome:
        start = time.perf_counter()
        # The query vector is asked for at once, beside the version lookup and the filter: a new
        # query then waits for the longer of them, not their sum. (A query whose list is cached
        # costs a cached embedding read at most; its vector is kept for the next miss.)
        vector = asyncio.ensure_future(vector_fn())
        vector.add_done_callback(_retrieve)
        versions = await self.index_versions(page.collection_id, page.scope)
        built = sorted((cid, v) for cid, v in versions.items() if v)
        index_version = (built[0][1] if len(built) == 1 else digest(*built)) if built else "empty"
        allowed = UNFILTERED
        if page.filters is not None:
            searched = [page.collection_id] if page.collection_id else page.scope
            allowed = await resolve(
                self.res.catalog,
                page.filters,
                None if searched is None else list(searched),
                self.res.settings.filter_chunk_ids,
            )
        if built and not allowed.nothing:  # else no replica has anything to search
            key = "qc:" + digest(model_version, *built, *what, *exclude, allowed.key)
            end = page.offset + page.top_k
            fetched = await self._candidates(
                key, lambda: asyncio.shield(vector), built, model_version, exclude, allowed, end
            )
        else:
            fetched = Fetched(NO_CANDIDATES, cached=False)
        response = await self._page(fetched, page, scoring, model_version, index_version, allowed)
        took = round((time.perf_counter() - start) * 1000, 3)
        return Outcome(response.model_copy(update={"took_ms": took}), fetched.missing, fetched.skipped)

    async def _candidates(
        self,
        key: str,
        vector_fn: Callable[[], Awaitable[np.ndarray]],
        built: list[tuple[str, str]],
        model_version: str,
        exclude: list[str],
        allowed: Allowed,
        end: int,
    ) -> Fetched:
        """The query's candidate list: from a cache when it holds ranks `[0, end)`, else one fan-out."""
        local = self._local.get(key)
        if local is not None and local.covers(end):
            return Fetched(local, cached=True)
        raw = await self.res.guarded_cache.get(key)
        if raw is not None:
            try:
                candidates = Candidates.decode(raw)
            except CorruptCandidates as exc:
                log.warning("unreadable cached candidates %s: %s", key, exc)
            else:
                self._local.put(key, candidates, len(raw))
                if candidates.covers(end):
                    return Fetched(candidates, cached=True)

        async def compute() -> Fetched:
            vector = await vector_fn()
            # Name the collections, even for "all": a replica then checks each one's latest
            # version on this request instead of relying on what it has heard so far.
            params = SearchParams(
                collection_ids=[cid for cid, _ in built],
                k=MAX_DEPTH,
                exclude_ids=exclude,
                model_version=model_version,
            )
            if allowed.chunks is None:
                fan = await self.fan.search(vector, params)
            else:
                fan = await self.fan.search_allowed(vector, params, allowed.chunks)
            candidates = Candidates.from_hits(fan.hits, fan.total_candidates, MAX_DEPTH)
            # A replica still on another version than the key names (it has not loaded the new
            # one yet) answers correctly for now, but its list must not be cached under the new
            # key; neither may a list some replica or collection is missing from.
            expected = {cid: v.rsplit(".", 1)[0] for cid, v in built}
            lagging = any(expected.get(cid) != version for cid, version in fan.answered)
            if not fan.partial and not lagging:
                settings = self.res.settings
                data = candidates.encode(settings.candidate_cache_max_bytes)
                self._local.put(key, Candidates.decode(data), len(data))  # what the shared cache holds
                await self.res.guarded_cache.set(key, data, settings.result_cache_ttl_s)
            return Fetched(candidates, cached=False, missing=fan.missing, skipped=sorted(fan.skipped))

        return await self._candidate_flight.run(key, compute)

    async def _page(
        self,
        fetched: Fetched,
        page: Page,
        scoring: Scoring,
        model_version: str,
        index_version: str,
        allowed: Allowed,
    ) -> SearchResponse:
        """One page of the list: `min_score` (or the threshold, for `auto`) cuts it, then the window."""
        candidates = fetched.candidates
        min_score = scoring.threshold if page.min_score == "auto" else page.min_score
        kept = candidates.count_at_least(None if isinstance(min_score, str) else min_score)
        hits = candidates.hits(page.offset, min(page.offset + page.top_k, kept))
        results = await self.hydrator.results(hits, scoring.threshold)
        if page.order == "taken_at":
            results = by_date_taken(results)
        reason: EmptyReason | None = None
        if not results:
            if allowed.nothing:
                reason = "filter_matched_nothing"
            elif not candidates:
                reason = "nothing_indexed"
            elif kept == 0:
                reason = "no_strong_match" if page.min_score == "auto" else "below_min_score"
            else:
                reason = "past_the_end"
        return SearchResponse(
            results=results,
            total_candidates=candidates.total_candidates,
            took_ms=0.0,
            cached=fetched.cached,
            model_version=model_version,
            index_version=index_version,
            partial=bool(fetched.missing or fetched.skipped),
            relevance_threshold=scoring.threshold,
            calibrated=scoring.calibrated,
            best_score=None if candidates.best_score is None else round(candidates.best_score, 6),
            empty_reason=reason,
        )


def _retrieve(task: asyncio.Future[np.ndarray]) -> None:
    """A speculative vector nobody awaited: its failure was not this request's; log, never raise."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("query vector not needed and failed: %s", task.exception())


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
