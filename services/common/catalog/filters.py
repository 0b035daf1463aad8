"""An `ImageFilter` as a WHERE clause: typed fields bound as parameters, never text glued into SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, select, true

from services.common.catalog.engine import Sessions
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
    if f.camera is not None:  # each an equality on an index led by the collection
        clauses.append(ImageRow.camera_model == f.camera)
    if f.camera_make is not None:
        clauses.append(ImageRow.camera_make == f.camera_make)
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


class Filtering:
    """What a filtered search asks of the catalog; mixed into `Catalog`, which provides `sessions`."""

    sessions: Sessions

    def matching_ids(self, image_filter: ImageFilter) -> list[str]:
        """The ids of every image the filter matches, sorted. Sorted here, not in SQL: an ORDER BY
        image_id makes SQLite walk the primary key over every row instead of the filter's index
        (209 ms instead of 22 ms for a 1% camera filter, 5,000 ids, at 1M rows)."""
        stmt = select(ImageRow.image_id).where(where(image_filter))
        with self.sessions.read() as s:
            return sorted(s.scalars(stmt))

    def count_matching(self, image_filter: ImageFilter) -> int:
        stmt = select(func.count()).select_from(ImageRow).where(where(image_filter))
        with self.sessions.read() as s:
            return int(s.scalar(stmt) or 0)
