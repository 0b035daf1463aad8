"""What the gateway's lifespan opens, in one object, and the catalog lookups every layer shares."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gateway.access import CollectionDirectory
from gateway.answers import AnswerCache
from gateway.auth import Authenticator
from gateway.image_pool import ImagePool
from gateway.ratelimit import RateLimiter
from gateway.resilience import GuardedCache
from gateway.settings import GatewaySettings
from services.common.cache import Cache
from services.common.catalog import Catalog, CollectionRecord, ImageRecord
from services.common.clients import EncoderClient, IndexerClient, SearchClient
from services.common.clients.encoders import EncoderSet
from services.common.closing import Closable, shut_down
from services.common.errors import ApiError
from services.common.index_signals import IndexSignals
from services.common.storage import ObjectStore


@dataclass
class Resources:
    settings: GatewaySettings
    store: ObjectStore
    cache: Cache
    encoder: EncoderClient
    indexer: IndexerClient
    search: list[SearchClient]
    auth: Authenticator
    signals: IndexSignals
    images: ImagePool
    catalog: Catalog
    alt_encoders: list[EncoderClient] = field(default_factory=list)  # other models' deployments

    def __post_init__(self) -> None:
        s = self.settings
        self.encoders = EncoderSet([self.encoder, *self.alt_encoders], s.model_info_refresh_s)
        self.guarded_cache = GuardedCache(self.cache, s.cache_failure_threshold, s.cache_open_s)
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute, self.guarded_cache)
        self.directory = CollectionDirectory(self.catalog)
        self.answers = AnswerCache(self.signals, s.answer_cache_bytes, s.answer_cache_ttl_s)

    async def aclose(self) -> None:
        await self.guarded_cache.drain()
        clients: list[Closable] = [self.encoder, *self.alt_encoders, self.indexer, *self.search]
        await shut_down([], [*clients, self.signals, self.cache, self.images, self.catalog, self.store])


async def collection_or_404(collection_id: str, res: Resources) -> CollectionRecord:
    """The collection whatever its owner (the caller's access is checked by the route's dependency)."""
    record = await asyncio.to_thread(res.catalog.get_collection, collection_id)
    if record is None:
        raise ApiError(404, "collection_not_found", f"No collection with id {collection_id!r}.")
    return record


async def image_or_404(image_id: str, res: Resources) -> ImageRecord:
    record = await asyncio.to_thread(res.catalog.get_image, image_id)
    if record is None:
        raise ApiError(404, "image_not_found", f"No image with id {image_id!r}.")
    return record
