"""Resources the lifespan opened, handed to routes as `Annotated` dependencies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.auth import Authenticator
from gateway.resilience import GuardedCache
from gateway.settings import GatewaySettings
from services.common.cache import Cache
from services.common.catalog import Catalog, CollectionRecord, ImageRecord
from services.common.clients import EncoderClient, IndexerClient, SearchClient
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

    def __post_init__(self) -> None:
        self.catalog = Catalog(self.store)
        self.guarded_cache = GuardedCache(self.cache)

    async def aclose(self) -> None:
        for client in (self.encoder, self.indexer, *self.search):
            await client.aclose()
        await self.signals.close()
        await self.cache.close()
        self.store.close()


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


# Declared so the OpenAPI schema documents both ways to send a key; Authenticator reads them.
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key")
BEARER = HTTPBearer(auto_error=False, description="The same API key as a bearer token")


async def authenticate(
    request: Request,
    res: ResourcesDep,
    _key: Annotated[str | None, Security(API_KEY_HEADER)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
) -> str:
    """Every `/api/v1` route: a valid API key when keys are configured, within its rate limit."""
    principal = res.auth.principal(request)
    await res.auth.check_rate(principal, res.guarded_cache)
    return principal


Principal = Annotated[str, Depends(authenticate)]


ID_PATTERN = r"^[A-Za-z0-9_-]+$"
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]


async def collection_or_404(collection_id: IdPath, res: ResourcesDep) -> CollectionRecord:
    record = await asyncio.to_thread(res.catalog.get_collection, collection_id)
    if record is None:
        raise ApiError(404, "collection_not_found", f"No collection with id {collection_id!r}.")
    return record


async def image_or_404(image_id: IdPath, res: ResourcesDep) -> ImageRecord:
    record = await asyncio.to_thread(res.catalog.get_image, image_id)
    if record is None:
        raise ApiError(404, "image_not_found", f"No image with id {image_id!r}.")
    return record


CollectionDep = Annotated[CollectionRecord, Depends(collection_or_404)]
ImageDep = Annotated[ImageRecord, Depends(image_or_404)]
