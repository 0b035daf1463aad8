"""Object store in a local directory: the embedded default of a laptop run.

Layout: `<root>/objects/<key>` holds the bytes, `<root>/meta/<key>.json` the content type
and metadata. Each file is written to a temporary name, fsynced and renamed, so a crash
never leaves a half-written object under its key; a striped file lock (shared by every
process on the machine) makes the pair change together for readers and other writers.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from services.common.storage.base import (
    SHA256_META,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
    StorageUnavailable,
    sha256_hex,
    validate_key,
    validate_source_key,
)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_LOCK_STRIPES = 64


class LocalObjectStore(ObjectStore):
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        self._locks = self.root / "locks"
        for folder in (self._objects, self._meta, self._locks):
            folder.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _locked(self, key: str, exclusive: bool) -> Iterator[None]:
        stripe = int(hashlib.blake2b(key.encode(), digest_size=2).hexdigest(), 16) % _LOCK_STRIPES
        with open(self._locks / f"{stripe:02d}.lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _paths(self, key: str) -> tuple[Path, Path]:
        validate_key(key)
        return self._objects / key, self._meta / f"{key}.json"

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        obj, meta = self._paths(key)
        md = {**(metadata or {}), SHA256_META: sha256_hex(data)}
        with self._locked(key, exclusive=True):
            _atomic_write(obj, data)
            _atomic_write(meta, json.dumps({"content_type": content_type, "metadata": md}).encode())
        return ObjectInfo(key=key, size=len(data), content_type=content_type, metadata=md)

    def _read_meta(self, meta: Path) -> tuple[str, dict[str, str]]:
        try:
            raw = json.loads(meta.read_bytes())
            return raw["content_type"], dict(raw["metadata"])
        except FileNotFoundError:
            return "application/octet-stream", {}

    def get(self, key: str, verify: bool = True) -> bytes:
        obj, meta = self._paths(key)
        with self._locked(key, exclusive=False):
            try:
                data = obj.read_bytes()
            except FileNotFoundError as exc:
                raise ObjectNotFound(key) from exc
            _, md = self._read_meta(meta)
        return self._checked(key, data, md.get(SHA256_META), verify)

    def stat(self, key: str) -> ObjectInfo | None:
        obj, meta = self._paths(key)
        with self._locked(key, exclusive=False):
            try:
                size = obj.stat().st_size
            except FileNotFoundError:
                return None
            content_type, md = self._read_meta(meta)
        return ObjectInfo(key=key, size=size, content_type=content_type, metadata=md)

    def delete(self, key: str) -> None:
        obj, meta = self._paths(key)
        with self._locked(key, exclusive=True):
            obj.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Walks only the folder the prefix names, one directory listing at a time."""
        folder, _, stem = prefix.rpartition("/")
        start = self._objects / folder if folder else self._objects
        if ".." in prefix.split("/") or not start.resolve().is_relative_to(self._objects):
            return  # no key holds a `..` segment
        yield from self._walk(start, f"{folder}/" if folder else "", stem)

    def _walk(self, directory: Path, key_prefix: str, stem: str) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if not entry.name.startswith(stem) or entry.name.startswith(".tmp-"):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), f"{key_prefix}{entry.name}/", "")
            elif entry.is_file(follow_symlinks=False):
                yield key_prefix + entry.name

    def read_capped(self, key: str, max_bytes: int) -> bytes:
        path = self._objects / validate_source_key(key)
        try:
            with open(path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size > max_bytes:
                    raise ObjectTooLarge(key, max_bytes)
                data = fh.read(max_bytes + 1)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        if len(data) > max_bytes:
            raise ObjectTooLarge(key, max_bytes)
        return data

    def presigned_get_url(self, key: str, expires_s: int = 300) -> str | None:
        return None

    def ping(self) -> None:
        if not os.access(self._objects, os.W_OK):
            raise StorageUnavailable(f"{self._objects} is not writable")
