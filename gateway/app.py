"""The gateway app: opens storage, cache and the service clients in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway.deps import Resources
from gateway.settings import GatewaySettings
from services.common.app import create_service_app
from services.common.cache import open_cache
from services.common.clients import EncoderClient, IndexerClient, SearchClient
from services.common.resources import cache_check, peer_check, storage_check
from services.common.storage import open_store


def open_resources(settings: GatewaySettings) -> Resources:
    timeout = settings.http_timeout_s
    return Resources(
        store=open_store(settings.storage),
        cache=open_cache(settings.cache),
        encoder=EncoderClient(settings.encoder_url, timeout),
        indexer=IndexerClient(settings.indexer_url, timeout),
        search=[SearchClient(url, timeout) for url in settings.search_urls],
    )


def create_app(settings: GatewaySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = open_resources(settings)
        app.state.resources = resources
        app.state.readiness_checks += [
            storage_check(resources.store),
            cache_check(resources.cache),  # searches go on uncached without it
            peer_check(resources.encoder),
            peer_check(resources.indexer),
            *(peer_check(c, f"search[{i}]") for i, c in enumerate(resources.search)),
        ]
        try:
            yield
        finally:
            await resources.aclose()

    return create_service_app(
        service="gateway",
        title="Tìm Ảnh API",
        version="0.1.0",
        description="Tìm ảnh bằng mô tả tiếng Việt: the public REST API of Tìm Ảnh.",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
