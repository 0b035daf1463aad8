"""Resources the lifespan opened, handed to routes as `Annotated` dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.common.cache import Cache
from services.common.clients import EncoderClient, IndexerClient, SearchClient
from services.common.storage import ObjectStore


@dataclass
class Resources:
    store: ObjectStore
    cache: Cache
    encoder: EncoderClient
    indexer: IndexerClient
    search: list[SearchClient]

    async def aclose(self) -> None:
        for client in (self.encoder, self.indexer, *self.search):
            await client.aclose()
        await self.cache.close()
        self.store.close()


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]
