"""What people add to their images: albums (per collection), tags and a note.

These live in the database only: a rebuild from storage restores images and collections, not
what was typed into them.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from services.common.catalog.engine import Sessions, upsert
from services.common.catalog.keywords import refresh_keywords
from services.common.catalog.models import AlbumImageRow, AlbumRow, ImageRow, TagRow
from services.common.catalog.records import (
    AlbumRecord,
    AlbumRef,
    CameraCount,
    ImageDetail,
    ImageRecord,
    TagCount,
)
from services.common.catalog.rows import IMAGE_COLUMNS, album_record, image_record, image_values
from services.common.schemas.catalog import clean_text, normalize_tag

MAX_NOTE = 10_000


class Unchanged(Enum):
    """A field an edit leaves as it is (None would mean "remove it")."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


def _details_statement() -> Select[Any]:
    """Images by id (the expanding parameter `ids`) joined to their albums and tags."""
    ids: BindParameter[list[str]] = bindparam("ids", expanding=True)
    labels = union_all(
        select(
            AlbumImageRow.image_id.label("image_id"),
            AlbumRow.id.label("ref"),
            AlbumRow.name.label("text"),
        )
        .join(AlbumRow, AlbumImageRow.album_id == AlbumRow.id)
        .where(AlbumImageRow.image_id.in_(ids)),
        select(TagRow.image_id, null(), TagRow.tag).where(TagRow.image_id.in_(ids)),
    ).subquery()
    image_id = ImageRow.__table__.c.image_id
    return (
        select(*IMAGE_COLUMNS, labels.c.ref, labels.c.text)
        .outerjoin(labels, labels.c.image_id == image_id)
        .where(image_id.in_(ids))
    )


_DETAILS = _details_statement()


