"""Settings of the search service (`SEARCH_*`)."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.common.settings import ServiceSettings, split_csv


class SearchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SEARCH_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(8103, ge=0, le=65535, description="Port of the search service")
    shard_count: int = Field(1, ge=1, description="Shards each collection's index is split into")
    shards: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Shards this replica serves (comma-separated; empty: all)"
    )

    @field_validator("shards", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_csv(value)
