"""`/jobs/{id}`: progress of an indexing job."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.errors import errors
from gateway.deps import IdPath, Principal, ResourcesDep, visible_collection
from services.common.errors import ApiError
from services.common.schemas.public import Job

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=Job, responses=errors(404, 503))
async def get_job(job_id: IdPath, res: ResourcesDep, caller: Principal) -> Job:
    status = await res.indexer.job_status(job_id)
    if not caller.sees_all:
        try:
            await visible_collection(status.collection_id, res, caller)
        except ApiError as exc:  # a job of a collection the key does not see is no job of it
            raise ApiError(404, "job_not_found", f"No job with id {job_id!r}.") from exc
    return Job.model_validate(status.model_dump())
