"""`GET /v1/model`: which model answers, so callers can tell whether their vectors still match."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.common.schemas.encoder import MODEL_VERSION_HEADER, ModelInfo
from services.encoder.deps import ServiceDep

router = APIRouter(prefix="/v1", tags=["model"])


@router.get("/model", response_model=ModelInfo)
async def model_info(service: ServiceDep, response: Response) -> ModelInfo:
    response.headers[MODEL_VERSION_HEADER] = service.version
    return service.info()
