"""Settings of the gateway (`GATEWAY_*`)."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from gateway.access import parse_api_keys
from services.common.images import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS
from services.common.schemas.search import MAX_INCLUDE_IDS
from services.common.settings import (
    CacheSettings,
    CatalogSettings,
    ServiceSettings,
    has_default_password,
    is_default_secret,
    split_csv,
)


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(7860, ge=0, le=65535, description="Port of the public API and UI")
    encoder_url: str = Field("http://127.0.0.1:8101", description="Base URL of the encoder service")
    encoder_alt_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Further encoder deployments (comma-separated), each serving one model: a model "
        "switch uses the one serving the model it names",
    )
    indexer_url: str = Field("http://127.0.0.1:8102", description="Base URL of the indexer service")
    search_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8103"],
        description="Base URLs of the search replicas (comma-separated)",
    )
    search_timeout_s: float = Field(2.0, gt=0, description="Time a search replica has to answer")
    filter_chunk_ids: int = Field(
        MAX_INCLUDE_IDS,
        ge=1,
        le=MAX_INCLUDE_IDS,
        description="Ids of a search filter's allow-list sent in one request (longer lists: one request per "
        "chunk, merged by score)",
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Accepted API keys (comma-separated), each `read:KEY`, `write:KEY`, `admin:KEY` or a "
        "plain `KEY` (admin); empty: no auth",
    )
    url_signing_key: SecretStr | None = Field(
        None,
        description="Key signing image URLs for browsers; required with API keys (derived from them "
        "only under TIMANH_DEV)",
    )
    rate_limit_per_minute: int = Field(1200, ge=0, description="Requests per minute per API key; 0: no limit")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated)"
    )
    max_request_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="Largest request body accepted")
    max_files_per_upload: int = Field(
        500, ge=1, description="Most images in one upload (zip members included)"
    )
    max_image_pixels: int = Field(DEFAULT_MAX_PIXELS, ge=1, description="Largest image accepted, in pixels")
    max_image_bytes: int = Field(
        DEFAULT_MAX_IMAGE_BYTES,
        ge=1,
        description="Bytes one image may have (zip members too); keep it equal to `ENCODER_MAX_IMAGE_BYTES`",
    )
    image_workers: int = Field(
        2, ge=1, le=64, description="Threads decoding, thumbnailing and storing uploaded images"
    )
    max_queued_uploads: int = Field(
        8, ge=0, description="Uploads that may wait for an image thread; more get 503 and Retry-After"
    )
    max_zip_uncompressed_bytes: int = Field(
        512 * 1024 * 1024, ge=1, description="Most bytes a zip upload may expand to"
    )
    embedding_cache_ttl_s: int = Field(86_400, ge=1, description="Lifetime of cached query embeddings")
    result_cache_ttl_s: int = Field(3600, ge=1, description="Lifetime of cached candidate lists of queries")
    candidate_cache_max_bytes: int = Field(
        64 * 1024, ge=1024, description="Most bytes one query's cached candidate list may take"
    )
    answer_cache_bytes: int = Field(
        32 * 1024 * 1024,
        ge=0,
        description="Bytes of whole search answers each gateway process keeps, served again while "
        "the search epoch holds (0: off)",
    )
    answer_cache_ttl_s: float = Field(
        60.0,
        gt=0,
        description="Longest a kept answer is served; bounds how long a catalog edit whose epoch bump "
        "was lost goes unseen",
    )
    record_cache_entries: int = Field(
        20_000,
        ge=0,
        description="Image records (with albums and tags) each gateway process reuses for result pages "
        "while the search epoch they were read under holds (0: every page reads its records)",
    )
    model_info_refresh_s: float = Field(
        10.0, gt=0, description="How long the gateway reuses the encoder's model version and threshold"
    )
    cache_failure_threshold: int = Field(
        3, ge=1, description="Cache errors in a row after which the gateway skips its cache for a while"
    )
    cache_open_s: float = Field(
        5.0, gt=0, description="How long the gateway skips a failing cache before trying it again"
    )
    cache_redis_url: str | None = Field(
        None,
        description="Redis of the query cache and rate limits, with a memory budget of its own "
        "(`allkeys-lru`); unset: `REDIS_URL`, which holds the job queue and index signals",
    )
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    frontend_dir: Path = Field(Path("frontend/dist"), description="Built UI served at `/` when present")

    @field_validator("search_urls", "encoder_alt_urls", "api_keys", "cors_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("api_keys")
    @classmethod
    def _roles(cls, value: list[SecretStr]) -> list[SecretStr]:
        parse_api_keys([k.get_secret_value() for k in value if k.get_secret_value()])
        return value

    def cache_settings(self) -> CacheSettings:
        """The cache's settings: on its own Redis when `cache_redis_url` is set, so cache
        pressure never evicts or blocks the job stream in `REDIS_URL`."""
        if not self.cache_redis_url:
            return self.cache
        return self.cache.model_copy(update={"redis_url": self.cache_redis_url})

    def insecure_settings(self) -> list[str]:
        found = super().insecure_settings()
        if has_default_password(self.cache_redis_url):
            found.append("GATEWAY_CACHE_REDIS_URL")
        if has_default_password(self.catalog.url):
            found.append("CATALOG_URL")
        keys = [k.get_secret_value() for k in self.api_keys if k.get_secret_value()]
        if any(is_default_secret(key) for key in parse_api_keys(keys)):
            found.append("GATEWAY_API_KEYS")
        signing = self.url_signing_key.get_secret_value() if self.url_signing_key else ""
        if keys and (is_default_secret(signing) or not signing.strip() or signing in parse_api_keys(keys)):
            found.append("GATEWAY_URL_SIGNING_KEY")
        return found
