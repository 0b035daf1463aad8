"""The catalog: collections and images in the database, their bytes in object storage.

Writes keep the order that makes a crash harmless. Bytes first, record last: an image's bytes
(carrying its metadata, see `keys.ImageObjectMeta`) and thumbnail are stored before its row, so
a row never points at missing bytes, and a failed store leaves no row behind. Deletion the other
way round: the row first (the image is gone at once), then the bytes; both are safe to retry.
Image ids are derived from the collection and the content hash, so the same bytes uploaded twice,
even at once, are one image.

Calls block; async callers run them on a worker thread (`asyncio.to_thread` or a pool).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imaging.metadata import extract_metadata
from services.common.catalog.browse import Browsing
from services.common.catalog.bulk import BulkRecords
from services.common.catalog.curation import Curation
from services.common.catalog.engine import Sessions, upsert
from services.common.catalog.filters import Filtering
from services.common.catalog.keys import (
    ImageObjectMeta,
    clean_filename,
    clean_folder,
    collection_backup_key,
    image_id_for,
    image_key,
    thumbnail_key,
)
from services.common.catalog.keywords import KeywordSearch, index_new_images, refresh_keywords_many
from services.common.catalog.models import CollectionRow, ImageRow
from services.common.catalog.paging import decode_cursor, encode_cursor
from services.common.catalog.records import CollectionRecord, ImageRecord, Page
from services.common.catalog.rows import collection_record, exif_columns, image_record
from services.common.images import (
    DEFAULT_MAX_PIXELS,
    THUMBNAIL_CONTENT_TYPE,
    PreparedImage,
    decode,
    make_thumbnail,
    prepare,
)
from services.common.storage import ObjectStore


class CollectionNotFound(LookupError):
    """The collection does not exist (or was deleted while an image was being stored into it)."""


def _seen_by(viewer: str) -> ColumnElement[bool]:
    """Collections a key sees: those shared with every key, and its own."""
    return CollectionRow.owner.is_(None) | (CollectionRow.owner == viewer)


@dataclass(frozen=True)
class WrittenImage:
    """What `Catalog.write_image` did with one image's bytes."""

    image_id: str
    stored: ImageRecord | None  # stored whole already: nothing written
    row: dict[str, object] | None  # written now: its row for `add_image_rows`; None when not


