"""Settings of the indexer service (`INDEXER_*`)."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.common.settings import CatalogSettings, ServiceSettings, has_default_password, split_csv


class IndexerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDEXER_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(8102, ge=0, le=65535, description="Port of the indexer service")
    encoder_url: str = Field("http://127.0.0.1:8101", description="Base URL of the encoder service")
    encoder_alt_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Further encoder deployments (comma-separated), each serving one model: a model "
        "switch uses the one serving the model it names",
    )
    import_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Server folders that imports may read (comma-separated)"
    )
    import_prefixes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["imports/"],
        description="Key prefixes of the storage bucket that `s3://` imports may read (comma-separated)",
    )
    max_image_bytes: int = Field(
        20 * 1024 * 1024, ge=1, description="Bytes one imported image may have (the encoder's limit)"
    )
    max_deliveries: int = Field(
        5, ge=1, le=100, description="Times a job is handed to a worker before it is marked failed"
    )
    fold_interval_s: float = Field(
        2.0, ge=0, description="Deletions arriving within this interval are folded in one publish"
    )
    version_gc_grace_s: float = Field(
        600.0, ge=0, description="Superseded index versions are removed this long after (beyond any load)"
    )
    model_keep_s: float = Field(
        7 * 86400.0,
        ge=0,
        description="After a model switch's flip, the previous model is kept (embedded, indexed) this long "
        "for a rollback, then collected; 0 keeps it until collected by hand",
    )
    shard_count: int = Field(4, ge=1, le=1024, description="Shards each collection's index is split into")
    index_type: str = Field(
        "auto", description="FAISS factory string of base segments (`Flat`, `HNSW32`, `IVF1024,Flat`) or auto"
    )
    memory_budget_mb: int = Field(
        1024, ge=1, description="Memory one shard may use; `auto` picks PQ when HNSW/IVF-Flat would exceed it"
    )
    flat_max: int = Field(20_000, ge=0, description="`auto` keeps shards up to this size exact (Flat)")
    batch_size: int = Field(64, ge=1, le=1024, description="Images encoded per encoder call")
    delta_max_fraction: float = Field(
        0.25, gt=0, description="Rebuild a shard when its delta rows exceed this fraction of its base"
    )
    tombstone_max_fraction: float = Field(
        0.2, gt=0, description="Rebuild a shard when this fraction of its rows is deleted"
    )
    workers: int = Field(
        2,
        ge=0,
        le=64,
        description="Job workers in this process (0: API only); two: one embeds while one publishes",
    )
    queue_path: Path = Field(
        Path("data/indexer-queue.sqlite"), description="Job queue file when no REDIS_URL is set"
    )
    claim_idle_s: float = Field(
        30.0, gt=0, description="A job unacknowledged this long by a dead worker is taken over"
    )
    lock_ttl_s: float = Field(30.0, gt=0, description="Lifetime of a publish lock a dead worker held")
    job_status_ttl_s: int = Field(
        7 * 24 * 3600, ge=60, description="How long a job's status stays readable in the Redis job queue"
    )
    encoder_timeout_s: float = Field(120.0, gt=0, description="Timeout of one bulk encoder call")
    ocr_enabled: bool = Field(True, description="Read the words in each indexed image (Tesseract)")
    ocr_language: str = Field("vie", description="Tesseract languages of OCR (`vie`, `vie+eng`)")
    ocr_seconds: float = Field(10.0, gt=0, description="Seconds OCR may spend on one image")
    ocr_max_pixels: int = Field(4_000_000, ge=10_000, description="Larger images are downscaled before OCR")
    ocr_workers: int = Field(1, ge=1, le=64, description="Threads that run OCR beside the job workers")
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)

    def insecure_settings(self) -> list[str]:
        found = super().insecure_settings()
        if has_default_password(self.catalog.url):
            found.append("CATALOG_URL")
        return found

    @field_validator("import_roots", "import_prefixes", "encoder_alt_urls", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("import_prefixes")
    @classmethod
    def _folder_prefixes(cls, value: list[str]) -> list[str]:
        """`imports` means the folder `imports/`, never `imports-secret/` beside it."""
        out = []
        for prefix in value:
            if not prefix.strip("/") or ".." in prefix.split("/"):
                raise ValueError(f"import prefix {prefix!r} must name a folder of the bucket")
            out.append(prefix.strip("/") + "/")
        return out
