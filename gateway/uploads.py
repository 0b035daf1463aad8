"""Turning an upload (many files, or one zip of images) into stored images, one verdict per file.

Every file and zip member gets a verdict of its own: a bad one is listed under `rejected` with a
code, and the files before and after it are stored as usual. All work on the bytes (inflating,
decoding, thumbnailing, storing) runs on the image pool, never on the event loop or the shared
default thread pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from dataclasses import dataclass, field

from gateway.image_pool import ImagePool
from gateway.settings import GatewaySettings
from services.common.catalog import Catalog, WrittenImage, clean_filename, clean_folder, image_id_for
from services.common.errors import ErrorDetail
from services.common.images import ImageDecodeError
from services.common.schemas.public import RejectedFile, UploadedImage

ZIP_MAGIC = b"PK\x03\x04"
INLINE_HASH_BYTES = 256 * 1024  # smaller files are hashed on the event loop: under 0.2 ms
_ENCRYPTED = 0x1  # general-purpose flag bit 0 of a zip member


@dataclass(frozen=True)
class UploadLimits:
    max_files: int
    max_pixels: int
    max_image_bytes: int
    max_unzipped: int

    @classmethod
    def of(cls, s: GatewaySettings) -> UploadLimits:
        return cls(
            s.max_files_per_upload, s.max_image_pixels, s.max_image_bytes, s.max_zip_uncompressed_bytes
        )


class Rejected(Exception):
    """One file or zip member refused, with a code a client can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class UploadOutcome:
    accepted: list[UploadedImage] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)
    duplicates: list[UploadedImage] = field(default_factory=list)
    count: int = 0

    def reject(self, filename: str, code: str, message: str) -> None:
        self.rejected.append(RejectedFile(filename=filename, error=ErrorDetail(code=code, message=message)))


def unsafe_path(name: str) -> bool:
    """A name that climbs out of its folder or is absolute: refused, never cleaned up silently."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(parts[0]) == 2 and parts[0][1] == ":")


def _litter(name: str) -> bool:
    """Operating-system litter in an archive, not a user's image."""
    return name.rsplit("/", 1)[-1].startswith(".") or "__MACOSX/" in name


def open_archive(data: bytes, limits: UploadLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its files, checked from the central directory before any member is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except Exception as exc:  # BadZipFile, OSError, struct errors, bad names...: the archive is unusable
        raise Rejected("corrupt_archive", "The zip file is corrupt.") from exc
    if len(members) > limits.max_files:
        raise Rejected("too_many_files", f"The zip holds {len(members)} files; at most {limits.max_files}.")
    if sum(m.file_size for m in members) > limits.max_unzipped:
        raise Rejected("archive_too_large", f"The zip expands to more than {limits.max_unzipped:,} bytes.")
    return archive, members


def read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: UploadLimits) -> bytes:
    """One member's bytes, read no further than its header promises, or Rejected."""
    if member.flag_bits & _ENCRYPTED:
        raise Rejected("encrypted_member", "The zip member is encrypted; zip it without a password.")
    if member.file_size > limits.max_image_bytes:
        raise Rejected("file_too_large", f"The file exceeds {limits.max_image_bytes:,} bytes.")
    try:
        with archive.open(member) as fh:
            content = fh.read(member.file_size + 1)
    except NotImplementedError as exc:
        raise Rejected(
            "unsupported_compression", "The zip member's compression method is not supported."
        ) from exc
    except Exception as exc:  # zlib.error, LZMAError, EOFError, a bad CRC...: this member only is unreadable
        raise Rejected("corrupt_archive", "The zip member cannot be read.") from exc
    if len(content) > member.file_size:
        raise Rejected("corrupt_archive", "The zip member is larger than its header says.")
    return content


@dataclass
class _Write:
    """One image being written on the pool, or a repeat of an image of this upload."""

    name: str
    image_id: str
    task: asyncio.Task[WrittenImage] | None  # None: the same bytes as an earlier file of this upload


