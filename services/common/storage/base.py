"""The object-store interface every service uses, whatever the backend.

Calls are blocking (both backends are); async code uses the `a*` twins, which run the
call on a worker thread so the event loop never waits on disk or network.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

SHA256_META = "sha256"
_KEY_RE = re.compile(r"^[A-Za-z0-9!\-_.*'()=+,@]+(/[A-Za-z0-9!\-_.*'()=+,@]+)*$")


class StorageError(Exception):
    """Base of every storage failure."""


class ObjectNotFound(StorageError):
    """The key does not exist."""


class StorageUnavailable(StorageError):
    """The backend did not answer or refused the call."""


class ChecksumMismatch(StorageError):
    """The bytes read do not match the sha256 recorded when they were written."""


class ObjectTooLarge(StorageError):
    """The object holds more bytes than the reader accepts; nothing beyond the limit was read."""

    def __init__(self, key: str, max_bytes: int) -> None:
        super().__init__(f"{key}: more than {max_bytes} bytes")
        self.key, self.max_bytes = key, max_bytes


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str | None:
        return self.metadata.get(SHA256_META)


def validate_key(key: str) -> str:
    """Keys are server-made relative paths: no `..`, no empty segment, a safe alphabet."""
    if len(key) > 1024 or not _KEY_RE.match(key) or any(p in (".", "..") for p in key.split("/")):
        raise ValueError(f"invalid object key: {key!r}")
    return key


def validate_source_key(key: str) -> str:
    """Keys that people named (an import's files): any printable name, but still a relative
    path with no `.`/`..` or empty segment, so it never leaves the bucket or the folder."""
    parts = key.split("/")
    if not key or len(key) > 1024 or not key.isprintable() or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key: {key!r}")
    return key


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ObjectStore(ABC):
    """Bytes by key, each with a content type, string metadata and a recorded sha256."""

    name: str

    @abstractmethod
    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Store `data` atomically: a reader sees the old object or the whole new one."""

    @abstractmethod
    def get(self, key: str, verify: bool = True) -> bytes:
        """The object's bytes; with `verify`, checked against the sha256 recorded at `put`."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo | None:
        """The object's info, or None when it does not exist."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (retries are safe)."""

    @abstractmethod
    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with `prefix`, streamed page by page in a stable order."""

    def list_keys(self, prefix: str = "") -> list[str]:
        """Every key that starts with `prefix`, sorted."""
        return sorted(self.iter_keys(prefix))

    @abstractmethod
    def read_capped(self, key: str, max_bytes: int) -> bytes:
        """The bytes of an object people named (`validate_source_key`), read in chunks; raises
        ObjectTooLarge as soon as it holds more than `max_bytes`, never reading it whole."""

    @abstractmethod
    def presigned_get_url(self, key: str, expires_s: int = 300) -> str | None:
        """A short-lived URL a browser can fetch directly, or None when the backend has none."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StorageUnavailable when the backend cannot serve requests."""

    async def aclose(self) -> None:
        """Release connections; most backends hold nothing to release."""
        return None

    @staticmethod
    def _checked(key: str, data: bytes, expected: str | None, verify: bool) -> bytes:
        if verify and expected and sha256_hex(data) != expected:
            raise ChecksumMismatch(f"{key}: stored sha256 {expected} does not match the bytes read")
        return data

    async def aput(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        return await asyncio.to_thread(self.put, key, data, content_type, metadata)

    async def aget(self, key: str, verify: bool = True) -> bytes:
        return await asyncio.to_thread(self.get, key, verify)

    async def astat(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self.stat, key)

    async def adelete(self, key: str) -> None:
        await asyncio.to_thread(self.delete, key)

    async def alist(self, prefix: str = "") -> list[str]:
        return await asyncio.to_thread(self.list_keys, prefix)

    async def aping(self) -> None:
        await asyncio.to_thread(self.ping)
