"""The gateway app: the public API under `/api/v1`, and the UI at `/` when it is built."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from gateway.answers import ServeKeptAnswers, StaleAnswersOnWrites
from gateway.api.routes import albums, collections, images, jobs, me, models, search
from gateway.auth import Authenticator
from gateway.deps import Resources, authenticate
from gateway.engine import QueryPlanner
from gateway.guard import ApiAuthMiddleware
from gateway.image_pool import ImagePool
from gateway.limits import BodyLimitMiddleware
from gateway.settings import GatewaySettings
from services.common.app import create_service_app
from services.common.cache import open_cache
from services.common.catalog import open_catalog
from services.common.catalog.health import catalog_check
from services.common.clients import (
    EncoderClient,
    IndexerClient,
    SearchClient,
    ServiceError,
    ServiceUnavailable,
)
from services.common.errors import ApiError, error_response
from services.common.index_signals import open_signals
from services.common.resources import cache_check, peer_check, storage_check
from services.common.storage import StorageError, StorageUnavailable, open_store

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


async def open_resources(settings: GatewaySettings) -> Resources:
    """Everything the gateway holds; the catalog is migrated first (off the event loop)."""
    timeout = settings.http_timeout_s
    store = open_store(settings.storage)
    try:
        catalog = await asyncio.to_thread(open_catalog, settings.catalog, store)
    except BaseException:
        await store.aclose()
        raise
    return Resources(
        settings=settings,
        store=store,
        cache=open_cache(settings.cache_settings()),  # its own Redis; signals stay on REDIS_URL
        encoder=EncoderClient(settings.encoder_url, timeout),
        indexer=IndexerClient(settings.indexer_url, timeout),
        search=[SearchClient(url, settings.search_timeout_s) for url in settings.search_urls],
        auth=Authenticator(settings.api_keys, settings.url_signing_key),
        signals=open_signals(settings.cache.redis_url, store, settings.storage, settings.cache.timeout_s),
        images=ImagePool(settings.image_workers, settings.max_queued_uploads),
        catalog=catalog,
        alt_encoders=[EncoderClient(url, timeout) for url in settings.encoder_alt_urls],
    )


def _install_upstream_errors(app: FastAPI) -> None:
    """Failures of peers and storage become 503s (or the peer's own 4xx), never a 500."""

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        return error_response(503, f"{exc.service}_unavailable", f"The {exc.service} service is unavailable.")

    @app.exception_handler(ServiceError)
    async def _peer_error(_: Request, exc: ServiceError) -> JSONResponse:
        body = exc.body.get("error") if isinstance(exc.body, dict) else None
        if isinstance(body, dict) and exc.status in (400, 403, 404, 409, 413, 415, 422):
            return error_response(exc.status, body.get("code", "invalid_request"), body.get("message", ""))
        log.error("unexpected answer from %s: %s %s", exc.service, exc.status, exc.body)
        return error_response(503, f"{exc.service}_unavailable", f"The {exc.service} service failed.")

    @app.exception_handler(StorageUnavailable)
    async def _storage_down(_: Request, exc: StorageUnavailable) -> JSONResponse:
        return error_response(503, "storage_unavailable", "Image storage is unavailable; try again shortly.")

    @app.exception_handler(StorageError)
    async def _storage_error(_: Request, exc: StorageError) -> JSONResponse:
        log.error("storage error: %s", exc)
        return error_response(503, "storage_error", "Image storage failed; try again shortly.")


def _mount_frontend(app: FastAPI, settings: GatewaySettings) -> None:
    root = settings.frontend_dir
    index = root / "index.html"
    if not index.is_file():
        return
    if (root / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=root / "assets"), name="assets")

    async def spa(full_path: str) -> FileResponse:
        if full_path == API_PREFIX[1:] or full_path.startswith(API_PREFIX[1:] + "/"):
            raise ApiError(404, "not_found", f"No route /{full_path}.")  # an API path, not a page
        candidate = (root / full_path).resolve()
        if full_path and candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_api_route("/{full_path:path}", spa, methods=["GET"], include_in_schema=False)


def create_app(settings: GatewaySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await open_resources(settings)
        app.state.resources = resources
        app.state.planner = QueryPlanner(resources)
        app.state.readiness_checks += [
            storage_check(resources.store),
            catalog_check(resources.catalog),
            cache_check(resources.cache),  # searches go on uncached without it
            peer_check(resources.encoder, ready=True),
            peer_check(resources.indexer),
            *(peer_check(c, f"search[{i}]") for i, c in enumerate(resources.search)),
        ]
        try:
            yield
        finally:
            await resources.aclose()

    app = create_service_app(
        service="gateway",
        title="Tìm Ảnh API",
        version="1.0.0",
        description="Tìm ảnh bằng mô tả tiếng Việt: the public REST API of Tìm Ảnh.",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
    _install_upstream_errors(app)
    # Authentication itself runs in ApiAuthMiddleware, before routing and body parsing; the
    # router's dependency documents the key and refuses any request that did not pass it.
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(authenticate)])
    for module in (collections, albums, images, jobs, me, models, search):
        api.include_router(module.router)
    app.include_router(api)
    app.add_middleware(ServeKeptAnswers, path=f"{API_PREFIX}/search")
    app.add_middleware(StaleAnswersOnWrites, search_prefix=f"{API_PREFIX}/search")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(ApiAuthMiddleware)  # outside the body limit: 401 before 413
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type"],
            expose_headers=["X-Missing-Shards", "X-Skipped-Collections", "Retry-After"],
        )
    _mount_frontend(app, settings)
    return app
