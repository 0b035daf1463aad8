"""The indexer's internal API: jobs, deletions and per-collection index info."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import APIRouter

from services.common.errors import ApiError, ErrorBody
from services.common.routing import read_routing, serving_index_id
from services.common.schemas.indexer import (
    DeleteResult,
    JobRequest,
    JobStatus,
    ModelSwitchRequest,
    ModelSwitchStatus,
)
from services.common.shards import CollectionIndex, collection_index, is_deleted
from services.common.storage import ObjectStore
from services.indexer.deps import RuntimeDep
from services.indexer.publisher import CollectionDeleted
from services.indexer.purge import apurge_collection
from services.indexer.sources import check_source

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
    503: {"model": ErrorBody},
}
router = APIRouter(prefix="/v1", tags=["indexer"], responses=_ERRORS)


@router.post("/jobs", status_code=202, response_model=JobStatus)
async def create_job(body: JobRequest, rt: RuntimeDep) -> JobStatus:
    """Queue an ingestion job; a source outside the allowed roots or prefixes is refused here, and so
    is a deleted collection (whatever an upload racing the deletion stored is removed) or one the
    catalog does not hold."""
    check_source(body, rt.policy)
    if await asyncio.to_thread(is_deleted, rt.store, body.collection_id):
        await apurge_collection(rt.store, rt.catalog, body.collection_id)
        raise _deleted(body.collection_id)
    if await asyncio.to_thread(rt.catalog.get_collection, body.collection_id) is None:
        raise ApiError(
            404, "collection_not_found", "No such collection.", {"collection_id": body.collection_id}
        )
    now = time.time()
    status = JobStatus(
        job_id=uuid.uuid4().hex,
        collection_id=body.collection_id,
        status="queued",
        created_at=now,
        updated_at=now,
    )
    await rt.queue.enqueue(status, body)
    return status


@router.get("/jobs/{job_id}", response_model=JobStatus)
async def job_status(job_id: str, rt: RuntimeDep) -> JobStatus:
    status = await rt.queue.get_status(job_id)
    if status is None:
        raise ApiError(404, "job_not_found", "No such job.", {"job_id": job_id})
    return status


@router.delete("/collections/{collection_id}/images/{image_id}", response_model=DeleteResult)
async def delete_image(collection_id: str, image_id: str, rt: RuntimeDep) -> DeleteResult:
    """Searches stop returning the image as soon as this answers."""
    _check_id(collection_id)
    _check_id(image_id)
    return await rt.deleter.delete_image(collection_id, image_id)


@router.delete("/collections/{collection_id}", response_model=DeleteResult)
async def delete_collection(collection_id: str, rt: RuntimeDep) -> DeleteResult:
    _check_id(collection_id)
    return await rt.deleter.delete_collection(collection_id)


@router.get("/collections/{collection_id}/index", response_model=CollectionIndex)
async def index_info(collection_id: str, rt: RuntimeDep) -> CollectionIndex:
    """The serving model's index: current version, tombstone-aware cache version, image count."""
    _check_id(collection_id)
    return await asyncio.to_thread(_serving_index, rt.store, collection_id)


@router.post("/collections/{collection_id}/publish", response_model=CollectionIndex)
async def publish(collection_id: str, rt: RuntimeDep) -> CollectionIndex:
    """Fold stored vectors and deletions into a new version of every model's index now."""
    _check_id(collection_id)
    try:
        await rt.publisher.publish_models(collection_id)
    except CollectionDeleted as exc:
        raise _deleted(collection_id) from exc
    return await asyncio.to_thread(_serving_index, rt.store, collection_id)


def _serving_index(store: ObjectStore, collection_id: str) -> CollectionIndex:
    return collection_index(store, serving_index_id(read_routing(store), collection_id))


@router.get("/model-switch", response_model=ModelSwitchStatus)
async def model_switch_status(rt: RuntimeDep) -> ModelSwitchStatus:
    """Which model serves, which one is built or kept, and how far a build is."""
    return await rt.switch.status()


@router.post("/model-switch", response_model=ModelSwitchStatus)
async def model_switch(body: ModelSwitchRequest, rt: RuntimeDep) -> ModelSwitchStatus:
    """One step of a model switch; a `start` builds in the background (poll the status)."""
    return await rt.switch.act(body)


def _deleted(collection_id: str) -> ApiError:
    return ApiError(
        404, "collection_not_found", "The collection was deleted.", {"collection_id": collection_id}
    )


def _check_id(value: str) -> None:
    if not value or len(value) > 64 or not all(c.isalnum() or c in "-_" for c in value):
        raise ApiError(422, "invalid_id", "Ids are 1-64 letters, digits, `-` or `_`.", {"id": value[:80]})
