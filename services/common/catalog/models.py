"""The catalog's tables as SQLAlchemy 2 typed models; the migrations must match them (a test checks).

Every access path callers use has its index: a collection's images by date taken and by upload
time (both with the id as tie-break, for cursors), by camera, by location; an owner's
collections; an album's images and an image's albums; a tag's images.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, stored as naive UTC on every backend and read back aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("an instant needs a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CollectionRow(Base):
    __tablename__ = "collections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Kept in the transaction that inserts or deletes an image row: a COUNT over the collection's
    # index costs 25-36 ms at 500k images (both backends, 2 cores), this one row read well under 1 ms.
    image_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index(None, "created_at", "id"),
        Index(None, "owner", "created_at", "id"),
    )


class ImageRow(Base):
    __tablename__ = "images"

    image_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    folder: Mapped[str | None] = mapped_column(String(1024))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Naive: UTC when the file states its offset (kept in `taken_tz_offset_min`), else wall-clock time.
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    taken_tz_offset_min: Mapped[int | None] = mapped_column(Integer)
    camera_make: Mapped[str | None] = mapped_column(String(200))
    camera_model: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    orientation: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(None, "collection_id", "taken_at", "image_id"),
        Index(None, "collection_id", "created_at", "image_id"),
        Index(None, "collection_id", "camera_make"),
        Index(None, "collection_id", "camera_model"),
        Index(None, "collection_id", "latitude"),
    )


class AlbumRow(Base):
    __tablename__ = "albums"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index(None, "collection_id", "created_at", "id"),)


class AlbumImageRow(Base):
    __tablename__ = "album_images"

    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.image_id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index(None, "image_id"),)


class TagRow(Base):
    __tablename__ = "image_tags"

    image_id: Mapped[str] = mapped_column(ForeignKey("images.image_id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index(None, "tag", "image_id"),)


class ImageTextRow(Base):
    """An image's words: what OCR read in it, and `folded`, the keyword document over that text, the
    filename, the folder, the tags and the note (accents folded, see `folding.py`). The full-text
    index over `folded` lives beside the table (`SEARCH_INDEX_OBJECTS`): an FTS5 table kept by
    triggers on SQLite, an expression GIN index on PostgreSQL. `id` is the FTS5 row id."""

    __tablename__ = "image_text"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.image_id", ondelete="CASCADE"), unique=True)
    collection_id: Mapped[str] = mapped_column(String(64))
    ocr_text: Mapped[str | None] = mapped_column(Text)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    ocr_engine: Mapped[str | None] = mapped_column(String(64))
    ocr_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    folded: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index(None, "collection_id"),)


# What the keyword index adds outside the models (migration 0002); schema comparisons leave these out.
SEARCH_INDEX_OBJECTS = frozenset({"image_text_fts", "ix_image_text_folded_tsv"})


def outside_models(name: str | None) -> bool:
    """Whether a table or index of that name belongs to the keyword index (FTS5 keeps shadow tables
    named after its own)."""
    return name is not None and any(name == o or name.startswith(o + "_") for o in SEARCH_INDEX_OBJECTS)
