"""Settings of the indexer service (`INDEXER_*`)."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.common.settings import ServiceSettings, split_csv


class IndexerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDEXER_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(8102, ge=0, le=65535, description="Port of the indexer service")
    encoder_url: str = Field("http://127.0.0.1:8101", description="Base URL of the encoder service")
    import_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Server folders that imports may read (comma-separated)"
    )

    @field_validator("import_roots", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_csv(value)
