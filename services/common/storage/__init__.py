"""Object storage behind one interface: S3/MinIO or a local directory."""

from services.common.settings import StorageSettings
from services.common.storage.base import (
    ChecksumMismatch,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
    StorageError,
    StorageUnavailable,
    sha256_hex,
    validate_key,
    validate_source_key,
)


def open_store(settings: StorageSettings) -> ObjectStore:
    """The backend the settings name; `auto` means S3 when an endpoint is configured."""
    if settings.resolved_backend == "s3":
        from services.common.storage.s3 import S3ObjectStore

        return S3ObjectStore(settings)
    from services.common.storage.local import LocalObjectStore

    return LocalObjectStore(settings.local_root)


__all__ = [
    "ChecksumMismatch",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectTooLarge",
    "StorageError",
    "StorageUnavailable",
    "open_store",
    "sha256_hex",
    "validate_key",
    "validate_source_key",
]
