"""`/collections`: folders of images ("Thư mục ảnh") and uploads into them."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status
from fastapi.responses import Response

from gateway.access import Caller, Permission
from gateway.api.errors import errors
from gateway.deps import (
    CollectionDep,
    DeleteCollectionDep,
    ImportCollectionDep,
    Principal,
    ResourcesDep,
    UploadCollectionDep,
)
from gateway.uploads import UploadLimits, store_upload
from services.common.catalog import CollectionRecord
from services.common.errors import ApiError
from services.common.schemas.indexer import FolderSource, JobRequest, ObjectsSource, PrefixSource
from services.common.schemas.public import (
    Collection,
    CollectionCreate,
    CollectionList,
    ImportRequest,
    JobAccepted,
    UploadResult,
)

router = APIRouter(prefix="/collections", tags=["collections"])


async def _out(
    res: ResourcesDep, record: CollectionRecord, caller: Caller, count: int | None = None
) -> Collection:
    if count is None:
        count = await asyncio.to_thread(res.catalog.count_images, record.id)
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


@router.get("", response_model=CollectionList, responses=errors(503))
async def list_collections(res: ResourcesDep, caller: Principal) -> CollectionList:
    records = [r for r in await asyncio.to_thread(res.catalog.list_collections) if caller.sees(r)]
    return CollectionList(items=list(await asyncio.gather(*(_out(res, r, caller) for r in records))))


@router.get("/{collection_id}", response_model=Collection, responses=errors(404, 503))
async def get_collection(collection: CollectionDep, res: ResourcesDep, caller: Principal) -> Collection:
    return await _out(res, collection, caller)


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
        outcome = await store_upload(res.catalog, res.images, collection.id, payload, UploadLimits.of(s))
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
