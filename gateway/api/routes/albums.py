"""`/collections/{id}/albums`: albums of a collection's images, made, listed, filled and emptied by people."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status
from fastapi.responses import Response

from gateway.api.errors import errors
from gateway.deps import CollectionDep, EditCollectionDep, IdPath, ResourcesDep
from services.common.catalog import AlbumRecord, CollectionRecord
from services.common.errors import ApiError
from services.common.schemas.catalog import clean_text
from services.common.schemas.public import Album, AlbumCreate, AlbumImages, AlbumImagesAdded, AlbumList

router = APIRouter(prefix="/collections/{collection_id}/albums", tags=["albums"])


def album_out(record: AlbumRecord) -> Album:
    return Album(**record.model_dump())


async def album_or_404(album_id: str, collection: CollectionRecord, res: ResourcesDep) -> AlbumRecord:
    """The album when it belongs to the collection named in the path."""
    record = await asyncio.to_thread(res.catalog.get_album, album_id)
    if record is None or record.collection_id != collection.id:
        raise ApiError(404, "album_not_found", f"No album with id {album_id!r} in this collection.")
    return record


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Album, responses=errors(403, 404, 503))
async def create_album(body: AlbumCreate, collection: EditCollectionDep, res: ResourcesDep) -> Album:
    name = clean_text(body.name)
    if not name:
        raise ApiError(422, "invalid_name", "The album name is empty.")
    return album_out(await asyncio.to_thread(res.catalog.create_album, collection.id, name))


@router.get("", response_model=AlbumList, responses=errors(404, 503))
async def list_albums(collection: CollectionDep, res: ResourcesDep) -> AlbumList:
    """The collection's albums, oldest first, each with its image count."""
    records = await asyncio.to_thread(res.catalog.list_albums, collection.id)
    return AlbumList(items=[album_out(r) for r in records])


@router.get("/{album_id}", response_model=Album, responses=errors(404, 503))
async def get_album(album_id: IdPath, collection: CollectionDep, res: ResourcesDep) -> Album:
    return album_out(await album_or_404(album_id, collection, res))


@router.delete(
    "/{album_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(403, 404, 503),
    description="Deletes the album; its images stay in the collection.",
)
async def delete_album(album_id: IdPath, collection: EditCollectionDep, res: ResourcesDep) -> Response:
    await album_or_404(album_id, collection, res)
    await asyncio.to_thread(res.catalog.delete_album, album_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{album_id}/images",
    response_model=AlbumImagesAdded,
    responses=errors(403, 404, 503),
    description="Adds images of the album's collection (one already in it stays once); ids of no image "
    "of this collection are listed under `not_in_collection`.",
)
async def add_images(
    album_id: IdPath, body: AlbumImages, collection: EditCollectionDep, res: ResourcesDep
) -> AlbumImagesAdded:
    await album_or_404(album_id, collection, res)
    try:
        missing = await asyncio.to_thread(res.catalog.add_to_album, album_id, body.image_ids)
    except LookupError as exc:  # deleted a moment ago
        raise ApiError(404, "album_not_found", f"No album with id {album_id!r} in this collection.") from exc
    album = await album_or_404(album_id, collection, res)
    return AlbumImagesAdded(album=album_out(album), not_in_collection=missing)


@router.delete(
    "/{album_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(403, 404, 503),
)
async def remove_image(
    album_id: IdPath, image_id: IdPath, collection: EditCollectionDep, res: ResourcesDep
) -> Response:
    await album_or_404(album_id, collection, res)
    if not await asyncio.to_thread(res.catalog.remove_from_album, album_id, image_id):
        raise ApiError(404, "image_not_in_album", f"The image {image_id!r} is not in this album.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
