"""Settings of the gateway (`GATEWAY_*`)."""

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.common.settings import ServiceSettings, split_csv


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(7860, ge=0, le=65535, description="Port of the public API and UI")
    encoder_url: str = Field("http://127.0.0.1:8101", description="Base URL of the encoder service")
    indexer_url: str = Field("http://127.0.0.1:8102", description="Base URL of the indexer service")
    search_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8103"],
        description="Base URLs of the search replicas (comma-separated)",
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Accepted API keys (comma-separated); empty: no auth"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated)"
    )

    @field_validator("search_urls", "api_keys", "cors_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_csv(value)
