"""The search app: its resources and readiness, opened and closed in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.resources import storage_check
from services.common.storage import open_store
from services.search.settings import SearchSettings


def create_app(settings: SearchSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.storage)
        app.state.store = store
        app.state.readiness_checks.append(storage_check(store))
        try:
            yield
        finally:
            store.close()

    return create_service_app(
        service="search",
        title="Tìm Ảnh search",
        version="0.1.0",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
