"""Hits into public results: records, albums and tags (at most one catalog read a page), `match`,
signed URLs.

URLs are signed when a response is made, never cached with a page: every URL a client gets
has at least its full lifetime left, however long its candidate list has been cached. (A
URL signed moments ago is reused while that still holds; with expiries rounded up to the
hour, signing costs one HMAC pair per image per hour rather than per response.)
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from gateway.api.routes.images import content_path, thumbnail_path
from gateway.auth import URL_LIFETIME_S, url_expiry
from gateway.lru import LocalLRU
from gateway.resources import Resources
from services.common.catalog import ImageDetail
from services.common.schemas.public import AlbumRef, Match, SearchResult
from services.common.schemas.search import Hit

SIGNED_URLS = 20_000  # URLs kept for reuse, each for as long as it has its full lifetime left


def match(score: float, threshold: float | None) -> Match | None:
    if threshold is None:
        return None
    return "strong" if score >= threshold else "weak"


class Hydrator:
    """A page's image records, albums and tags in one catalog read, and their signed URLs.

    People edit records (notes, tags, albums), so a record is reused only under the search epoch
    it was read under: every catalog edit, index publish, tombstone and dropped collection
    changes the epoch, in this gateway and in every other (gateway/answers.py), which is the
    rule kept whole answers already live by. A page whose images were all read under the
    current epoch costs no catalog query and no hand-off to a thread; without an epoch (no
    Redis) every page is read fresh. Entries also expire after `answer_cache_ttl_s`, which
    bounds an edit whose epoch bump was lost, as for kept answers.
    """

    def __init__(self, res: Resources) -> None:
        self.res = res
        self._urls: OrderedDict[str, tuple[float, str, str]] = OrderedDict()  # id -> (exp, url, thumb)
        settings = res.settings
        # Sized by count (each entry size 1): a record with its labels is a few hundred bytes.
        self._records: LocalLRU[tuple[bytes, ImageDetail]] = LocalLRU(
            settings.record_cache_entries, settings.answer_cache_ttl_s
        )

    async def _records_of(self, hits: list[Hit], epoch: bytes | None) -> dict[str, ImageDetail]:
        """The hits' records by id (deleted ones absent): reused under `epoch`, the rest read."""
        ids = [h.image_id for h in hits]
        found: dict[str, ImageDetail] = {}
        if epoch is not None and self._records.max_bytes:
            for image_id in ids:
                entry = self._records.get(image_id)
                if entry is not None and entry[0] == epoch:
                    found[image_id] = entry[1]
        missing = [i for i in ids if i not in found]
        if not missing:
            return found
        read = await asyncio.to_thread(self.res.catalog.get_image_details, missing)
        if epoch is not None and self._records.max_bytes:
            for image_id, record in read.items():
                self._records.put(image_id, (epoch, record), 1)
        found.update(read)
        return found

    async def results(
        self, hits: list[Hit], threshold: float | None, epoch: bytes | None = None
    ) -> list[SearchResult]:
        if not hits:
            return []
        records = await self._records_of(hits, epoch)
        out = []
        for hit in hits:
            record = records.get(hit.image_id)
            if record is None:  # deleted since it was indexed
                continue
            url, thumb = self._signed(hit.image_id)
            label = match(hit.score, threshold)
            out.append(
                SearchResult(
                    image_id=hit.image_id,
                    collection_id=hit.collection_id,
                    score=round(hit.score, 6),
                    match=label,
                    matched=["image"] if label != "weak" else [],
                    filename=record.filename,
                    url=url,
                    thumbnail_url=thumb,
                    width=record.width,
                    height=record.height,
                    taken_at=record.taken_at,
                    taken_tz_offset_min=record.taken_tz_offset_min,
                    camera_make=record.camera_make,
                    camera_model=record.camera_model,
                    latitude=record.latitude,
                    longitude=record.longitude,
                    albums=[AlbumRef(id=a.id, name=a.name) for a in record.albums],
                    tags=record.tags,
                )
            )
        return out

    def expires(self, results: list[SearchResult]) -> float:
        """When the first of these results' signed URLs expires (inf for none, or unsigned ones)."""
        soonest = float("inf")
        for r in results:
            memo = self._urls.get(r.image_id)
            if memo is not None and memo[1] == r.url and memo[2] == r.thumbnail_url:
                soonest = min(soonest, memo[0])
            else:  # signed again since, or forgotten: read the URLs themselves
                soonest = min(soonest, url_expiry(r.url), url_expiry(r.thumbnail_url))
        return soonest

    def _signed(self, image_id: str) -> tuple[str, str]:
        """The image's content and thumbnail URLs, with at least `URL_LIFETIME_S` left to live."""
        memo = self._urls.get(image_id)
        if memo is not None and memo[0] - time.time() >= URL_LIFETIME_S:
            return memo[1], memo[2]
        sign = self.res.auth.sign
        url = sign(content_path(image_id), URL_LIFETIME_S)
        thumb = sign(thumbnail_path(image_id), URL_LIFETIME_S)
        self._urls[image_id] = (min(url_expiry(url), url_expiry(thumb)), url, thumb)
        self._urls.move_to_end(image_id)
        while len(self._urls) > SIGNED_URLS:
            self._urls.popitem(last=False)
        return url, thumb