class Catalog(Browsing, BulkRecords, Curation, Filtering, KeywordSearch):
    """The one door to collections and images: rows in the database, bytes in `store`."""

    def __init__(self, store: ObjectStore, sessions: Sessions) -> None:
        self.store = store
        self.sessions = sessions

    async def aclose(self) -> None:
        """Close the database connections (the store is its owner's to close)."""
        await asyncio.to_thread(self.sessions.dispose)

    def ping(self) -> None:
        """Raise when the database does not answer."""
        with self.sessions.read() as s:
            s.execute(select(1))

    # Collections

    def create_collection(self, name: str, owner: str | None = None) -> CollectionRecord:
        """The backup object first (what a rebuild reads), then the row."""
        record = CollectionRecord(
            id=uuid.uuid4().hex[:16], name=name, created_at=datetime.now(UTC), owner=owner
        )
        self.put_collection_backup(record)
        with self.sessions.write() as s:
            s.add(CollectionRow(**record.model_dump()))
        return record

    def put_collection_backup(self, record: CollectionRecord) -> None:
        self.store.put(
            collection_backup_key(record.id), record.model_dump_json().encode(), "application/json"
        )

    def restore_collection(self, record: CollectionRecord) -> None:
        """The row of a collection known from its backup (a rebuild); kept as it is when present."""
        with self.sessions.write() as s:
            stmt = upsert(self.sessions.dialect, CollectionRow).values(**record.model_dump())
            s.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))

    def get_collection(self, collection_id: str) -> CollectionRecord | None:
        with self.sessions.read() as s:
            row = s.get(CollectionRow, collection_id)
            return collection_record(row) if row is not None else None

    def list_collections(
        self, viewer: str | None = None, *, cursor: str | None = None, limit: int = 100
    ) -> Page[CollectionRecord]:
        """Oldest first. `viewer`: only collections shared with every key or owned by that key id;
        None: every collection."""
        stmt = select(CollectionRow).order_by(CollectionRow.created_at, CollectionRow.id)
        if viewer is not None:
            stmt = stmt.where(_seen_by(viewer))
        if cursor is not None:
            created, last = decode_cursor(cursor, "c")
            stmt = stmt.where(tuple_(CollectionRow.created_at, CollectionRow.id) > (created, last))
        with self.sessions.read() as s:
            rows = list(s.scalars(stmt.limit(limit + 1)))
        records = [collection_record(r) for r in rows[:limit]]
        more = len(rows) > limit
        next_cursor = encode_cursor("c", records[-1].created_at, records[-1].id) if more else None
        return Page[CollectionRecord](items=records, next_cursor=next_cursor)

    def collection_ids(self, viewer: str | None = None) -> list[str]:
        """Every collection a search over all covers for `viewer` (None: every collection)."""
        stmt = select(CollectionRow.id).order_by(CollectionRow.id)
        if viewer is not None:
            stmt = stmt.where(_seen_by(viewer))
        with self.sessions.read() as s:
            return list(s.scalars(stmt))

    def count_images(self, collection_id: str) -> int:
        return self.image_counts([collection_id]).get(collection_id, 0)

    def image_counts(self, collection_ids: list[str]) -> dict[str, int]:
        """Images per collection (0 for an unknown id), in one query of the collections' counters."""
        if not collection_ids:
            return {}
        stmt = select(CollectionRow.id, CollectionRow.image_count).where(CollectionRow.id.in_(collection_ids))
        with self.sessions.read() as s:
            counts: dict[str, int] = {cid: n for cid, n in s.execute(stmt)}
        return {cid: counts.get(cid, 0) for cid in collection_ids}

    def delete_collection(self, collection_id: str) -> None:
        """The row first (its images, albums and tags go with it), then every byte, the backup last."""
        with self.sessions.write() as s:
            row = s.get(CollectionRow, collection_id)
            if row is not None:
                s.delete(row)
        for prefix in (image_key(collection_id, ""), thumbnail_key(collection_id, "")[: -len(".webp")]):
            for key in list(self.store.iter_keys(prefix)):
                self.store.delete(key)
        self.store.delete(collection_backup_key(collection_id))

    # Images

    def store_image(
        self,
        collection_id: str,
        filename: str | None,
        data: bytes,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        folder: str | None = None,
    ) -> tuple[ImageRecord, bool]:
        """Validate, store bytes and thumbnail, then the row. Returns (record, was_duplicate).

        A duplicate is found from the content hash before any pixel is decoded; a half-written image
        (bytes without a row, a row without its thumbnail...) is written again, whole.
        Raises ImageDecodeError before anything is stored when the bytes are not an image, and
        CollectionNotFound when the collection does not exist.
        """
        written = self.write_image(collection_id, filename, data, max_pixels, folder)
        if written.stored is not None:
            return written.stored, True
        assert written.row is not None
        self.add_image_rows(collection_id, [written.row])
        record = self.get_image(written.image_id)
        assert record is not None
        return record, False

    def write_image(
        self,
        collection_id: str,
        filename: str | None,
        data: bytes,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        folder: str | None = None,
        written: Container[str] = (),
        digest: str | None = None,
    ) -> WrittenImage:
        """The first half of `store_image`: nothing written when these bytes are stored whole
        already (`stored`) or were written earlier in the same batch (their id in `written`),
        else the bytes and thumbnail written and the row to add with `add_image_rows`. Many
        images' rows then go in one transaction; until it commits none of them is catalogued,
        and a retry writes the objects again. `digest`: the bytes' SHA-256, when known."""
        digest = digest or hashlib.sha256(data).hexdigest()
        image_id = image_id_for(collection_id, digest)
        if image_id in written:
            return WrittenImage(image_id, None, None)
        existing = self._complete(collection_id, image_id)
        if existing is not None:
            return WrittenImage(image_id, existing, None)
        prepared = prepare(data, max_pixels=max_pixels)
        row = write_image_objects(
            self.store, collection_id, filename, data, prepared, folder=folder, digest=digest
        )
        return WrittenImage(image_id, None, row)

    def complete_image(self, collection_id: str, data: bytes) -> ImageRecord | None:
        """The stored image of these bytes when every part is there: bytes, thumbnail, row."""
        return self._complete(collection_id, image_id_for(collection_id, hashlib.sha256(data).hexdigest()))

    def _complete(self, collection_id: str, image_id: str) -> ImageRecord | None:
        record = self.get_image(image_id)
        if record is None:
            return None
        parts = (image_key(collection_id, image_id), thumbnail_key(collection_id, image_id))
        return record if all(self.store.stat(key) is not None for key in parts) else None

    def add_image_rows(self, collection_id: str, rows: list[dict[str, object]]) -> None:
        """Rows of images whose objects `write_image_objects` stored, in one transaction; a row
        already there is updated and not counted again. Raises CollectionNotFound (after removing
        the rows' objects) when the collection does not exist."""
        try:
            with self.sessions.write() as s:
                self._insert_images(s, rows, update_existing=True)
        except IntegrityError as exc:
            if self.get_collection(collection_id) is not None:
                raise
            for row in rows:  # a collection deleted meanwhile keeps none of its bytes
                image_id = str(row["image_id"])
                self.store.delete(image_key(collection_id, image_id))
                self.store.delete(thumbnail_key(collection_id, image_id))
            raise CollectionNotFound(collection_id) from exc

    def restore_image(self, meta: ImageObjectMeta, data: bytes) -> None:
        """The row of stored bytes (a rebuild), from their object metadata and their pixels and EXIF;
        the thumbnail is made again when it is missing."""
        decoded = decode(data)
        thumb = thumbnail_key(meta.collection_id, meta.image_id)
        if self.store.stat(thumb) is None:
            self.store.put(thumb, make_thumbnail(decoded.image), THUMBNAIL_CONTENT_TYPE)
        row = {
            "image_id": meta.image_id,
            "collection_id": meta.collection_id,
            "filename": meta.filename,
            "folder": meta.folder,
            "width": decoded.width,
            "height": decoded.height,
            "content_type": decoded.content_type,
            "size": len(data),
            "sha256": meta.sha256,
            "created_at": meta.created_at,
            **exif_columns(extract_metadata(data)),
        }
        with self.sessions.write() as s:
            self._insert_images(s, [row], update_existing=False)

    def _insert_images(self, s: Session, rows: list[dict[str, object]], *, update_existing: bool) -> None:
        """Insert image rows and count them in their collections, a few statements for the lot; a
        row already there is not counted again and, with `update_existing`, gets the new row's
        values (all but `_ROW_IDENTITY`), else is kept as it is. Keyword documents follow."""
        dialect = self.sessions.dialect
        added: set[str] = set()
        first: dict[str, dict[str, object]] = {}
        for row in rows:
            first.setdefault(str(row["image_id"]), row)
        shapes: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for row in first.values():  # one multi-row statement needs the same columns in every row
            shapes.setdefault(tuple(sorted(row)), []).append(row)
        for fresh, at in ((f, at) for f in shapes.values() for at in range(0, len(f), _INSERT_CHUNK)):
            stmt = upsert(dialect, ImageRow).values(fresh[at : at + _INSERT_CHUNK])
            done = s.execute(
                stmt.on_conflict_do_nothing(index_elements=["image_id"]).returning(ImageRow.image_id)
            )
            added.update(done.scalars())
        counts = Counter(str(first[i]["collection_id"]) for i in added)
        for collection_id, n in sorted(counts.items()):
            s.execute(
                update(CollectionRow)
                .where(CollectionRow.id == collection_id)
                .values(image_count=CollectionRow.image_count + n)
            )
        changed: set[str] = set()
        if update_existing:
            for row in rows:  # rows that were there already, and repeats of this batch: in order
                image_id = str(row["image_id"])
                if image_id in added and row is first[image_id]:
                    continue
                changes = {k: v for k, v in row.items() if k not in _ROW_IDENTITY}
                if changes:
                    s.execute(update(ImageRow).where(ImageRow.image_id == image_id).values(**changes))
                    changed.add(image_id)
        index_new_images(s, dialect, [row for i, row in first.items() if i in added and i not in changed])
        refresh_keywords_many(s, dialect, [i for i in first if i in changed])

    def get_image(self, image_id: str) -> ImageRecord | None:
        with self.sessions.read() as s:
            row = s.get(ImageRow, image_id)
            return image_record(row) if row is not None else None

    def get_images(self, image_ids: list[str]) -> dict[str, ImageRecord]:
        """The records of a result page, in one query; ids no longer catalogued are left out."""
        if not image_ids:
            return {}
        with self.sessions.read() as s:
            rows = s.scalars(select(ImageRow).where(ImageRow.image_id.in_(set(image_ids))))
            return {row.image_id: image_record(row) for row in rows}

    def image_ids(self, collection_id: str) -> list[str]:
        with self.sessions.read() as s:
            stmt = select(ImageRow.image_id).where(ImageRow.collection_id == collection_id)
            return list(s.scalars(stmt.order_by(ImageRow.image_id)))

    def delete_image(self, record: ImageRecord) -> None:
        """The row first (the image disappears at once), then the bytes; safe to retry."""
        with self.sessions.write() as s:
            gone = s.execute(
                delete(ImageRow).where(ImageRow.image_id == record.image_id).returning(ImageRow.collection_id)
            ).first()
            if gone is not None:
                s.execute(
                    update(CollectionRow)
                    .where(CollectionRow.id == gone[0])
                    .values(image_count=CollectionRow.image_count - 1)
                )
        self.store.delete(image_key(record.collection_id, record.image_id))
        self.store.delete(thumbnail_key(record.collection_id, record.image_id))


