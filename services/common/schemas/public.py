"""The gateway's public API (`/api/v1`): every request and response body."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.common.errors import ErrorDetail
from services.common.schemas.indexer import JobItemError, JobState

MAX_QUERY_CHARS = 500
MAX_TOP_K = 200
MAX_OFFSET = 1000
# The deepest rank a page can reach: every page of one query is cut from one candidate list this long.
MAX_DEPTH = MAX_OFFSET + MAX_TOP_K
Score = Annotated[float, Field(ge=-1.0, le=1.0)]
MinScore = Annotated[
    Score | Literal["auto"] | None,
    Field(
        description=(
            "Drop results scoring below this cosine; `auto`: below the serving model's calibrated "
            "relevance threshold (keeps everything when the model has no calibration, and for image "
            "queries)"
        ),
        examples=["auto", 0.3],
    ),
]
ID_PATTERN = r"^[A-Za-z0-9_-]+$"


class CollectionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Ảnh du lịch Đà Lạt"])
    shared: bool = Field(
        False, description="Visible to every API key instead of only the key creating it (admin keys only)"
    )


class Collection(BaseModel):
    id: str
    name: str
    image_count: int
    created_at: datetime
    shared: bool = Field(description="Visible to every API key; only admin keys may change it")
    writable: bool = Field(description="Whether the calling key may upload into it and delete it")


Role = Literal["read", "write", "admin"]
Permission = Literal["search", "read", "create", "upload", "delete", "import", "all_collections"]


class Identity(BaseModel):
    """What the calling API key may do."""

    role: Role
    key_id: str = Field(description="The key's public id (a hash); collections it creates record it")
    auth_required: bool = Field(description="Whether the gateway requires API keys at all")
    permissions: list[Permission]


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
    min_score: MinScore = None


class SimilarByImageId(BaseModel):
    image_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    collection_id: str | None = Field(None, max_length=64, pattern=ID_PATTERN)
    top_k: int = Field(20, ge=1, le=MAX_TOP_K)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    min_score: MinScore = None


Match = Literal["strong", "weak"]
# Why a page has no results: nothing is indexed in the collections searched; `min_score: "auto"`
# removed every candidate (no result reaches the model's relevance threshold); a numeric
# `min_score` removed every candidate; the offset lies past the last candidate.
EmptyReason = Literal["nothing_indexed", "no_strong_match", "below_min_score", "past_the_end"]


class SearchResult(BaseModel):
    image_id: str
    collection_id: str
    score: float
    match: Match | None = Field(
        description="`strong` at or above the relevance threshold, else `weak`; null when none applies"
    )
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
    relevance_threshold: float | None = Field(
        description=(
            "The cosine that separates strong from weak matches for this query, from the serving "
            "model's calibration; null when the model has none (pretrained backends) or the query "
            "is an image (image-to-image scores follow another distribution)"
        )
    )
    calibrated: bool = Field(description="Whether the serving model carries a relevance calibration")
    best_score: float | None = Field(
        description="Score of the best candidate before `min_score`; null when none"
    )
    empty_reason: EmptyReason | None = Field(
        description="Why `results` is empty (null when it is not), so a client can say so"
    )


class Status(BaseModel):
    status: Literal["ok"]
