"""Object store on S3 through the `minio` SDK: MinIO in production, any S3-compatible server.

Every object carries its sha256 in user metadata (`x-amz-meta-sha256`), checked on read.
An S3 PUT is atomic per object, so readers never see a partial object.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import ParamSpec, TypeVar
from urllib.parse import urlparse

import urllib3
from minio import Minio
from minio.error import S3Error

from services.common.settings import StorageSettings
from services.common.storage.base import (
    SHA256_META,
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

_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound"}
_META_PREFIX = "x-amz-meta-"
_CHUNK = 1 << 16
P = ParamSpec("P")
T = TypeVar("T")


def _split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    if "://" in endpoint:
        parsed = urlparse(endpoint)
        return parsed.netloc, parsed.scheme == "https"
    return endpoint, secure


def _user_metadata(headers: object) -> dict[str, str]:
    items = headers.items() if hasattr(headers, "items") else []
    return {k[len(_META_PREFIX) :].lower(): v for k, v in items if k.lower().startswith(_META_PREFIX)}


def _read_upto(chunks: Iterator[bytes], key: str, max_bytes: int) -> bytes:
    out, seen = [], 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > max_bytes:
            raise ObjectTooLarge(key, max_bytes)
        out.append(chunk)
    return b"".join(out)


class S3ObjectStore(ObjectStore):
    name = "s3"

    def __init__(self, settings: StorageSettings) -> None:
        if not settings.s3_endpoint:
            raise ValueError("STORAGE_S3_ENDPOINT is required for the s3 backend")
        endpoint, secure = _split_endpoint(settings.s3_endpoint, settings.s3_secure)
        timeout = urllib3.Timeout(connect=settings.timeout_s, read=settings.timeout_s)
        self._http = urllib3.PoolManager(
            timeout=timeout,
            maxsize=32,
            retries=urllib3.Retry(total=2, backoff_factor=0.1, status_forcelist=(500, 502, 503, 504)),
        )
        self.client = Minio(
            endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=secure,
            region=settings.s3_region,
            http_client=self._http,
        )
        self.bucket = settings.s3_bucket
        self._bucket_ready = False

    def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one SDK call, mapping its failures onto the storage error types."""
        try:
            return fn(*args, **kwargs)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(f"{exc.code}: {exc.resource or ''}") from exc
            raise StorageError(f"{exc.code}: {exc.message}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(f"S3 endpoint unreachable: {type(exc).__name__}") from exc

    def ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        if not self._call(self.client.bucket_exists, self.bucket):
            try:
                self._call(self.client.make_bucket, self.bucket)
            except StorageError as exc:
                if "BucketAlreadyOwnedByYou" not in str(exc) and "BucketAlreadyExists" not in str(exc):
                    raise
        self._bucket_ready = True

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        validate_key(key)
        self.ensure_bucket()
        md = {**(metadata or {}), SHA256_META: sha256_hex(data)}
        self._call(
            self.client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata=dict(md),
        )
        return ObjectInfo(key=key, size=len(data), content_type=content_type, metadata=md)

    def get(self, key: str, verify: bool = True) -> bytes:
        validate_key(key)
        resp = self._call(self.client.get_object, self.bucket, key)
        try:
            data = resp.read()
            expected = _user_metadata(resp.headers).get(SHA256_META)
        finally:
            resp.close()
            resp.release_conn()
        return self._checked(key, data, expected, verify)

    def stat(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        try:
            st = self._call(self.client.stat_object, self.bucket, key)
        except ObjectNotFound:
            return None
        return ObjectInfo(
            key=key,
            size=int(st.size or 0),
            content_type=st.content_type or "application/octet-stream",
            metadata=_user_metadata(st.metadata or {}),
        )

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self._call(self.client.remove_object, self.bucket, key)
        except ObjectNotFound:
            return

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """S3 lists in key order, 1,000 keys a page; only one page is held at a time."""
        pages = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
        while True:
            try:
                obj = self._call(next, pages, None)
            except ObjectNotFound:
                return
            if obj is None:
                return
            if obj.object_name:
                yield obj.object_name

    def read_capped(self, key: str, max_bytes: int) -> bytes:
        validate_source_key(key)
        resp = self._call(self.client.get_object, self.bucket, key)
        try:
            length = resp.headers.get("Content-Length")
            if length is not None and length.isdecimal() and int(length) > max_bytes:
                raise ObjectTooLarge(key, max_bytes)
            return self._call(_read_upto, resp.stream(_CHUNK), key, max_bytes)
        finally:
            resp.close()
            resp.release_conn()

    def presigned_get_url(self, key: str, expires_s: int = 300) -> str | None:
        validate_key(key)
        url: str = self._call(
            self.client.presigned_get_object, self.bucket, key, expires=timedelta(seconds=expires_s)
        )
        return url

    def ping(self) -> None:
        self.ensure_bucket()

    async def aclose(self) -> None:
        self._http.clear()