class Curation:
    """Albums, tags and notes; mixed into `Catalog`, which provides `sessions`."""

    sessions: Sessions

    def get_image_detail(self, image_id: str) -> ImageDetail | None:
        """An image with its albums and tags."""
        with self.sessions.read() as s:
            row = s.get(ImageRow, image_id)
            record = image_record(row) if row is not None else None
        return self.with_labels([record])[0] if record is not None else None

    def with_labels(self, records: list[ImageRecord]) -> list[ImageDetail]:
        """The records with their albums and tags: two queries for the whole list."""
        with self.sessions.read() as s:
            return _labelled(s, records)

    def get_image_details(self, image_ids: list[str]) -> dict[str, ImageDetail]:
        """A result page's images with their albums and tags, by id (a missing id is left out), in
        one SELECT: each image row joined to its labels, one row per album or tag (their sum, never
        their product), each branch of the labels on its own index by image.

        Every search hydrates its page here, so the statement is built once (`_DETAILS`, the ids
        an expanding parameter) and read as plain rows, not ORM objects: on the demo catalog
        (SQLite, 1,000 images, 2 cores) a page of 20 took 2.7 ms built and loaded per call."""
        if not image_ids:
            return {}
        fields: dict[str, dict[str, Any]] = {}
        albums: dict[str, list[AlbumRef]] = defaultdict(list)
        tags: dict[str, list[str]] = defaultdict(list)
        with self.sessions.connection() as conn:
            for row in conn.execute(_DETAILS, {"ids": list(image_ids)}):
                image_id, ref, text = row[0], row[-2], row[-1]
                if image_id not in fields:
                    fields[image_id] = image_values(row)
                if ref is not None:
                    albums[image_id].append(AlbumRef(id=ref, name=text))
                elif text is not None:
                    tags[image_id].append(text)
        # One model per image, built once from its row (not a record re-dumped into a detail).
        return {
            image_id: ImageDetail(
                **values,
                albums=sorted(albums[image_id], key=lambda a: (a.name, a.id)),
                tags=sorted(tags[image_id]),
            )
            for image_id, values in fields.items()
        }

    def edit_image(
        self,
        image_id: str,
        *,
        note: str | Unchanged | None = UNCHANGED,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> bool:
        """Change what people added to an image, all in one transaction: the note (None or blank
        removes it; UNCHANGED leaves it), tags added then removed (normalised: NFC, lower case).
        False when there is no such image."""
        added = sorted({t for t in map(normalize_tag, add_tags) if t})
        removed = {t for t in map(normalize_tag, remove_tags) if t}
        with self.sessions.write() as s:
            row = s.get(ImageRow, image_id)
            if row is None:
                return False
            if not isinstance(note, Unchanged):
                row.note = clean_note(note)
            if added:
                rows = [{"image_id": image_id, "tag": t} for t in added]
                s.execute(upsert(self.sessions.dialect, TagRow).values(rows).on_conflict_do_nothing())
            if removed:
                s.execute(delete(TagRow).where(TagRow.image_id == image_id, TagRow.tag.in_(removed)))
            refresh_keywords(s, self.sessions.dialect, image_id)
        return True

    def set_note(self, image_id: str, note: str | None) -> bool:
        return self.edit_image(image_id, note=note)

    def add_tags(self, image_id: str, tags: list[str]) -> list[str]:
        """Tag the image; returns its tags. An unknown image: LookupError."""
        if not self.edit_image(image_id, add_tags=tags):
            raise LookupError(image_id)
        return self.tags_of(image_id)

    def remove_tags(self, image_id: str, tags: list[str]) -> list[str]:
        if not self.edit_image(image_id, remove_tags=tags):
            raise LookupError(image_id)
        return self.tags_of(image_id)

    def tags_of(self, image_id: str) -> list[str]:
        with self.sessions.read() as s:
            stmt = select(TagRow.tag).where(TagRow.image_id == image_id).order_by(TagRow.tag)
            return list(s.scalars(stmt))

    def collection_tags(self, collection_id: str) -> list[TagCount]:
        """Every tag used in a collection, with how many of its images carry it, most used first."""
        n = func.count().label("n")
        stmt = (
            select(TagRow.tag, n)
            .join(ImageRow, ImageRow.image_id == TagRow.image_id)
            .where(ImageRow.collection_id == collection_id)
            .group_by(TagRow.tag)
            .order_by(n.desc(), TagRow.tag)
        )
        with self.sessions.read() as s:
            return [TagCount(tag=t, count=c) for t, c in s.execute(stmt)]

    def collection_cameras(self, collection_id: str) -> list[CameraCount]:
        """Every camera (make, model) named in a collection, with its image count, most used first;
        one GROUP BY over the collection's rows (its `collection_id` index)."""
        n = func.count().label("n")
        named = (ImageRow.camera_make.is_not(None)) | (ImageRow.camera_model.is_not(None))
        stmt = (
            select(ImageRow.camera_make, ImageRow.camera_model, n)
            .where(ImageRow.collection_id == collection_id, named)
            .group_by(ImageRow.camera_make, ImageRow.camera_model)
            .order_by(n.desc(), ImageRow.camera_make, ImageRow.camera_model)
        )
        with self.sessions.read() as s:
            return [CameraCount(make=mk, model=md, count=c) for mk, md, c in s.execute(stmt)]

    # Albums

    def create_album(self, collection_id: str, name: str) -> AlbumRecord:
        row = AlbumRow(
            id=uuid.uuid4().hex[:16],
            collection_id=collection_id,
            name=clean_text(name) or "",
            created_at=datetime.now(UTC),
        )
        with self.sessions.write() as s:
            s.add(row)
        return album_record(row)

    def get_album(self, album_id: str) -> AlbumRecord | None:
        with self.sessions.read() as s:
            row = s.get(AlbumRow, album_id)
            if row is None:
                return None
            count = s.scalar(
                select(func.count()).select_from(AlbumImageRow).where(AlbumImageRow.album_id == album_id)
            )
            return album_record(row, int(count or 0))

    def list_albums(self, collection_id: str) -> list[AlbumRecord]:
        """A collection's albums, oldest first, each with its image count (one query)."""
        n = func.count(AlbumImageRow.image_id)
        stmt = (
            select(AlbumRow, n)
            .outerjoin(AlbumImageRow, AlbumImageRow.album_id == AlbumRow.id)
            .where(AlbumRow.collection_id == collection_id)
            .group_by(AlbumRow.id)
            .order_by(AlbumRow.created_at, AlbumRow.id)
        )
        with self.sessions.read() as s:
            return [album_record(row, int(count)) for row, count in s.execute(stmt)]

    def delete_album(self, album_id: str) -> None:
        """The album and its membership; the images stay."""
        with self.sessions.write() as s:
            s.execute(delete(AlbumRow).where(AlbumRow.id == album_id))

    def add_to_album(self, album_id: str, image_ids: list[str]) -> list[str]:
        """Add images of the album's collection; returns the ids that are not (left out)."""
        now = datetime.now(UTC)
        with self.sessions.write() as s:
            album = s.get(AlbumRow, album_id)
            if album is None:
                raise LookupError(album_id)
            wanted = set(image_ids)
            found = set(
                s.scalars(
                    select(ImageRow.image_id).where(
                        ImageRow.image_id.in_(wanted), ImageRow.collection_id == album.collection_id
                    )
                )
            )
            if found:
                rows = [{"album_id": album_id, "image_id": i, "added_at": now} for i in sorted(found)]
                s.execute(upsert(self.sessions.dialect, AlbumImageRow).values(rows).on_conflict_do_nothing())
        return sorted(wanted - found)

    def remove_from_album(self, album_id: str, image_id: str) -> bool:
        """False when the image was not in the album."""
        with self.sessions.write() as s:
            result = s.execute(
                delete(AlbumImageRow).where(
                    AlbumImageRow.album_id == album_id, AlbumImageRow.image_id == image_id
                )
            )
            return bool(getattr(result, "rowcount", 0))


def _labelled(s: Session, records: list[ImageRecord]) -> list[ImageDetail]:
    ids = [r.image_id for r in records]
    albums: dict[str, list[AlbumRef]] = defaultdict(list)
    tags: dict[str, list[str]] = defaultdict(list)
    if ids:
        for image_id, album_id, name in s.execute(
            select(AlbumImageRow.image_id, AlbumRow.id, AlbumRow.name)
            .join(AlbumRow, AlbumImageRow.album_id == AlbumRow.id)
            .where(AlbumImageRow.image_id.in_(ids))
            .order_by(AlbumRow.name, AlbumRow.id)
        ):
            albums[image_id].append(AlbumRef(id=album_id, name=name))
        for image_id, tag in s.execute(
            select(TagRow.image_id, TagRow.tag).where(TagRow.image_id.in_(ids)).order_by(TagRow.tag)
        ):
            tags[image_id].append(tag)
    return [ImageDetail(**r.model_dump(), albums=albums[r.image_id], tags=tags[r.image_id]) for r in records]


def clean_note(note: str | None) -> str | None:
    """A note keeps its lines (NFC, trailing spaces trimmed); blank is no note."""
    if note is None:
        return None
    text = "\n".join(line.rstrip() for line in unicodedata.normalize("NFC", note).strip().splitlines())
    return text[:MAX_NOTE] or None
