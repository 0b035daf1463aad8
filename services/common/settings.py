"""Settings shared by every service, read once from the environment at start-up.

Infrastructure that all services share (object storage, Redis, the catalog database) is
configured with unprefixed variables (`STORAGE_*`, `REDIS_URL`, `CACHE_*`, `CATALOG_URL`) so one
`.env` file serves the whole stack; each service adds its own class with its own prefix (`ENCODER_`, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that ship in examples and laptop defaults; start-up refuses them outside development.
DEFAULT_SECRETS = frozenset({"minioadmin", "changeme", "change-me", "password", "secret"})


class StorageSettings(BaseSettings):
    """Object storage: S3/MinIO when an endpoint is given, a local directory otherwise."""

    model_config = SettingsConfigDict(env_prefix="STORAGE_", extra="ignore")

    backend: Literal["auto", "local", "s3"] = Field(
        "auto", description="`auto` picks s3 when an endpoint is set"
    )
    local_root: Path = Field(Path("data/storage"), description="Root folder of the local-directory backend")
    s3_endpoint: str | None = Field(None, description="S3/MinIO endpoint, `host:port` or a URL")
    s3_access_key: SecretStr = Field(SecretStr("minioadmin"), description="S3 access key")
    s3_secret_key: SecretStr = Field(SecretStr("minioadmin"), description="S3 secret key")
    s3_bucket: str = Field("timanh", description="Bucket holding images, vectors and indexes")
    s3_region: str = Field("us-east-1", description="S3 region")
    s3_secure: bool = Field(False, description="Use HTTPS to reach the S3 endpoint")
    timeout_s: float = Field(10.0, description="Connect and read timeout of one storage call")

    @property
    def resolved_backend(self) -> Literal["local", "s3"]:
        if self.backend == "auto":
            return "s3" if self.s3_endpoint else "local"
        return self.backend


class CacheSettings(BaseSettings):
    """Cache: Redis when `REDIS_URL` is set, an in-process LRU otherwise."""

    model_config = SettingsConfigDict(env_prefix="CACHE_", extra="ignore")

    redis_url: str | None = Field(
        None, validation_alias="REDIS_URL", description="Redis URL; unset means an in-process cache"
    )
    timeout_s: float = Field(0.25, description="Socket timeout of one Redis call")
    local_max_items: int = Field(10_000, ge=1, description="Capacity of the in-process LRU cache")
    default_ttl_s: int = Field(3600, ge=1, description="Default time to live of cached entries")


class CatalogSettings(BaseSettings):
    """The catalog database: a SQLite file on a laptop (no server), PostgreSQL in production."""

    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    url: str = Field(
        "sqlite:///data/catalog.db",
        description="Catalog database URL: `sqlite:///path.db` or `postgresql+psycopg://user:pass@host/db`",
    )


class DevelopmentSettings(BaseSettings):
    """`TIMANH_DEV=1`: a development machine, where the laptop defaults are fine."""

    model_config = SettingsConfigDict(extra="ignore")

    enabled: bool = Field(
        False,
        validation_alias="TIMANH_DEV",
        description="Development mode: start with default secrets (`minioadmin`, `change-me-*`) and API "
        "keys without a URL signing key, which start-up refuses otherwise",
    )


def is_default_secret(value: str) -> bool:
    text = value.strip().lower()
    return text in DEFAULT_SECRETS or text.startswith(("change-me", "changeme"))


def has_default_password(url: str | None) -> bool:
    """A Redis (or any) URL whose password is a default or example secret."""
    password = urlsplit(url).password if url else None
    return password is not None and is_default_secret(password)


class ServiceSettings(BaseSettings):
    """Fields every service has; subclasses set `env_prefix` and their own port."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = Field("127.0.0.1", description="Interface the HTTP server binds")
    port: int = Field(8000, ge=0, le=65535, description="Port the HTTP server listens on")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level")
    log_json: bool = Field(False, description="Log one JSON object per line")
    http_timeout_s: float = Field(5.0, gt=0, description="Timeout of outbound HTTP calls to other services")
    readiness_timeout_s: float = Field(2.0, gt=0, description="Time one readiness check may take")
    storage: StorageSettings = Field(default_factory=StorageSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    development: DevelopmentSettings = Field(default_factory=DevelopmentSettings)

    def insecure_settings(self) -> list[str]:
        """Variables holding a default or missing secret; subclasses add their own."""
        found = []
        if self.storage.resolved_backend == "s3":
            for name, secret in (
                ("STORAGE_S3_ACCESS_KEY", self.storage.s3_access_key),
                ("STORAGE_S3_SECRET_KEY", self.storage.s3_secret_key),
            ):
                if is_default_secret(secret.get_secret_value()):
                    found.append(name)
        if has_default_password(self.cache.redis_url):
            found.append("REDIS_URL")
        return found

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        insecure = self.insecure_settings()
        if insecure and not self.development.enabled:
            raise ValueError(
                f"{', '.join(insecure)}: a default, example or missing secret; set a real one "
                "(or TIMANH_DEV=1 on a development machine)"
            )
        return self


def split_csv(value: object) -> object:
    """Lists in the environment are comma-separated (`a,b`) or JSON (`["a","b"]`)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value
