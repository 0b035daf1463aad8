"""Settings of the search service (`SEARCH_*`)."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.common.settings import ServiceSettings, split_csv


class SearchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SEARCH_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(8103, ge=0, le=65535, description="Port of the search service")
    shard_count: int = Field(4, ge=1, description="Shards each collection's index is split into")
    shards: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Shards this replica serves (comma-separated; empty: all)"
    )
    poll_interval_s: float = Field(
        0.0, ge=0, description="Manifest polling period; 0: 30 s with Redis pub/sub, 2 s without"
    )
    sync_timeout_s: float = Field(
        10.0,
        gt=0,
        description="A request waits this long for a newer version to load before using the held one",
    )
    search_threads: int = Field(
        4, ge=1, le=256, description="Threads running FAISS searches off the event loop"
    )
    inline_max_rows: int = Field(
        4096,
        ge=0,
        description="A search over at most this many rows (times query vectors) runs on the event loop: "
        "handing it to a thread costs more than the scan",
    )
    faiss_threads: int = Field(
        0, ge=0, le=256, description="OpenMP threads of one FAISS call; 0 keeps FAISS's default"
    )
    views: bool = Field(
        True,
        description="Search collections sharing a model version through one merged index (a second "
        "copy of their vectors); false: each collection on its own segments",
    )
    view_flat_max: int = Field(
        20_000, ge=0, description="A merged view of up to this many rows is exact (Flat); larger: `auto`"
    )
    view_memory_budget_mb: int = Field(
        1024, ge=1, description="Memory a merged view's `auto` index type may use (as the indexer's)"
    )
    view_debounce_s: float = Field(
        1.0, ge=0, description="A merged view is rebuilt this long after the held versions last changed"
    )
    max_request_bytes: int = Field(
        16 << 20, ge=1024, description="Largest search request body accepted (413 above it)"
    )

    @field_validator("shards", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_csv(value)

    @property
    def held_shards(self) -> list[int]:
        return sorted(set(self.shards)) if self.shards else list(range(self.shard_count))
