"""The search service's internal API (`/v1/search`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SearchRequest(BaseModel):
    collection_ids: list[str] | None = Field(None, description="Collections to search; None means all held")
    vectors: list[list[float]] = Field(min_length=1, max_length=1024, description="Unit query vectors")
    k: int = Field(10, ge=1, le=2000)
    exclude_ids: list[str] = Field(default_factory=list, max_length=10_000)
    nprobe: int | None = Field(None, ge=1, le=65536, description="IVF lists probed per query")
    ef_search: int | None = Field(None, ge=1, le=65536, description="HNSW search breadth")


class Hit(BaseModel):
    image_id: str
    collection_id: str
    score: float


class SearchResponse(BaseModel):
    results: list[list[Hit]] = Field(description="One list of hits per query vector, best first")
    index_versions: dict[str, str] = Field(description="collection id -> index version searched")
    shards: list[int] = Field(description="Shards this replica searched")
    total_candidates: int = Field(description="Vectors searched over, per query")
