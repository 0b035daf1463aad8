"""Search through the gateway: encode once, fan out to every replica, merge, hydrate, cache.

Cache keys carry the model version and the index versions searched, so a new model or a
new index version simply misses; nothing is ever invalidated by hand. Concurrent identical
misses share one execution (single-flight) for both the query embedding and the page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
from redis.exceptions import RedisError

from gateway.api.routes.images import content_path, thumbnail_path
from gateway.deps import Resources, collection_or_404
from gateway.query import digest
from gateway.resilience import SingleFlight
from services.common.catalog import ImageRecord
from services.common.clients import SearchClient
from services.common.clients.base import ServiceError, ServiceUnavailable
from services.common.errors import ApiError
from services.common.index_signals import Signal
from services.common.schemas.public import SearchResponse, SearchResult
from services.common.schemas.search import Hit, SearchParams
from services.common.schemas.search import SearchResponse as SearchReply
from services.common.shards import collection_index

log = logging.getLogger(__name__)
MODEL_INFO_TTL_S = 10.0
COLLECTIONS_TTL_S = 2.0


@dataclass(frozen=True)
class Page:
    collection_id: str | None
    top_k: int
    offset: int
    min_score: float | None


@dataclass
class FanOut:
    hits: list[Hit]
    total_candidates: int
    index_versions: dict[str, str]
    missing: list[str]  # shards (or, when unknown, replicas) that did not answer
    answered: set[tuple[str, str]]  # (collection, version) of every shard set that answered


class SearchEngine:
    def __init__(self, res: Resources) -> None:
        self.res = res
        self._embed_flight: SingleFlight[np.ndarray] = SingleFlight()
        self._page_flight: SingleFlight[tuple[SearchResponse, list[str]]] = SingleFlight()
        self._model_version: tuple[float, str] | None = None
        self._collections: tuple[float, list[str]] | None = None
        self._replica_shards: dict[str, list[int]] = {}

    async def model_version(self) -> str:
        now = time.monotonic()
        if self._model_version and now - self._model_version[0] < MODEL_INFO_TTL_S:
            return self._model_version[1]
        info = await self.res.encoder.model_info()
        self._model_version = (now, info.version)
        return info.version

    async def _collection_ids(self) -> list[str]:
        """All collections, listed from storage at most every few seconds (new ones start empty)."""
        now = time.monotonic()
        if self._collections is None or now - self._collections[0] > COLLECTIONS_TTL_S:
            records = await asyncio.to_thread(self.res.catalog.list_collections)
            self._collections = (now, [r.id for r in records])
        return self._collections[1]

    async def index_versions(self, collection_id: str | None) -> dict[str, str | None]:
        """Current index version of each collection searched (version plus tombstone generation).

        Redis answers in one round trip; a collection it does not know, or a Redis outage,
        falls back to the pointer objects in storage, the durable truth. An unknown
        collection id is a 404.
        """
        ids = [collection_id] if collection_id else await self._collection_ids()
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

    async def search_text(self, query: str, page: Page) -> tuple[SearchResponse, list[str]]:
        model_version = await self.model_version()

        async def vector() -> np.ndarray:
            return await self.embed_query(query, model_version)

        return await self._search(("text", query), vector, model_version, page, exclude=[])

    async def search_vector(
        self, source: str, vector: np.ndarray, model_version: str, page: Page, exclude: list[str]
    ) -> tuple[SearchResponse, list[str]]:
        async def given() -> np.ndarray:
            return vector

        return await self._search(("vector", source), given, model_version, page, exclude)

    async def _search(
        self,
        what: tuple[str, str],
        vector_fn: Callable[[], Awaitable[np.ndarray]],
        model_version: str,
        page: Page,
        exclude: list[str],
    ) -> tuple[SearchResponse, list[str]]:
        start = time.perf_counter()
        versions = await self.index_versions(page.collection_id)
        built = sorted((cid, v) for cid, v in versions.items() if v)
        index_version = (built[0][1] if len(built) == 1 else digest(*built)) if built else "empty"
        key = "qr:" + digest(model_version, index_version, *what, page, *exclude)
        cached = await self.res.guarded_cache.get(key)
        if cached is not None:
            response = SearchResponse.model_validate_json(cached)
            return self._stamp(response, start, cached=True), []

        async def compute() -> tuple[SearchResponse, list[str]]:
            if not built:  # nothing indexed yet: no replica has anything to search
                empty = SearchResponse(
                    results=[],
                    total_candidates=0,
                    took_ms=0.0,
                    cached=False,
                    model_version=model_version,
                    index_version=index_version,
                    partial=False,
                )
                return empty, []
            vector = await vector_fn()
            # Name the collections, even for "all": a replica then checks each one's latest
            # version on this request instead of relying on what it has heard so far.
            params = SearchParams(
                collection_ids=[cid for cid, _ in built],
                k=page.offset + page.top_k,
                exclude_ids=exclude,
                model_version=model_version,
            )
            fan = await self._fan_out(vector, params)
            hits = [h for h in fan.hits if page.min_score is None or h.score >= page.min_score]
            window = hits[page.offset : page.offset + page.top_k]
            results = await self._hydrate(window)
            response = SearchResponse(
                results=results,
                total_candidates=fan.total_candidates,
                took_ms=0.0,
                cached=False,
                model_version=model_version,
                index_version=index_version,
                partial=bool(fan.missing),
            )
            # A replica still on another version than the key names (it has not loaded the new
            # one yet) answers correctly for now, but its page must not be cached under the new key.
            expected = {cid: v.rsplit(".", 1)[0] for cid, v in built}
            lagging = any(expected.get(cid) != version for cid, version in fan.answered)
            if not fan.missing and not lagging:
                ttl = self.res.settings.result_cache_ttl_s
                await self.res.guarded_cache.set(key, response.model_dump_json().encode(), ttl)
            return response, fan.missing

        response, missing = await self._page_flight.run(key, compute)
        return self._stamp(response, start, cached=False), missing

    @staticmethod
    def _stamp(response: SearchResponse, start: float, cached: bool) -> SearchResponse:
        took = round((time.perf_counter() - start) * 1000, 3)
        return response.model_copy(update={"took_ms": took, "cached": cached})

    async def _fan_out(self, vector: np.ndarray, params: SearchParams) -> FanOut:
        timeout = self.res.settings.search_timeout_s

        async def one(client: SearchClient) -> SearchReply:
            return await asyncio.wait_for(client.search_vectors(vector, params), timeout)

        answers = await asyncio.gather(*(one(c) for c in self.res.search), return_exceptions=True)
        best: dict[str, Hit] = {}
        total = 0
        versions: dict[str, str] = {}
        missing: list[str] = []
        answered: set[tuple[str, str]] = set()
        for client, answer in zip(self.res.search, answers, strict=True):
            if isinstance(answer, BaseException):
                if isinstance(answer, ServiceError):
                    raise ApiError(answer.status, "search_error", str(answer.body))
                log.warning("search replica %s missing: %s", client.base_url, answer)
                known = self._replica_shards.get(client.base_url)
                missing.extend(map(str, known) if known else [client.base_url])
                continue
            self._replica_shards[client.base_url] = answer.shards
            total += answer.total_candidates
            versions.update(answer.index_versions)
            answered.update(answer.index_versions.items())
            for hit in answer.results[0]:
                if hit.image_id not in best or best[hit.image_id].score < hit.score:
                    best[hit.image_id] = hit
        if len(missing) == len(self.res.search):
            raise ServiceUnavailable("search", "no search replica answered")
        hits = sorted(best.values(), key=lambda h: -h.score)
        return FanOut(
            hits=hits, total_candidates=total, index_versions=versions, missing=missing, answered=answered
        )

    async def _hydrate(self, hits: list[Hit]) -> list[SearchResult]:
        records = await asyncio.gather(*(self._record(h.image_id) for h in hits))
        auth = self.res.auth
        return [
            SearchResult(
                image_id=hit.image_id,
                collection_id=hit.collection_id,
                score=round(hit.score, 6),
                filename=record.filename,
                url=auth.sign(content_path(hit.image_id)),
                thumbnail_url=auth.sign(thumbnail_path(hit.image_id)),
            )
            for hit, record in zip(hits, records, strict=True)
            if record is not None  # deleted since it was indexed
        ]

    async def _record(self, image_id: str) -> ImageRecord | None:
        key = f"img:{image_id}"
        cached = await self.res.guarded_cache.get(key)
        if cached is not None:
            return ImageRecord.model_validate_json(cached)
        record = await asyncio.to_thread(self.res.catalog.get_image, image_id)
        if record is not None:
            await self.res.guarded_cache.set(key, record.model_dump_json().encode(), 3600)
        return record
