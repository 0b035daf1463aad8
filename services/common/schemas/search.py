"""The search service's internal API (`/v1/search`, `/v1/shards`).

Queries travel as JSON (`SearchRequest`) or, from the typed client, as msgpack with the
vectors as raw float32 bytes (`SEARCH_MSGPACK`): a 512-d batch is 4x smaller and needs no
float parsing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

SEARCH_MSGPACK = "application/x-msgpack"
MAX_K = 2000
# Ids one request may allow. 100k ids of 32 characters are ~3.5 MB of msgpack (the body limit is
# 16 MiB); a replica scores them over 1M rows in 43 ms (Flat) to 123 ms (IVF1024): about one
# unfiltered search over 1M Flat rows, 50 over IVF (bench/filtered_search_bench.py).
MAX_INCLUDE_IDS = 100_000
ImageId = Annotated[str, Field(min_length=1, max_length=128)]


class SearchParams(BaseModel):
    """What one replica searches, and how.

    `include_ids` is the allow-list of a filter the gateway resolved in the catalog ("taken in
    July 2023", "album X"): only these images are candidates; ids a replica does not hold, and
    deleted or excluded ones, are ignored. `None` is no filter, `[]` allows nothing. A replica
    scores every allowed vector it holds exactly, whatever its index type, so a filtered search
    returns `k` hits whenever `k` allowed images are indexed, equal to exact search over them (the
    few factory types that keep no readable vectors, a PCA or OPQ transform in front or fast-scan
    codes, answer 422 `filter_unsupported`).

    At most MAX_INCLUDE_IDS ids travel in one request; a longer list is refused with a 422. For a
    filter matching more images, the gateway either
    - splits the list into chunks of at most MAX_INCLUDE_IDS, sends one request per chunk (all at
      once) and merges the hits by score: the top k of the union lies within the chunks' top k, so
      the answer stays exact; or, when the filter matches a large share `s` of the searched images,
    - over-fetches: searches without `include_ids` for k' = min(MAX_K, ceil(2k / s)), keeps the hits
      the filter matches, and doubles k' until k of them survive; if k' reaches MAX_K with fewer,
      it falls back to the chunks. Cheaper for broad filters, but as approximate as the index.
    """

    collection_ids: list[str] | None = Field(None, description="Collections to search; None means all held")
    k: int = Field(10, ge=1, le=MAX_K)
    exclude_ids: list[ImageId] = Field(default_factory=list, max_length=10_000)
    include_ids: list[ImageId] | None = Field(
        None,
        max_length=MAX_INCLUDE_IDS,
        description="Allow-list: only these images are searched, exactly; None means every image",
    )
    nprobe: int | None = Field(None, ge=1, le=65536, description="IVF lists probed per query")
    ef_search: int | None = Field(None, ge=1, le=65536, description="HNSW search breadth")
    model_version: str | None = Field(
        None, description="Model of the query vectors; collections indexed by another model are skipped"
    )
    versions: dict[str, str] | None = Field(
        None,
        description="`version.tombgen` the caller read for each collection (the gateway's cache key): a "
        "replica holding exactly these answers without reading the index signals; any other, it checks",
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
    total_candidates: int = Field(
        description="Vectors searched over, per query; with include_ids, the allowed ones held here"
    )
    skipped: dict[str, str] = Field(
        default_factory=dict, description="collection id -> why it was not searched (no index, other model)"
    )


class ShardAssignment(BaseModel):
    """Which shards of every collection a replica serves."""

    shard_count: int
    shards: list[int]