class _Upload:
    """Files are checked in upload order; images are hashed on arrival (so a repeat inside the
    upload is known before anything is written), then decoded, thumbnailed and stored on the pool,
    several at once; verdicts are given in upload order at the end."""

    def __init__(self, catalog: Catalog, pool: ImagePool, collection_id: str, limits: UploadLimits) -> None:
        self.catalog = catalog
        self.pool = pool
        self.collection_id = collection_id
        self.limits = limits
        self.outcome = UploadOutcome()
        self._verdicts: list[RejectedFile | _Write] = []  # in upload order
        self._first: set[str] = set()  # image ids being written by this upload
        self._window = asyncio.Semaphore(2 * pool.workers)  # images in memory and on the pool at once

    def reject(self, filename: str, code: str, message: str) -> None:
        self._verdicts.append(RejectedFile(filename=filename, error=ErrorDetail(code=code, message=message)))

    async def file(self, raw_name: str, data: bytes) -> None:
        if unsafe_path(raw_name):
            self.reject(raw_name[:255], "unsafe_path", "The file name climbs out of its folder.")
        elif data.startswith(ZIP_MAGIC):
            await self.archive(clean_filename(raw_name), data)
        else:
            await self.image(clean_filename(raw_name), data)

    async def archive(self, name: str, data: bytes) -> None:
        try:
            archive, members = await self.pool.run(open_archive, data, self.limits)
        except Rejected as exc:
            self.reject(name, exc.code, exc.message)
            return
        for member in members:
            shown = clean_filename(member.filename)
            if unsafe_path(member.filename):
                self.reject(member.filename[:255], "unsafe_path", "The zip member's path leaves the archive.")
                continue
            if _litter(member.filename):
                continue
            try:
                content = await self.pool.run(read_member, archive, member, self.limits)
            except Rejected as exc:
                self.reject(shown, exc.code, exc.message)
                continue
            await self.image(
                shown, content, clean_folder(member.filename.replace("\\", "/").rpartition("/")[0])
            )

    async def image(self, name: str, data: bytes, folder: str | None = None) -> None:
        self.outcome.count += 1
        if self.outcome.count > self.limits.max_files:
            self.reject(name, "too_many_files", f"At most {self.limits.max_files} images per upload.")
            return
        if len(data) > self.limits.max_image_bytes:
            self.reject(name, "file_too_large", f"The file exceeds {self.limits.max_image_bytes:,} bytes.")
            return
        digest = _sha256(data) if len(data) <= INLINE_HASH_BYTES else await self.pool.run(_sha256, data)
        image_id = image_id_for(self.collection_id, digest)
        if image_id in self._first:
            self._verdicts.append(_Write(name, image_id, None))
            return
        self._first.add(image_id)
        await self._window.acquire()
        task = asyncio.ensure_future(self._write(name, data, folder, digest))
        task.add_done_callback(lambda _: self._window.release())
        self._verdicts.append(_Write(name, image_id, task))

    async def _write(self, name: str, data: bytes, folder: str | None, digest: str) -> WrittenImage:
        return await self.pool.run(
            self.catalog.write_image,
            self.collection_id,
            name,
            data,
            self.limits.max_pixels,
            folder,
            (),
            digest,
        )

    async def settle(self) -> None:
        """Wait for every write under way (a pool thread cannot be stopped midway)."""
        writes = [v.task for v in self._verdicts if isinstance(v, _Write) and v.task is not None]
        await asyncio.shield(asyncio.gather(*writes, return_exceptions=True))

    async def commit(self) -> None:
        """The verdicts in upload order, then every written image's row in one transaction."""
        await self.settle()  # all settled before any is judged
        rows: dict[str, dict[str, object]] = {}  # image id -> row, in upload order
        firsts: dict[str, UploadedImage | RejectedFile] = {}  # what each image's first file became
        for verdict in self._verdicts:
            if isinstance(verdict, RejectedFile):
                self.outcome.rejected.append(verdict)
            elif verdict.task is None:  # a repeat: as its first file, named after it
                first = firsts[verdict.image_id]
                if isinstance(first, RejectedFile):
                    self.outcome.rejected.append(RejectedFile(filename=verdict.name, error=first.error))
                else:
                    self.outcome.duplicates.append(first)
            else:
                firsts[verdict.image_id] = self._judge(verdict, rows)
        if rows:
            await self.pool.run(self.catalog.add_image_rows, self.collection_id, list(rows.values()))
        for image_id, row in rows.items():
            self.outcome.accepted.append(UploadedImage(image_id=image_id, filename=str(row["filename"])))

    def _judge(self, verdict: _Write, rows: dict[str, dict[str, object]]) -> UploadedImage | RejectedFile:
        """One first file's verdict from its write; raises what the write raised, but bad bytes."""
        assert verdict.task is not None
        try:
            written = verdict.task.result()
        except ImageDecodeError as exc:
            rejected = RejectedFile(
                filename=verdict.name, error=ErrorDetail(code=exc.code, message=exc.message)
            )
            self.outcome.rejected.append(rejected)
            return rejected
        if written.stored is not None:
            stored = UploadedImage(image_id=written.image_id, filename=written.stored.filename)
            self.outcome.duplicates.append(stored)
            return stored
        assert written.row is not None
        rows[written.image_id] = written.row
        return UploadedImage(image_id=written.image_id, filename=str(written.row["filename"]))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def store_upload(
    catalog: Catalog,
    pool: ImagePool,
    collection_id: str,
    files: list[tuple[str, bytes]],
    limits: UploadLimits,
) -> UploadOutcome:
    """Validate and store each file; duplicates (same bytes, same collection) are found before decoding.
    A zip member keeps the folder it sat in within the archive. Raises CollectionNotFound when the
    collection is deleted meanwhile."""
    upload = _Upload(catalog, pool, collection_id, limits)
    try:
        for raw_name, data in files:
            await upload.file(raw_name, data)
    except BaseException:
        await upload.settle()  # writes under way finish before the error is answered
        raise
    await upload.commit()
    return upload.outcome
