"""`/collections`: folders of images ("Thư mục ảnh"), uploads into them, their images by date, their tags."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status
from fastapi.responses import Response

from gateway.access import Caller, Permission
from gateway.api.errors import errors
from gateway.api.routes.images import image_out
from gateway.deps import (
    CollectionDep,
    DeleteCollectionDep,
    ImportCollectionDep,
    Principal,
    ResourcesDep,
    UploadCollectionDep,
)
from gateway.uploads import UploadLimits, store_upload
from services.common.catalog import CollectionNotFound, CollectionRecord, InvalidCursor
from services.common.errors import ApiError
from services.common.schemas.indexer import FolderSource, JobRequest, ObjectsSource, PrefixSource
from services.common.schemas.public import (
    CameraCount,
    CameraList,
    Collection,
    CollectionCreate,
    CollectionList,
    ImageOrder,
    ImagePage,
    ImportRequest,
    JobAccepted,
    SortDirection,
    TagCount,
    TagList,
    UploadResult,
)

router = APIRouter(prefix="/collections", tags=["collections"])


async def _out(
    res: ResourcesDep, record: CollectionRecord, caller: Caller, count: int | None = None
) -> Collection:
    if count is None:
        count = await asyncio.to_thread(res.catalog.count_images, record.id)
    return collection_out(record, caller, count)


def collection_out(record: CollectionRecord, caller: Caller, count: int) -> Collection:
    return Collection(
        id=record.id,
        name=record.name,
        image_count=count,
        created_at=record.created_at,
        shared=record.owner is None,
        writable=Permission.UPLOAD in caller.permissions and caller.owns(record),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Collection, responses=errors(403, 503))
async def create_collection(body: CollectionCreate, res: ResourcesDep, caller: Principal) -> Collection:
    caller.require(Permission.ALL_COLLECTIONS if body.shared else Permission.CREATE)
    name = " ".join(body.name.split())
    if not name:
        raise ApiError(422, "invalid_name", "The collection name is empty.")
    # Created while auth is off (every caller an admin by address), a collection is shared.
    owner = None if body.shared or not res.auth.enabled else caller.id
    record = await asyncio.to_thread(res.catalog.create_collection, name, owner)
    return await _out(res, record, caller, count=0)


Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the page before; absent: the first page")
]


def _cursor_error(exc: InvalidCursor) -> ApiError:
    return ApiError(422, "invalid_cursor", str(exc))


@router.get("", response_model=CollectionList, responses=errors(503))
async def list_collections(
    res: ResourcesDep,
    caller: Principal,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CollectionList:
    """The collections the key sees, oldest first, a page at a time."""
    viewer = None if caller.sees_all else caller.id
    try:
        page = await asyncio.to_thread(res.catalog.list_collections, viewer, cursor=cursor, limit=limit)
    except InvalidCursor as exc:
        raise _cursor_error(exc) from exc
    counts = await asyncio.to_thread(res.catalog.image_counts, [r.id for r in page.items])
    items = [collection_out(r, caller, counts[r.id]) for r in page.items]
    return CollectionList(items=items, next_cursor=page.next_cursor)


@router.get("/{collection_id}", response_model=Collection, responses=errors(404, 503))
async def get_collection(collection: CollectionDep, res: ResourcesDep, caller: Principal) -> Collection:
    return await _out(res, collection, caller)


@router.get("/{collection_id}/images", response_model=ImagePage, responses=errors(404, 503))
async def list_images(
    collection: CollectionDep,
    res: ResourcesDep,
    order: Annotated[
        ImageOrder, Query(description="`taken_at`: by date taken, undated images last; `uploaded`")
    ] = "taken_at",
    direction: Annotated[SortDirection, Query(description="`desc`: newest first")] = "desc",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ImagePage:
    """Browse a collection without a query: its images by date, a page at a time."""
    catalog = res.catalog
    try:
        page = await asyncio.to_thread(
            catalog.list_images, collection.id, order=order, direction=direction, cursor=cursor, limit=limit
        )
    except InvalidCursor as exc:
        raise _cursor_error(exc) from exc
    details = await asyncio.to_thread(catalog.with_labels, page.items)
    return ImagePage(items=[image_out(d, res) for d in details], next_cursor=page.next_cursor)


@router.get("/{collection_id}/tags", response_model=TagList, responses=errors(404, 503))
async def list_tags(collection: CollectionDep, res: ResourcesDep) -> TagList:
    """Every tag of the collection's images, most used first."""
    tags = await asyncio.to_thread(res.catalog.collection_tags, collection.id)
    return TagList(items=[TagCount(tag=t.tag, count=t.count) for t in tags])


