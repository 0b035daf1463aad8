"""The indexer app: its resources and readiness, opened and closed in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.cache import open_cache
from services.common.clients import EncoderClient
from services.common.resources import cache_check, peer_check, storage_check
from services.common.storage import open_store
from services.indexer.settings import IndexerSettings


def create_app(settings: IndexerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.storage)
        cache = open_cache(settings.cache)
        encoder = EncoderClient(settings.encoder_url, settings.http_timeout_s)
        app.state.store, app.state.cache, app.state.encoder = store, cache, encoder
        app.state.readiness_checks += [
            storage_check(store),
            cache_check(cache, required=settings.cache.redis_url is not None),
            peer_check(encoder),
        ]
        try:
            yield
        finally:
            await encoder.aclose()
            await cache.close()
            store.close()

    return create_service_app(
        service="indexer",
        title="Tìm Ảnh indexer",
        version="0.1.0",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
