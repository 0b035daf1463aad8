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

import numpy as np
from redis.exceptions import RedisError

from gateway.candidates import Candidates, CorruptCandidates, LocalCandidates
from gateway.fanout import FanOutClient
from gateway.filtering import UNFILTERED, Allowed, resolve
from gateway.hybrid import HybridSearch
from gateway.hydrate import Hydrator
from gateway.plan import NO_CANDIDATES, Fetched, Outcome, Page, Plan, Scoring, TextOptions, by_date_taken
from gateway.query import digest
from gateway.resilience import SingleFlight
from gateway.resources import Resources, collection_or_404
from services.common.catalog import image_key
from services.common.clients import EncoderClient
from services.common.errors import ApiError
from services.common.hybrid import parse_query
from services.common.index_signals import Signal
from services.common.routing import index_id, read_routing
from services.common.schemas.encoder import ModelInfo
from services.common.schemas.public import (
    MAX_DEPTH,
    EmptyReason,
    RefineWeights,
    SearchResponse,
)
from services.common.schemas.search import Hit, SearchParams
from services.common.shards import collection_index

log = logging.getLogger(__name__)
FIRST_DEPTH = 100
LOCAL_CANDIDATE_BYTES = 32 << 20


class QueryPlanner:
    """The gateway's side of a search: which model and index versions answer it (so the cache keys),
    one fan-out to the replicas on a miss, their hits merged, the page cut and hydrated."""

    def __init__(self, res: Resources) -> None:
        self.res = res
        self._embed_flight: SingleFlight[np.ndarray] = SingleFlight()
        self._candidate_flight: SingleFlight[Fetched] = SingleFlight()
        self._info_flight: SingleFlight[ModelInfo] = SingleFlight()
        self._model_info: tuple[float, ModelInfo] | None = None
        self._base: str | None = None  # the routing's base model once a switch happened
        self._clients: dict[str, EncoderClient] = {}  # model version -> its encoder
        self._local = LocalCandidates(LOCAL_CANDIDATE_BYTES, res.settings.result_cache_ttl_s)
        self.fan = FanOutClient(res.search, res.settings.search_timeout_s)
        self.hydrator = Hydrator(res)
        self.hybrid = HybridSearch(self)

    async def model_info(self) -> ModelInfo:
        """The serving model (version, relevance threshold), asked every few seconds: the routing
        record names it once a model switch happened (its encoder is the one serving it), else the
        encoder's own model serves."""
        if (
            self._model_info
            and time.monotonic() - self._model_info[0] < self.res.settings.model_info_refresh_s
        ):
            return self._model_info[1]

        async def ask() -> ModelInfo:
            routing = await asyncio.to_thread(read_routing, self.res.store)
            if routing is None:
                client, info = self.res.encoder, await self.res.encoder.model_info()
            else:
                client, info = await self.res.encoders.get(routing.serving)
                self._base = routing.base
            self._clients[info.version] = client
            self._model_info = (time.monotonic(), info)
            return info

        return await self._info_flight.run("model", ask)

    def encoder(self, model_version: str) -> EncoderClient:
        """The client of the encoder serving `model_version` (known from `model_info`)."""
        return self._clients.get(model_version, self.res.encoder)

    def index_id(self, collection_id: str, model_version: str) -> str:
        """Where `model_version`'s index of a collection lives (`services.common.routing`)."""
        return index_id(collection_id, model_version, self._base)

    async def index_versions(
        self, collection_id: str | None, scope: tuple[str, ...] | None, model_version: str
    ) -> dict[str, str | None]:
        """Current index version of each collection searched (version plus tombstone generation),
        of `model_version`'s index of it (the serving model's, during or after a model switch).

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
        iids = {cid: self.index_id(cid, model_version) for cid in ids}
        signals: dict[str, Signal] = {}
        if not self.res.guarded_cache.is_open:
            try:
                signals = await self.res.signals.latest(list(iids.values()))
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("index signals unavailable, reading storage: %s", exc)
        out: dict[str, str | None] = {}
        unknown = []
        for cid, iid in iids.items():
            signal = signals.get(iid)
            if signal is not None and signal.version is not None:
                out[cid] = f"{signal.version}.{signal.tombgen}"
            else:
                unknown.append(cid)
        store = self.res.store
        found = await asyncio.gather(*(asyncio.to_thread(collection_index, store, iids[c]) for c in unknown))
        for cid, index in zip(unknown, found, strict=True):
            out[cid] = index.index_version
        if collection_id and out[collection_id] is None:
            await collection_or_404(collection_id, self.res)
        return out

    async def embed_query(self, query: str, model_version: str) -> np.ndarray:
        key = f"qe:{model_version}:{digest(query)}"

        async def compute() -> np.ndarray:
            cached = await self.res.guarded_cache.get(key)
            if cached is not None:
                return np.frombuffer(cached, dtype=np.float32)
            vectors, version = await self.encoder(model_version).embed_texts([query])
            vector = np.ascontiguousarray(vectors[0], dtype=np.float32)
            if version == model_version:  # kept after the vector goes on to the replicas
                ttl = self.res.settings.embedding_cache_ttl_s
                self.res.guarded_cache.set_soon(key, vector.tobytes(), ttl)
            return vector

        return await self._embed_flight.run(key, compute)

    async def search_text(self, query: str, page: Page, options: TextOptions | None = None) -> Outcome:
        """Images for a text: its exclusions parsed out, then dense, keyword or both rankings fused."""
        options = options or TextOptions()
        parsed = parse_query(query, options.exclude)
        if not parsed.positive:
            raise ApiError(
                422, "nothing_to_find", "The query only says what to leave out; say what to find as well."
            )
        info = await self.model_info()
        scoring = Scoring(info.relevance_threshold, info.calibrated, info.exclusion_threshold)
        if options.mode == "dense" and not parsed.exclude:

            async def vector() -> np.ndarray:
                return await self.embed_query(parsed.positive, info.version)

            outcome = await self._search(("text", parsed.positive), vector, info.version, page, [], scoring)
            response = outcome.response.model_copy(update={"mode": "dense", "searched": parsed.positive})
            return Outcome(response, outcome.missing, outcome.skipped)
        return await self.hybrid.search(parsed, page, options, info.version, scoring)

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
        plan = await self.plan(page, model_version)
        fetched = await self.dense(plan, what, lambda: asyncio.shield(vector), model_version, exclude, page)
        response = await self._page(fetched, page, scoring, model_version, plan.index_version, plan.allowed)
        took = round((time.perf_counter() - start) * 1000, 3)
        return Outcome(response.model_copy(update={"took_ms": took}), fetched.missing, fetched.skipped)

    async def plan(self, page: Page, model_version: str) -> Plan:
        """The index versions a search reads (its cache keys) and what its filter leaves to search."""
        versions = await self.index_versions(page.collection_id, page.scope, model_version)
        built = sorted((cid, v) for cid, v in versions.items() if v)
        index_version = (built[0][1] if len(built) == 1 else digest(*built)) if built else "empty"
        searched = [page.collection_id] if page.collection_id else page.scope
        searched_ids = None if searched is None else list(searched)
        allowed = UNFILTERED
        if page.filters is not None:
            allowed = await resolve(
                self.res.catalog, page.filters, searched_ids, self.res.settings.filter_chunk_ids
            )
        iids = {cid: iid for cid, _ in built if (iid := self.index_id(cid, model_version)) != cid}
        return Plan(built, index_version, allowed, searched_ids, iids)

    async def dense(
        self,
        plan: Plan,
        what: tuple[str, str],
        vector_fn: Callable[[], Awaitable[np.ndarray]],
        model_version: str,
        exclude: list[str],
        page: Page,
    ) -> Fetched:
        """The dense candidate list for `what` under `plan` (cached by versions, query and filter)."""
        if not plan.built or plan.allowed.nothing:  # no replica has anything to search
            return Fetched(NO_CANDIDATES, cached=False)
        key = "qc:" + digest(model_version, *plan.built, *what, *exclude, plan.allowed.key)
        end = page.offset + page.top_k
        return await self._candidates(key, vector_fn, plan, model_version, exclude, end)

    async def scores_of(
        self, vector: np.ndarray, plan: Plan, model_version: str, image_ids: list[str]
    ) -> dict[str, Hit]:
        """Exact scores of these images for `vector`, from the replicas; an id not indexed is absent."""
        if not image_ids or not plan.built:
            return {}
        params = SearchParams(
            collection_ids=plan.replica_ids(),
            k=len(image_ids),
            model_version=model_version,
            versions=plan.replica_versions(),
        )
        fan = await self.fan.search_allowed(vector, params, [image_ids])
        return {h.image_id: h for h in fan.hits}

    async def image_vectors(self, records: list[tuple[str, str]]) -> tuple[np.ndarray, str]:
        """Stored images' vectors (collection id, image id), embedded by the encoder from storage."""
        info = await self.model_info()
        keys = [image_key(cid, iid) for cid, iid in records]
        got = await self.encoder(info.version).embed_image_keys(keys)
        if got.errors:
            index = min(got.errors)
            raise ApiError(422, "unreadable_image", f"Image {records[index][1]!r} cannot be read.")
        return got.vectors, got.model_version

    async def refine(
        self,
        query: str | None,
        positives: list[tuple[str, str]],
        negatives: list[tuple[str, str]],
        weights: RefineWeights,
        page: Page,
    ) -> Outcome:
        """More like the positives, fewer like the negatives (Rocchio): w_q·query + w_p·mean(positives)
        − w_n·mean(negatives), at unit length; the examples themselves are left out of the results."""
        info = await self.model_info()
        text = parse_query(query).positive if query else ""
        combined: np.ndarray | None = None
        examples = positives + negatives
        if text and examples:
            q, (vectors, version) = await asyncio.gather(
                self.embed_query(text, info.version), self.image_vectors(examples)
            )
        elif examples:
            q, (vectors, version) = None, await self.image_vectors(examples)
        else:
            q, vectors, version = await self.embed_query(text, info.version), None, info.version
        if version != info.version:
            raise ApiError(503, "model_switching", "The serving model is changing; try again.")
        combined = weights.query * q if q is not None else None
        if vectors is not None:
            pos, neg = vectors[: len(positives)], vectors[len(positives) :]
            parts = [weights.positive * pos.mean(axis=0)] if len(pos) else []
            parts += [-weights.negative * neg.mean(axis=0)] if len(neg) else []
            combined = sum(parts, start=combined if combined is not None else np.zeros_like(vectors[0]))
        norm = float(np.linalg.norm(combined)) if combined is not None else 0.0
        if combined is None or norm < 1e-6:
            raise ApiError(422, "nothing_to_find", "The weights cancel out: nothing is left to search for.")
        vector = np.ascontiguousarray(combined / norm, dtype=np.float32)
        source = "refine:" + digest(
            text, *(i for _, i in positives), "-", *(i for _, i in negatives), weights.model_dump_json()
        )
        exclude = sorted({i for _, i in examples})
        return await self.search_vector(source, vector, info.version, page, exclude)

    async def _candidates(
        self,
        key: str,
        vector_fn: Callable[[], Awaitable[np.ndarray]],
        plan: Plan,
        model_version: str,
        exclude: list[str],
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

        depth = fetch_depth(end)

        async def compute() -> Fetched:
            vector = await vector_fn()
            # Name the collections, even for "all": a replica then checks each one's latest
            # version on this request instead of relying on what it has heard so far.
            params = SearchParams(
                collection_ids=plan.replica_ids(),
                k=depth,
                exclude_ids=exclude,
                model_version=model_version,
                versions=plan.replica_versions(),
            )
            if plan.allowed.chunks is None:
                fan = await self.fan.search(vector, params)
            else:
                fan = await self.fan.search_allowed(vector, params, plan.allowed.chunks)
            candidates = Candidates.from_hits(fan.hits, fan.total_candidates, depth)
            # A replica still on another version than the key names (it has not loaded the new
            # one yet) answers correctly for now, but its list must not be cached under the new
            # key; neither may a list some replica or collection is missing from.
            expected = {cid: v.rsplit(".", 1)[0] for cid, v in plan.replica_versions().items()}
            lagging = any(expected.get(cid) != version for cid, version in fan.answered)
            if not fan.partial and not lagging:
                settings = self.res.settings
                data = candidates.encode(settings.candidate_cache_max_bytes)
                self._local.put(key, Candidates.decode(data), len(data))  # what the shared cache holds
                self.res.guarded_cache.set_soon(key, data, settings.result_cache_ttl_s)
            return Fetched(candidates, cached=False, missing=fan.missing, skipped=sorted(fan.skipped))

        # Concurrent misses share the fetch of the deepest list one of them needs.
        return await self._candidate_flight.run(f"{key}:{depth}", compute)

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
        results = await self.hydrator.results(hits, scoring.threshold, page.epoch)
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


def fetch_depth(end: int) -> int:
    """How deep a query's candidate list is fetched for a page ending at rank `end`.

    Four times the page's end, at least FIRST_DEPTH, at most MAX_DEPTH: the first pages of a
    query (almost every request) ask the replicas for ~100 hits instead of 1,200, and paging on
    refetches the list (under the same key) only each time it goes four times deeper. Measured
    on the 20,000-image bench stack (2 cores): a new query took 32 ms at depth 1,200, most of it
    turning 1,200 hits per replica into JSON and back.
    """
    return min(MAX_DEPTH, max(FIRST_DEPTH, 4 * end))


def _retrieve(task: asyncio.Future[np.ndarray]) -> None:
    """A speculative vector nobody awaited: its failure was not this request's; log, never raise."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("query vector not needed and failed: %s", task.exception())
