"""The gateway's public API (`/api/v1`): every request and response body."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.common.errors import ErrorDetail
from services.common.schemas.indexer import JobItemError, JobState

MAX_QUERY_CHARS = 500
MAX_TOP_K = 200
MAX_OFFSET = 1000
ID_PATTERN = r"^[A-Za-z0-9_-]+$"


class CollectionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Ảnh du lịch Đà Lạt"])


class Collection(BaseModel):
    id: str
    name: str
    image_count: int
    created_at: datetime


class CollectionList(BaseModel):
    items: list[Collection]


class UploadedImage(BaseModel):
    image_id: str
    filename: str


class RejectedFile(BaseModel):
    filename: str
    error: ErrorDetail


class UploadResult(BaseModel):
    job_id: str | None = Field(description="Indexing job of the accepted images; null when none")
    accepted: list[UploadedImage]
    rejected: list[RejectedFile]
    duplicates: list[UploadedImage]


class ImportRequest(BaseModel):
    source: str = Field(
        min_length=1,
        max_length=1024,
        description="`s3://bucket/prefix` or a folder under one of the server's allowed import roots",
        examples=["s3://photos/2024/"],
    )


class JobAccepted(BaseModel):
    job_id: str


class Job(BaseModel):
    job_id: str
    collection_id: str
    status: JobState
    total: int
    done: int
    failed: int
    errors: list[JobItemError]


class Image(BaseModel):
    image_id: str
    collection_id: str
    filename: str
    width: int
    height: int
    content_type: str
    created_at: datetime
    url: str
    thumbnail_url: str


class SearchQuery(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="A Vietnamese description; accents optional",
        examples=["một cậu bé đang chơi quần vợt"],
    )
    collection_id: str | None = Field(
        None, max_length=64, pattern=ID_PATTERN, description="Search one collection; all when absent"
    )
    top_k: int = Field(20, ge=1, le=MAX_TOP_K)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    min_score: float | None = Field(None, ge=-1.0, le=1.0)


class SimilarByImageId(BaseModel):
    image_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    collection_id: str | None = Field(None, max_length=64, pattern=ID_PATTERN)
    top_k: int = Field(20, ge=1, le=MAX_TOP_K)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    min_score: float | None = Field(None, ge=-1.0, le=1.0)


class SearchResult(BaseModel):
    image_id: str
    collection_id: str
    score: float
    filename: str
    url: str
    thumbnail_url: str


class SearchResponse(BaseModel):
    results: list[SearchResult]
    total_candidates: int
    took_ms: float
    cached: bool
    model_version: str
    index_version: str
    partial: bool


class Status(BaseModel):
    status: Literal["ok"]
