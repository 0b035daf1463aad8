"""The search service's internal API: `POST /v1/search` (JSON or msgpack), `GET /v1/shards`."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import numpy as np
from fastapi import APIRouter, Request
from pydantic import ValidationError

from services.common.errors import ApiError, ErrorBody
from services.common.schemas.search import (
    MAX_INCLUDE_IDS,
    SEARCH_MSGPACK,
    SearchParams,
    SearchRequest,
    SearchResponse,
    ShardAssignment,
)
from services.search.deps import EngineDep, SettingsDep

# Bodies larger than this are decoded on a thread: 100k allowed ids take ~20 ms to unpack and
# validate, time the event loop would not serve other requests in.
INLINE_BODY_BYTES = 64 << 10
_ERRORS: dict[int | str, dict[str, Any]] = {413: {"model": ErrorBody}, 422: {"model": ErrorBody}}
router = APIRouter(prefix="/v1", tags=["search"], responses=_ERRORS)
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}},
            SEARCH_MSGPACK: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _invalid(message: str, details: Any = None) -> ApiError:
    return ApiError(422, "invalid_request", message, details)


def _refusal(exc: ValidationError) -> ApiError:
    """422 for a body that does not validate; an allow-list over the limit says what to do instead."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    if any(e["loc"] == ("include_ids",) and e["type"] == "too_long" for e in errors):
        return ApiError(
            422,
            "too_many_include_ids",
            f"At most {MAX_INCLUDE_IDS:,} ids travel in one request's include_ids: split the list into "
            "chunks and merge their hits by score, or search unfiltered with a larger k and filter the hits.",
            {"max_include_ids": MAX_INCLUDE_IDS},
        )
    return _invalid("The request is not valid.", errors)


def decode_body(body: bytes, content_type: str) -> tuple[np.ndarray, SearchParams]:
    """JSON `SearchRequest`, or msgpack `{"params": {...}, "shape": [n, d], "vectors": <float32 bytes>}`."""
    try:
        if content_type.startswith(SEARCH_MSGPACK):
            raw = msgpack.unpackb(body, raw=False)
            params = SearchParams.model_validate(raw["params"])
            n, d = (int(v) for v in raw["shape"])
            if not 1 <= n <= 1024 or d < 1 or len(raw["vectors"]) != n * d * 4:
                raise _invalid("`shape` does not match the vector bytes (1..1024 queries).")
            x = np.frombuffer(raw["vectors"], dtype="<f4").reshape(n, d)
        else:
            req = SearchRequest.model_validate_json(body)
            params = req
            if len({len(v) for v in req.vectors}) != 1:
                raise _invalid("Every query vector must have the same length.")
            x = np.asarray(req.vectors, dtype=np.float32)
    except ValidationError as exc:
        raise _refusal(exc) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid(f"The request body cannot be read: {type(exc).__name__}.") from exc
    if not np.isfinite(x).all():
        raise _invalid("Query vectors must be finite.")
    return np.ascontiguousarray(x), params


@router.post("/search", response_model=SearchResponse, openapi_extra=_BODY_DOC)
async def search(request: Request, engine: EngineDep, settings: SettingsDep) -> SearchResponse:
    """k nearest images per query vector over the shards this replica holds."""
    body = await request.body()
    if len(body) > settings.max_request_bytes:
        raise ApiError(413, "payload_too_large", "The search body is too large.")
    content_type = request.headers.get("content-type", "application/json")
    if len(body) > INLINE_BODY_BYTES:
        x, params = await asyncio.to_thread(decode_body, body, content_type)
    else:
        x, params = decode_body(body, content_type)
    return await engine.search(x, params)


@router.get("/shards", response_model=ShardAssignment)
async def shards(engine: EngineDep) -> ShardAssignment:
    return ShardAssignment(shard_count=engine.holder.shard_count, shards=sorted(engine.holder.shards))
