"""The indexer service's internal API (`/v1/jobs`, deletions, index info)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

JobState = Literal["queued", "running", "done", "failed"]


class ObjectsSource(BaseModel):
    """Images already stored and catalogued (gateway uploads)."""

    type: Literal["objects"] = "objects"
    image_ids: list[str] = Field(min_length=1)


class PrefixSource(BaseModel):
    """Every image under a storage prefix, `s3://bucket/prefix` or a key prefix."""

    type: Literal["prefix"] = "prefix"
    uri: str = Field(min_length=1, max_length=1024)


class FolderSource(BaseModel):
    """Every image under a server folder inside one of the allowed import roots."""

    type: Literal["folder"] = "folder"
    path: str = Field(min_length=1, max_length=4096)


JobSource = Annotated[ObjectsSource | PrefixSource | FolderSource, Field(discriminator="type")]


class JobRequest(BaseModel):
    collection_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    source: JobSource
    index_type: str | None = Field(
        None,
        max_length=64,
        pattern=r"^(auto|[A-Za-z0-9,()_]+)$",
        description="FAISS factory string of this collection's base segments; None keeps the current one",
    )


class JobItemError(BaseModel):
    item: str = Field(description="Image id, key or file the error is about")
    code: str
    message: str


class JobStatus(BaseModel):
    job_id: str
    collection_id: str
    status: JobState
    total: int = 0
    done: int = 0
    failed: int = 0
    errors: list[JobItemError] = Field(default_factory=list)
    index_version: str | None = Field(None, description="Version published when the job finished")
    created_at: float
    updated_at: float


class DeleteResult(BaseModel):
    collection_id: str
    image_id: str | None = None
    index_version: str | None = Field(None, description="Index version including this deletion")


SwitchAction = Literal["start", "flip", "rollback", "collect", "cancel"]


class ModelSwitchRequest(BaseModel):
    """One step of a model switch (see `services/indexer/switching.py`)."""

    action: SwitchAction = Field(
        description="`start` builds every collection's index for `to` while the current model serves; "
        "`flip` makes it serve; `rollback` serves the previous model again; `collect` removes the "
        "previous model; `cancel` abandons a running switch"
    )
    to: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="`start`: model version"
    )
    flip: bool = Field(False, description="`start`: flip as soon as every index is built")


class ModelSwitchStatus(BaseModel):
    serving: str = Field(description="Model version answering queries")
    target: str | None = Field(description="Model a switch is building indexes for")
    previous: str | None = Field(description="Model kept for a rollback")
    models: list[str] = Field(description="Model versions the encoders answering now serve")
    building: bool = Field(description="Whether this indexer is building the target's indexes now")
    embedded: int = Field(0, description="Images embedded by the target model in this build")
    collections_done: int = 0
    collections_total: int = 0
    error: str | None = Field(None, description="Why the last build or automatic flip stopped")
