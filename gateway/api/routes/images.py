"""`/images/{id}`: an image's record and metadata, its bytes and thumbnail, its tags and note, and its
deletion."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response

from gateway.api.errors import errors
from gateway.deps import (
    DeleteImageDep,
    EditImageDep,
    IdPath,
    ImageDep,
    Principal,
    ResourcesDep,
    visible_image,
)
from services.common.catalog import UNCHANGED, ImageDetail, ImageRecord, image_key, thumbnail_key
from services.common.errors import ApiError
from services.common.images import THUMBNAIL_CONTENT_TYPE
from services.common.schemas.public import AlbumRef, Image, ImageUpdate, Location
from services.common.storage import ObjectNotFound

router = APIRouter(prefix="/images", tags=["images"])
API_PREFIX = "/api/v1"


def content_path(image_id: str) -> str:
    return f"{API_PREFIX}/images/{image_id}/content"


def thumbnail_path(image_id: str) -> str:
    return f"{API_PREFIX}/images/{image_id}/thumbnail"


def image_out(record: ImageDetail, res: ResourcesDep) -> Image:
    location = None
    if record.latitude is not None and record.longitude is not None:
        location = Location(latitude=record.latitude, longitude=record.longitude)
    fields = record.model_dump(exclude={"sha256", "latitude", "longitude", "albums"})
    return Image(
        **fields,
        location=location,
        albums=[AlbumRef(id=a.id, name=a.name) for a in record.albums],
        url=res.auth.sign(content_path(record.image_id)),
        thumbnail_url=res.auth.sign(thumbnail_path(record.image_id)),
    )


async def detail_or_404(image_id: str, res: ResourcesDep) -> ImageDetail:
    detail = await asyncio.to_thread(res.catalog.get_image_detail, image_id)
    if detail is None:  # deleted a moment ago
        raise ApiError(404, "image_not_found", f"No image with id {image_id!r}.")
    return detail


async def bytes_access(
    image_id: IdPath,
    res: ResourcesDep,
    caller: Principal,
    exp: Annotated[str | None, Query(max_length=20, description="Expiry of a signed URL")] = None,
    sig: Annotated[str | None, Query(max_length=64, description="Signature of a signed URL")] = None,
) -> ImageRecord:
    """Image bytes accept a signed URL (for `<img src>`; checked by the middleware) or an API key."""
    return (await visible_image(image_id, res, caller))[0]


BytesAccess = Annotated[ImageRecord, Depends(bytes_access)]


@router.get("/{image_id}", response_model=Image, responses=errors(404, 503))
async def get_image(image: ImageDep, res: ResourcesDep, _: Principal) -> Image:
    return image_out(await detail_or_404(image.image_id, res), res)


@router.patch(
    "/{image_id}",
    response_model=Image,
    responses=errors(403, 404, 503),
    description="Edit what people add to an image: its note (a field left out stays as it is; null or "
    "blank removes it) and its tags (NFC, lower case; adding one it has or removing one it lacks is no "
    "error).",
)
async def update_image(body: ImageUpdate, image: EditImageDep, res: ResourcesDep) -> Image:
    note = body.note if "note" in body.model_fields_set else UNCHANGED
    edited = await asyncio.to_thread(
        res.catalog.edit_image,
        image.image_id,
        note=note,
        add_tags=body.add_tags,
        remove_tags=body.remove_tags,
    )
    if not edited:
        raise ApiError(404, "image_not_found", f"No image with id {image.image_id!r}.")
    return image_out(await detail_or_404(image.image_id, res), res)


async def _serve(res: ResourcesDep, key: str, content_type: str, image_id: str) -> Response:
    try:
        data = await res.store.aget(key)
    except ObjectNotFound as exc:
        raise ApiError(404, "image_not_found", f"No image with id {image_id!r}.") from exc
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=86400, immutable", "ETag": f'"{image_id}"'},
    )


_BYTES = {200: {"content": {"image/*": {}}, "description": "The image bytes"}, **errors(404, 503)}


@router.get("/{image_id}/content", response_class=Response, responses=_BYTES)
async def get_content(image: BytesAccess, res: ResourcesDep, image_id: IdPath) -> Response:
    return await _serve(res, image_key(image.collection_id, image.image_id), image.content_type, image_id)


@router.get("/{image_id}/thumbnail", response_class=Response, responses=_BYTES)
async def get_thumbnail(image: BytesAccess, res: ResourcesDep, image_id: IdPath) -> Response:
    return await _serve(
        res, thumbnail_key(image.collection_id, image.image_id), THUMBNAIL_CONTENT_TYPE, image_id
    )


@router.delete(
    "/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(403, 404, 503),
)
async def delete_image(image: DeleteImageDep, res: ResourcesDep) -> Response:
    await res.indexer.delete_image(image.collection_id, image.image_id)  # gone from results at once
    await asyncio.to_thread(res.catalog.delete_image, image)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
