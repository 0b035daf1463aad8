"""The encoder app: loads one checkpoint in the background at start-up, then serves embeddings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.health import Check
from services.encoder.settings import EncoderSettings

log = logging.getLogger(__name__)


class ModelSlot:
    """Holds the model once loaded, or why it is not, for `/readyz` to report."""

    def __init__(self) -> None:
        self.model: object | None = None
        self.error: str | None = None

    async def check(self) -> str | None:
        if self.model is not None:
            return None
        return self.error or "model is loading"


def _load_model(settings: EncoderSettings) -> object:
    from vi_clip import create_model  # torch is imported here, not at module import

    return create_model(settings.model, device=settings.device)


def create_app(settings: EncoderSettings) -> FastAPI:
    slot = ModelSlot()

    async def load() -> None:
        try:
            slot.model = await asyncio.to_thread(_load_model, settings)
            log.info("model %s loaded", settings.model)
        except Exception as exc:  # reported by /readyz; the process stays up to say why
            slot.error = f"model {settings.model!r} failed to load: {type(exc).__name__}: {exc}"[:500]
            log.exception("model load failed")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.model_slot = slot
        app.state.readiness_checks.append(Check("model", slot.check))
        task = asyncio.create_task(load())
        yield
        task.cancel()

    return create_service_app(
        service="encoder",
        title="Tìm Ảnh encoder",
        version="0.1.0",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
