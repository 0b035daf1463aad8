"""Between rows and records: the values an image's row stores from EXIF, and the records read back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from imaging.metadata import PhotoMetadata
from services.common.catalog.models import AlbumRow, CollectionRow, ImageRow
from services.common.catalog.records import AlbumRecord, CollectionRecord, ImageRecord


def taken_columns(meta: PhotoMetadata) -> tuple[datetime | None, int | None]:
    """The date taken as stored: UTC (naive) with its offset when the file states one, else as given."""
    taken = meta.taken_at
    if taken is None or taken.tzinfo is None:
        return taken, None
    offset = meta.taken_tz_offset_min
    if offset is None:
        delta = taken.utcoffset()
        offset = int(delta.total_seconds() // 60) if delta is not None else 0
    return taken.astimezone(UTC).replace(tzinfo=None), offset


def exif_columns(meta: PhotoMetadata) -> dict[str, object]:
    taken_at, offset = taken_columns(meta)
    return {
        "taken_at": taken_at,
        "taken_tz_offset_min": offset,
        "camera_make": meta.camera_make,
        "camera_model": meta.camera_model,
        "latitude": meta.latitude,
        "longitude": meta.longitude,
        "orientation": meta.orientation,
    }


def collection_record(row: CollectionRow) -> CollectionRecord:
    return CollectionRecord(id=row.id, name=row.name, created_at=row.created_at, owner=row.owner)


def image_record(row: ImageRow) -> ImageRecord:
    return ImageRecord(**image_fields(row))


# The image columns a record is read from, in the order `image_values` takes them.
IMAGE_COLUMNS = tuple(ImageRow.__table__.c[name] for name in ImageRecord.model_fields)


def image_values(row: Sequence[Any]) -> dict[str, Any]:
    """`image_fields` of a plain row that starts with `IMAGE_COLUMNS` (no ORM object per row)."""
    values = dict(zip(ImageRecord.model_fields, row, strict=False))
    taken = values["taken_at"]
    if taken is not None and values["taken_tz_offset_min"] is not None:
        values["taken_at"] = taken.replace(tzinfo=UTC)
    return values


def image_fields(row: ImageRow) -> dict[str, Any]:
    """An image row's fields as `ImageRecord` (and `ImageDetail`) take them."""
    return image_values([getattr(row, name) for name in ImageRecord.model_fields])


def album_record(row: AlbumRow, image_count: int = 0) -> AlbumRecord:
    return AlbumRecord(
        id=row.id,
        collection_id=row.collection_id,
        name=row.name,
        created_at=row.created_at,
        image_count=image_count,
    )
