"""The encoder app: loads one checkpoint in the background at start-up, then serves embeddings.

The process answers `/healthz` at once and `/readyz` with "model is loading" until the model is
built and warmed up, so an orchestrator can start it before its (possibly slow) model is ready.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.closing import shut_down
from services.common.health import Check
from services.common.resources import storage_check
from services.common.storage import open_store
from services.encoder.deps import ModelSlot
from services.encoder.loading import load_runner
from services.encoder.metrics import EncoderMetrics
from services.encoder.routes import embed, model
from services.encoder.service import EncoderService
from services.encoder.settings import EncoderSettings

log = logging.getLogger(__name__)


def create_app(settings: EncoderSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        slot = ModelSlot()
        store = open_store(settings.storage)
        metrics = EncoderMetrics(app.state.metrics.registry)
        app.state.model_slot = slot
        # Text embedding works without storage, so storage is reported but does not gate readiness.
        app.state.readiness_checks += [
            Check("model", slot.check),
            replace(storage_check(store), required=False),
        ]

        async def load() -> None:
            try:
                runner = await asyncio.to_thread(load_runner, settings, store)
            except Exception as exc:  # reported by /readyz; the process stays up to say why
                slot.error = f"model {settings.model!r} failed to load: {type(exc).__name__}: {exc}"[:500]
                log.exception("model load failed")
                return
            service = EncoderService(runner, settings, metrics, store)
            service.start()
            slot.service = service
            log.info("encoder ready: %s", service.info().model_dump_json())

        task = asyncio.create_task(load())
        try:
            yield
        finally:
            await shut_down([task], [store] if slot.service is None else [slot.service, store])

    app = create_service_app(
        service="encoder",
        title="Tìm Ảnh encoder",
        version="0.1.0",
        description="Text and image embeddings from one checkpoint, micro-batched, on GPU when present.",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
    app.include_router(model.router)
    app.include_router(embed.router)
    return app
