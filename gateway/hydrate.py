"""Hits into public results: image records (cached per image), `match` labels, freshly signed URLs.

URLs are signed when a response is made, never cached with a page: every URL a client gets
has at least its full lifetime left, however long its candidate list has been cached. (A
URL signed moments ago is reused while that still holds; with expiries rounded up to the
hour, signing costs one HMAC pair per image per hour rather than per response.)
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from urllib.parse import parse_qs, urlsplit

from gateway.api.routes.images import content_path, thumbnail_path
from gateway.resilience import SingleFlight
from gateway.resources import Resources
from services.common.catalog import ImageRecord
from services.common.schemas.public import Match, SearchResult
from services.common.schemas.search import Hit

LOCAL_RECORDS = 20_000
LOCAL_TTL_S = 60.0
URL_LIFETIME_S = 3600  # what a signed URL promises from the moment it is handed out


def match(score: float, threshold: float | None) -> Match | None:
    if threshold is None:
        return None
    return "strong" if score >= threshold else "weak"


class Hydrator:
    """Image records from a small in-process LRU, then the shared cache, then the catalog.

    Lookups of one image share one execution: a burst of identical queries hydrates each
    image once, not once per request.
    """

    def __init__(self, res: Resources) -> None:
        self.res = res
        self._local: OrderedDict[str, tuple[float, ImageRecord]] = OrderedDict()
        self._flight: SingleFlight[ImageRecord | None] = SingleFlight()
        self._urls: OrderedDict[str, tuple[float, str, str]] = OrderedDict()  # id -> (exp, url, thumb)

    async def results(self, hits: list[Hit], threshold: float | None) -> list[SearchResult]:
        records = [self._fresh(h.image_id) for h in hits]  # the hot path: no await at all
        misses = [i for i, r in enumerate(records) if r is None]
        if misses:
            found = await asyncio.gather(*(self.record(hits[i].image_id) for i in misses))
            for i, record in zip(misses, found, strict=True):
                records[i] = record
        out = []
        for hit, record in zip(hits, records, strict=True):
            if record is None:  # deleted since it was indexed
                continue
            url, thumb = self._signed(hit.image_id)
            out.append(
                SearchResult(
                    image_id=hit.image_id,
                    collection_id=hit.collection_id,
                    score=round(hit.score, 6),
                    match=match(hit.score, threshold),
                    filename=record.filename,
                    url=url,
                    thumbnail_url=thumb,
                )
            )
        return out

    def _signed(self, image_id: str) -> tuple[str, str]:
        """The image's content and thumbnail URLs, with at least `URL_LIFETIME_S` left to live."""
        memo = self._urls.get(image_id)
        if memo is not None and memo[0] - time.time() >= URL_LIFETIME_S:
            return memo[1], memo[2]
        sign = self.res.auth.sign
        url = sign(content_path(image_id), URL_LIFETIME_S)
        thumb = sign(thumbnail_path(image_id), URL_LIFETIME_S)
        self._urls[image_id] = (min(_expiry(url), _expiry(thumb)), url, thumb)
        self._urls.move_to_end(image_id)
        while len(self._urls) > LOCAL_RECORDS:
            self._urls.popitem(last=False)
        return url, thumb

    def _fresh(self, image_id: str) -> ImageRecord | None:
        local = self._local.get(image_id)
        if local is None or local[0] <= time.monotonic():
            return None
        self._local.move_to_end(image_id)
        return local[1]

    async def record(self, image_id: str) -> ImageRecord | None:
        return self._fresh(image_id) or await self._flight.run(image_id, lambda: self._fetch(image_id))

    async def _fetch(self, image_id: str) -> ImageRecord | None:
        key = f"img:{image_id}"
        cached = await self.res.guarded_cache.get(key)
        if cached is not None:
            record: ImageRecord | None = ImageRecord.model_validate_json(cached)
        else:
            record = await asyncio.to_thread(self.res.catalog.get_image, image_id)
            if record is None:
                return None
            await self.res.guarded_cache.set(
                key, record.model_dump_json().encode(), self.res.settings.record_cache_ttl_s
            )
        assert record is not None
        self._local[image_id] = (time.monotonic() + LOCAL_TTL_S, record)
        self._local.move_to_end(image_id)
        while len(self._local) > LOCAL_RECORDS:
            self._local.popitem(last=False)
        return record


def _expiry(url: str) -> float:
    """The `exp` a signed URL carries; an unsigned one (auth off) never expires."""
    query = parse_qs(urlsplit(url).query)
    return float(query["exp"][0]) if "exp" in query else float("inf")
