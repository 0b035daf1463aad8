"""The search service's internal API (`/v1/search`, `/v1/shards`).

Queries travel as JSON (`SearchRequest`) or, from the typed client, as msgpack with the
vectors as raw float32 bytes (`SEARCH_MSGPACK`): a 512-d batch is 4x smaller and needs no
float parsing.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

SEARCH_MSGPACK = "application/x-msgpack"


class SearchParams(BaseModel):
    collection_ids: list[str] | None = Field(None, description="Collections to search; None means all held")
    k: int = Field(10, ge=1, le=2000)
    exclude_ids: list[str] = Field(default_factory=list, max_length=10_000)
    nprobe: int | None = Field(None, ge=1, le=65536, description="IVF lists probed per query")
    ef_search: int | None = Field(None, ge=1, le=65536, description="HNSW search breadth")
    model_version: str | None = Field(
        None, description="Model of the query vectors; collections indexed by another model are skipped"
    )


class SearchRequest(SearchParams):
    vectors: list[list[float]] = Field(min_length=1, max_length=1024, description="Unit query vectors")


class Hit(BaseModel):
    image_id: str
    collection_id: str
    score: float


class SearchResponse(BaseModel):
    results: list[list[Hit]] = Field(description="One list of hits per query vector, best first")
    index_versions: dict[str, str] = Field(description="collection id -> index version searched")
    shards: list[int] = Field(description="Shards this replica searched")
    total_candidates: int = Field(description="Vectors searched over, per query")
    skipped: dict[str, str] = Field(
        default_factory=dict, description="collection id -> why it was not searched (no index, other model)"
    )


class ShardAssignment(BaseModel):
    """Which shards of every collection a replica serves."""

    shard_count: int
    shards: list[int]
