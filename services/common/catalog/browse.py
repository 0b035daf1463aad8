"""A collection's images a page at a time, by date taken or by upload time, through keyset cursors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, tuple_

from services.common.catalog.engine import Sessions
from services.common.catalog.models import ImageRow
from services.common.catalog.paging import Direction, ImageOrder, decode_cursor, encode_cursor
from services.common.catalog.records import ImageRecord, Page
from services.common.catalog.rows import image_record


class Browsing:
    """Listing a collection's images; mixed into `Catalog`, which provides `sessions`."""

    sessions: Sessions

    def list_images(
        self,
        collection_id: str,
        *,
        order: ImageOrder = "taken_at",
        direction: Direction = "desc",
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[ImageRecord]:
        """A collection's images by date taken (images without one last) or by upload time; the id
        breaks ties. Each page walks the collection's index from the cursor on."""
        if order == "uploaded":
            rows = self._keyset(collection_id, ImageRow.created_at, direction, cursor, limit + 1, "u")
            records = [image_record(r) for r in rows]
        else:
            records = self._by_taken(collection_id, direction, cursor, limit + 1)
        more = len(records) > limit
        records = records[:limit]
        next_cursor = None
        if more:
            last = records[-1]
            if order == "uploaded":
                next_cursor = encode_cursor("u", last.created_at, last.image_id)
            else:
                taken = last.taken_at.replace(tzinfo=None) if last.taken_at is not None else None
                next_cursor = encode_cursor("t", taken, last.image_id)
        return Page[ImageRecord](items=records, next_cursor=next_cursor)

    def _by_taken(
        self, collection_id: str, direction: Direction, cursor: str | None, limit: int
    ) -> list[ImageRecord]:
        """Dated images, then undated ones: two index walks, so NULLs sort last on every backend."""
        taken, last = decode_cursor(cursor, "t") if cursor is not None else (None, None)
        rows: list[ImageRow] = []
        if cursor is None or taken is not None:
            rows = self._keyset(collection_id, ImageRow.taken_at, direction, cursor, limit, "t")
        if len(rows) < limit:
            stmt = select(ImageRow).where(
                ImageRow.collection_id == collection_id, ImageRow.taken_at.is_(None)
            )
            if cursor is not None and taken is None:
                after = ImageRow.image_id < last if direction == "desc" else ImageRow.image_id > last
                stmt = stmt.where(after)
            by_id = ImageRow.image_id.desc() if direction == "desc" else ImageRow.image_id.asc()
            with self.sessions.read() as s:
                rows += list(s.scalars(stmt.order_by(by_id).limit(limit - len(rows))))
        return [image_record(r) for r in rows]

    def _keyset(
        self,
        collection_id: str,
        column: Any,
        direction: Direction,
        cursor: str | None,
        limit: int,
        kind: str,
    ) -> list[ImageRow]:
        stmt: Select[ImageRow] = select(ImageRow).where(
            ImageRow.collection_id == collection_id, column.is_not(None)
        )
        if cursor is not None:
            value, last = decode_cursor(cursor, kind)
            key = tuple_(column, ImageRow.image_id)
            stmt = stmt.where(key < (value, last) if direction == "desc" else key > (value, last))
        if direction == "desc":
            stmt = stmt.order_by(column.desc(), ImageRow.image_id.desc())
        else:
            stmt = stmt.order_by(column.asc(), ImageRow.image_id.asc())
        with self.sessions.read() as s:
            return list(s.scalars(stmt.limit(limit)))
