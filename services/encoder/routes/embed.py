"""`POST /v1/embed/text` and `POST /v1/embed/image` (multipart files, or object keys as JSON)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from services.common.errors import ApiError, ErrorBody
from services.common.schemas.encoder import IMAGE_ERRORS, Embeddings, ImageKeysEmbedRequest, TextEmbedRequest
from services.encoder.deps import ServiceDep
from services.encoder.encoding import EmbedResult, Form, negotiate, render
from services.encoder.service import EncoderService, Source

router = APIRouter(prefix="/v1/embed", tags=["embed"])

MAX_KEYS_BODY = 1024 * 1024  # a JSON list of keys; far more than any allowed number of keys needs
_VECTORS = {
    "application/json": {"schema": Embeddings.model_json_schema()},
    "application/x-npy": {"schema": {"type": "string", "format": "binary"}},
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": _VECTORS, "description": "One vector per input, and the model version"},
    **{status: {"model": ErrorBody} for status in (406, 413, 415, 422, 503)},
}
_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            },
            "application/json": {"schema": ImageKeysEmbedRequest.model_json_schema()},
        },
    }
}

AcceptHeader = Annotated[
    str | None, Header(description="application/json or application/x-npy[; dtype=float16]")
]


@router.post("/text", response_class=Response, responses=_RESPONSES)
async def embed_text(body: TextEmbedRequest, service: ServiceDep, accept: AcceptHeader = None) -> Response:
    form = negotiate(accept)
    return render(await service.embed_texts(body.texts), form)


@router.post("/image", response_class=Response, responses=_RESPONSES, openapi_extra=_IMAGE_BODY)
async def embed_image(request: Request, service: ServiceDep, accept: AcceptHeader = None) -> Response:
    """Each image gets a vector or an error; a request of a single image fails with that image's 4xx."""
    form: Form = negotiate(accept)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        sources = await _uploaded(request, service)
    elif content_type == "application/json":
        sources = await service.read_keys(await _keys(request))
    else:
        raise ApiError(
            415, "unsupported_media_type", "Send images as multipart/form-data, or object keys as JSON."
        )
    result = await service.embed_images(sources)
    if len(sources) == 1 and 0 in result.errors:
        _raise_single(result)
    return render(result, form)


def _raise_single(result: EmbedResult) -> None:
    error = result.errors[0]
    status = IMAGE_ERRORS.get(error.code, (422, ""))[0]
    raise ApiError(status, error.code, error.message, {"index": 0})


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The request body, refused with 413 as soon as it passes `limit` bytes (whatever it declared)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _too_large(limit)
        yield chunk


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "request_too_large", f"The request exceeds {limit:,} bytes.", {"max": limit})


async def _uploaded(request: Request, service: EncoderService) -> list[Source]:
    """Files of the `files` field; each read up to one byte past its limit, so an oversized one is caught."""
    s = service.settings
    parser = MultiPartParser(
        request.headers,
        _limited(request, s.max_request_bytes),
        max_files=s.max_images_per_call,
        max_fields=s.max_images_per_call,
    )
    try:
        data = await parser.parse()
    except MultiPartException as exc:
        if exc.message.startswith("Too many files"):  # the parser stops at the limit, before reading on
            raise service.too_many_images() from exc
        raise ApiError(400, "invalid_multipart", exc.message) from exc
    try:
        uploads = data.getlist("files")
        if not uploads or not all(isinstance(u, UploadFile) for u in uploads):
            raise ApiError(422, "no_images", "Send one or more image files in the `files` field.")
        service.check_image_count(len(uploads))
        return [await u.read(s.max_image_bytes + 1) for u in uploads if isinstance(u, UploadFile)]
    finally:
        await data.close()


async def _keys(request: Request) -> list[str]:
    body = b"".join([chunk async for chunk in _limited(request, MAX_KEYS_BODY)])
    try:
        return ImageKeysEmbedRequest.model_validate_json(body).keys
    except ValidationError as exc:
        details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise ApiError(422, "invalid_request", "The request is not valid.", details) from exc
