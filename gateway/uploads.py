"""Turning an upload (many files, or one zip of images) into stored images, one verdict per file."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from services.common.catalog import Catalog, clean_filename
from services.common.errors import ErrorDetail
from services.common.images import ImageDecodeError
from services.common.schemas.public import RejectedFile, UploadedImage

ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class UploadOutcome:
    accepted: list[UploadedImage] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)
    duplicates: list[UploadedImage] = field(default_factory=list)

    def reject(self, filename: str, code: str, message: str) -> None:
        self.rejected.append(RejectedFile(filename=filename, error=ErrorDetail(code=code, message=message)))


def unsafe_path(name: str) -> bool:
    """A name that climbs out of its folder or is absolute: refused, never cleaned up silently."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(parts[0]) == 2 and parts[0][1] == ":")


def expand(
    filename: str, data: bytes, outcome: UploadOutcome, max_files: int, max_unzipped: int
) -> Iterator[tuple[str, bytes]]:
    """Yield (name, bytes) of each file to store; zip members are checked before they are read."""
    if not data.startswith(ZIP_MAGIC):
        yield filename, data
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        outcome.reject(filename, "corrupt_archive", "The zip file is corrupt.")
        return
    if len(members) > max_files:
        outcome.reject(
            filename, "too_many_files", f"The zip holds {len(members)} files; at most {max_files}."
        )
        return
    if sum(m.file_size for m in members) > max_unzipped:
        outcome.reject(filename, "archive_too_large", f"The zip expands to more than {max_unzipped:,} bytes.")
        return
    for member in members:
        shown = clean_filename(member.filename)
        if unsafe_path(member.filename):
            outcome.reject(member.filename[:255], "unsafe_path", "The zip member's path leaves the archive.")
            continue
        if member.filename.rsplit("/", 1)[-1].startswith(".") or "__MACOSX/" in member.filename:
            continue  # operating-system litter, not a user's image
        try:
            with archive.open(member) as fh:
                content = fh.read(member.file_size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            outcome.reject(shown, "corrupt_archive", "The zip member cannot be read.")
            continue
        if len(content) > member.file_size:
            outcome.reject(shown, "corrupt_archive", "The zip member is larger than its header says.")
            continue
        yield shown, content


def store_upload(
    catalog: Catalog,
    collection_id: str,
    files: list[tuple[str, bytes]],
    *,
    max_files: int,
    max_pixels: int,
    max_unzipped: int,
) -> UploadOutcome:
    """Validate and store each file (blocking; run it on a worker thread)."""
    outcome = UploadOutcome()
    count = 0
    for raw_name, data in files:
        if unsafe_path(raw_name):
            outcome.reject(raw_name[:255], "unsafe_path", "The file name climbs out of its folder.")
            continue
        for name, content in expand(clean_filename(raw_name), data, outcome, max_files, max_unzipped):
            count += 1
            if count > max_files:
                outcome.reject(name, "too_many_files", f"At most {max_files} images per upload.")
                continue
            try:
                record, duplicate = catalog.store_image(collection_id, name, content, max_pixels)
            except ImageDecodeError as exc:
                outcome.reject(name, exc.code, exc.message)
                continue
            item = UploadedImage(image_id=record.image_id, filename=record.filename)
            (outcome.duplicates if duplicate else outcome.accepted).append(item)
    return outcome
