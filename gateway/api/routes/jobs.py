"""`/jobs/{id}`: progress of an indexing job."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.errors import errors
from gateway.deps import IdPath, Principal, ResourcesDep
from services.common.schemas.public import Job

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=Job, responses=errors(404, 503))
async def get_job(job_id: IdPath, res: ResourcesDep, _: Principal) -> Job:
    status = await res.indexer.job_status(job_id)
    return Job.model_validate(status.model_dump())