_ROW_IDENTITY = ("image_id", "collection_id", "created_at")  # what a re-upload leaves as it was
_INSERT_CHUNK = 200  # image rows a statement: 20 columns each, far under SQLite's variable limit


def write_image_objects(
    store: ObjectStore,
    collection_id: str,
    filename: str | None,
    data: bytes,
    prepared: PreparedImage,
    *,
    folder: str | None = None,
    created_at: datetime | None = None,
    digest: str | None = None,
) -> dict[str, object]:
    """Store an image's bytes (with their metadata) and thumbnail under its content id; returns
    its catalog row for `Catalog.add_image_rows`. Needs no database, so a bulk job's workers
    store images where their bytes are and hand only rows back."""
    digest = digest or hashlib.sha256(data).hexdigest()
    image_id = image_id_for(collection_id, digest)
    obj = ImageObjectMeta(
        collection_id=collection_id,
        image_id=image_id,
        sha256=digest,
        filename=clean_filename(filename),
        folder=clean_folder(folder),
        created_at=created_at or datetime.now(UTC),
    )
    store.put(image_key(collection_id, image_id), data, prepared.content_type, obj.to_metadata())
    store.put(thumbnail_key(collection_id, image_id), prepared.thumbnail, THUMBNAIL_CONTENT_TYPE)
    return {
        "image_id": image_id,
        "collection_id": collection_id,
        "created_at": obj.created_at,
        "filename": obj.filename,
        "folder": obj.folder,
        "width": prepared.width,
        "height": prepared.height,
        "content_type": prepared.content_type,
        "size": len(data),
        "sha256": digest,
        **exif_columns(extract_metadata(data)),
    }


def backup_record(raw: bytes) -> CollectionRecord:
    """A collection's backup object, as `put_collection_backup` wrote it."""
    return CollectionRecord.model_validate(json.loads(raw))
