"""An `ImageFilter` as a WHERE clause: typed fields bound as parameters, never text glued into SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, or_, select, true

from services.common.catalog.models import AlbumImageRow, ImageRow, TagRow
from services.common.schemas.catalog import ImageFilter


def _naive(moment: datetime) -> datetime:
    """A bound as the date taken is stored: an aware one in UTC, a naive one as given."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where(f: ImageFilter) -> ColumnElement[bool]:
    """Every field of the filter that is set, ANDed; an empty filter matches every image."""
    clauses: list[ColumnElement[bool]] = []
    if f.collection_ids is not None:
        clauses.append(ImageRow.collection_id.in_(f.collection_ids))
    if f.taken_after is not None:
        clauses.append(ImageRow.taken_at >= _naive(f.taken_after))
    if f.taken_before is not None:
        clauses.append(ImageRow.taken_at < _naive(f.taken_before))
    if f.camera is not None:
        clauses.append(or_(ImageRow.camera_make == f.camera, ImageRow.camera_model == f.camera))
    if f.album_id is not None:
        members = select(AlbumImageRow.image_id).where(AlbumImageRow.album_id == f.album_id)
        clauses.append(ImageRow.image_id.in_(members))
    if f.tag is not None:
        tagged = select(TagRow.image_id).where(TagRow.tag == f.tag)
        clauses.append(ImageRow.image_id.in_(tagged))
    if f.filename_contains is not None:
        # Case-insensitive on PostgreSQL (ILIKE); SQLite's LIKE folds ASCII letters only.
        clauses.append(ImageRow.filename.ilike(_like(f.filename_contains), escape="\\"))
    if f.has_location is not None:
        located = and_(ImageRow.latitude.is_not(None), ImageRow.longitude.is_not(None))
        clauses.append(located if f.has_location else ~located)
    return and_(true(), *clauses)