@router.get("/{collection_id}/cameras", response_model=CameraList, responses=errors(404, 503))
async def list_cameras(collection: CollectionDep, res: ResourcesDep) -> CameraList:
    """Every camera named in the collection's photos, with how many it took, most used first."""
    cameras = await asyncio.to_thread(res.catalog.collection_cameras, collection.id)
    return CameraList(items=[CameraCount(make=c.make, model=c.model, count=c.count) for c in cameras])


@router.delete(
    "/{collection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(403, 404, 503),
)
async def delete_collection(collection: DeleteCollectionDep, res: ResourcesDep) -> Response:
    await res.indexer.delete_collection(collection.id)  # out of search results first
    await asyncio.to_thread(res.catalog.delete_collection, collection.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{collection_id}/images",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadResult,
    responses=errors(403, 404, 503),
    description="Stores each valid image, then queues it for indexing. When no file is a valid image the "
    "answer is 422 `no_valid_images`, its details listing each file's error.",
)
async def upload_images(
    collection: UploadCollectionDep,
    res: ResourcesDep,
    files: Annotated[
        list[UploadFile], File(description="Images (JPEG, PNG, WebP, GIF, BMP, TIFF) or one zip of them")
    ],
) -> UploadResult:
    s = res.settings
    if len(files) > s.max_files_per_upload:
        raise ApiError(422, "too_many_files", f"At most {s.max_files_per_upload} files per upload.")
    async with res.images.admit():  # 503 + Retry-After when the image pool is full
        payload = [(f.filename or "image", await f.read()) for f in files]
        try:
            outcome = await store_upload(res.catalog, res.images, collection.id, payload, UploadLimits.of(s))
        except CollectionNotFound as exc:  # deleted while the files were being stored
            raise ApiError(404, "collection_not_found", f"No collection with id {collection.id!r}.") from exc
    # Duplicates are indexed again too: indexing is idempotent, and a retried upload whose
    # first try stored the bytes but never reached the indexer must still become searchable.
    if outcome.rejected and not outcome.accepted and not outcome.duplicates:
        details = [r.model_dump() for r in outcome.rejected]
        raise ApiError(422, "no_valid_images", "None of the files is an image that can be stored.", details)
    ids = [i.image_id for i in (*outcome.accepted, *outcome.duplicates)]
    job_id = None
    if ids:
        job = await res.indexer.create_job(
            JobRequest(collection_id=collection.id, source=ObjectsSource(image_ids=ids))
        )
        job_id = job.job_id
    return UploadResult(
        job_id=job_id, accepted=outcome.accepted, rejected=outcome.rejected, duplicates=outcome.duplicates
    )


@router.post(
    "/{collection_id}/import",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    responses=errors(400, 403, 404, 503),
)
async def import_images(
    body: ImportRequest, collection: ImportCollectionDep, res: ResourcesDep
) -> JobAccepted:
    source = body.source.strip()
    if not source or any(not ch.isprintable() for ch in source):
        raise ApiError(422, "invalid_source", "The import source is empty or holds control characters.")
    spec = PrefixSource(uri=source) if source.startswith("s3://") else FolderSource(path=source)
    job = await res.indexer.create_job(JobRequest(collection_id=collection.id, source=spec))
    return JobAccepted(job_id=job.job_id)
