"""Client of the indexer service: ingestion jobs, deletions, index versions and counts."""

from __future__ import annotations

from services.common.clients.base import ServiceClient
from services.common.schemas.indexer import (
    DeleteResult,
    JobRequest,
    JobStatus,
    ModelSwitchRequest,
    ModelSwitchStatus,
)
from services.common.shards import CollectionIndex


class IndexerClient(ServiceClient):
    service = "indexer"

    async def create_job(self, request: JobRequest) -> JobStatus:
        """Queue a job (202); a source outside the allowed roots raises ServiceError 422."""
        resp = await self.request("POST", "/v1/jobs", content=request.model_dump_json(), headers=_JSON)
        return JobStatus.model_validate_json(resp.content)

    async def job_status(self, job_id: str) -> JobStatus:
        """Raises ServiceError 404 for an unknown job."""
        return JobStatus.model_validate_json((await self.request("GET", f"/v1/jobs/{job_id}")).content)

    async def delete_image(self, collection_id: str, image_id: str) -> DeleteResult:
        """Searches stop returning the image once this returns."""
        resp = await self.request("DELETE", f"/v1/collections/{collection_id}/images/{image_id}")
        return DeleteResult.model_validate_json(resp.content)

    async def delete_collection(self, collection_id: str) -> DeleteResult:
        resp = await self.request("DELETE", f"/v1/collections/{collection_id}")
        return DeleteResult.model_validate_json(resp.content)

    async def collection_index(self, collection_id: str) -> CollectionIndex:
        """Current version, cache-key version (changes on delete) and image count."""
        resp = await self.request("GET", f"/v1/collections/{collection_id}/index")
        return CollectionIndex.model_validate_json(resp.content)

    async def publish(self, collection_id: str) -> CollectionIndex:
        """Fold stored vectors and deletions into a new version now."""
        resp = await self.request("POST", f"/v1/collections/{collection_id}/publish")
        return CollectionIndex.model_validate_json(resp.content)

    async def model_switch_status(self) -> ModelSwitchStatus:
        return ModelSwitchStatus.model_validate_json((await self.request("GET", "/v1/model-switch")).content)

    async def model_switch(self, request: ModelSwitchRequest) -> ModelSwitchStatus:
        """One step of a model switch; a step refused now raises ServiceError 409."""
        body = request.model_dump_json()
        resp = await self.request("POST", "/v1/model-switch", content=body, headers=_JSON)
        return ModelSwitchStatus.model_validate_json(resp.content)


_JSON = {"Content-Type": "application/json"}
