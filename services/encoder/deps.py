"""The service object the lifespan built, handed to routes as an `Annotated` dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.common.errors import ApiError
from services.encoder.service import EncoderService


class ModelSlot:
    """Holds the service once the model is loaded, or why it is not, for `/readyz` and the routes."""

    def __init__(self) -> None:
        self.service: EncoderService | None = None
        self.error: str | None = None

    async def check(self) -> str | None:
        if self.service is not None:
            return None
        return self.error or "model is loading"


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` one on a
# worker thread, a hand-off per dependency per request that costs more than what it does.
async def get_service(request: Request) -> EncoderService:
    """503 until the model is loaded (or forever, with the reason, if loading failed)."""
    slot: ModelSlot = request.app.state.model_slot
    if slot.service is None:
        raise ApiError(
            503,
            "model_not_ready",
            slot.error or "The model is still loading.",
            headers={"Retry-After": "5"},
        )
    return slot.service


ServiceDep = Annotated[EncoderService, Depends(get_service)]
