"""The catalog: collections and image records, kept as JSON objects next to the images.

Object storage is the one durable source of truth, shared by every gateway and indexer
process on every machine; Redis only caches it. Writes follow "bytes first, record last":
an image's bytes and thumbnail are stored before its record, so a record never points at
missing bytes, and a failed store leaves no record behind. Image ids are derived from the
collection and the content hash, so uploading the same bytes twice (even at once) yields
one image.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from services.common.images import (
    DEFAULT_MAX_PIXELS,
    THUMBNAIL_CONTENT_TYPE,
    PreparedImage,
    prepare,
)
from services.common.storage import ObjectNotFound, ObjectStore


class CollectionRecord(BaseModel):
    id: str
    name: str
    created_at: datetime
    owner: str | None = None  # the id of the API key that created it; None: shared with every key


class ImageRecord(BaseModel):
    image_id: str
    collection_id: str
    filename: str
    width: int
    height: int
    content_type: str
    size: int
    sha256: str
    created_at: datetime


def image_key(collection_id: str, image_id: str) -> str:
    return f"images/{collection_id}/{image_id}"


def thumbnail_key(collection_id: str, image_id: str) -> str:
    return f"thumbs/{collection_id}/{image_id}.webp"


def _collection_meta(collection_id: str) -> str:
    return f"meta/collections/{collection_id}.json"


def _image_meta(image_id: str) -> str:
    return f"meta/images/{image_id}.json"


def _member_prefix(collection_id: str) -> str:
    return f"meta/members/{collection_id}/"


def image_id_for(collection_id: str, sha256: str) -> str:
    """Deterministic: the same bytes in the same collection are always the same image."""
    return hashlib.sha256(f"{collection_id}:{sha256}".encode()).hexdigest()[:32]


def clean_filename(name: str | None) -> str:
    """The client's file name as display metadata only: its last path part, printable, bounded."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return (base or "image")[:255]


class Catalog:
    """Blocking calls on an ObjectStore; async callers run them on a worker thread."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def create_collection(self, name: str, owner: str | None = None) -> CollectionRecord:
        record = CollectionRecord(
            id=uuid.uuid4().hex[:16], name=name, created_at=datetime.now(UTC), owner=owner
        )
        self.store.put(_collection_meta(record.id), record.model_dump_json().encode(), "application/json")
        return record

    def get_collection(self, collection_id: str) -> CollectionRecord | None:
        try:
            raw = self.store.get(_collection_meta(collection_id))
        except (ObjectNotFound, ValueError):
            return None
        return CollectionRecord.model_validate_json(raw)

    def list_collections(self) -> list[CollectionRecord]:
        records = []
        for key in self.store.list_keys("meta/collections/"):
            try:
                records.append(CollectionRecord.model_validate_json(self.store.get(key)))
            except ObjectNotFound:
                continue  # deleted while listing
        return sorted(records, key=lambda r: r.created_at)

    def image_ids(self, collection_id: str) -> list[str]:
        prefix = _member_prefix(collection_id)
        return [key[len(prefix) :] for key in self.store.list_keys(prefix)]

    def count_images(self, collection_id: str) -> int:
        return len(self.store.list_keys(_member_prefix(collection_id)))

    def store_image(
        self, collection_id: str, filename: str | None, data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> tuple[ImageRecord, bool]:
        """Validate, store bytes and thumbnail, then the record. Returns (record, was_duplicate).

        A duplicate is found from the content hash before any pixel is decoded; a half-written image
        (bytes without a record, a record without its thumbnail...) is written again, whole.
        Raises ImageDecodeError before anything is stored when the bytes are not an image.
        """
        existing = self.complete_image(collection_id, data)
        if existing is not None:
            return existing, True
        return self.put_image(collection_id, filename, data, prepare(data, max_pixels=max_pixels)), False

    def complete_image(self, collection_id: str, data: bytes) -> ImageRecord | None:
        """The stored image of these bytes when every part is there: bytes, thumbnail, record, membership."""
        image_id = image_id_for(collection_id, hashlib.sha256(data).hexdigest())
        record = self.get_image(image_id)
        if record is None:
            return None
        parts = (
            image_key(collection_id, image_id),
            thumbnail_key(collection_id, image_id),
            _member_prefix(collection_id) + image_id,
        )
        return record if all(self.store.stat(key) is not None for key in parts) else None

    def put_image(
        self, collection_id: str, filename: str | None, data: bytes, prepared: PreparedImage
    ) -> ImageRecord:
        """Write every part of an image in order (each write replaces what a crashed try left)."""
        digest = hashlib.sha256(data).hexdigest()
        image_id = image_id_for(collection_id, digest)
        meta = {"image-id": image_id}
        self.store.put(image_key(collection_id, image_id), data, prepared.content_type, meta)
        self.store.put(thumbnail_key(collection_id, image_id), prepared.thumbnail, THUMBNAIL_CONTENT_TYPE)
        record = ImageRecord(
            image_id=image_id,
            collection_id=collection_id,
            filename=clean_filename(filename),
            width=prepared.width,
            height=prepared.height,
            content_type=prepared.content_type,
            size=len(data),
            sha256=digest,
            created_at=datetime.now(UTC),
        )
        self.store.put(_image_meta(image_id), record.model_dump_json().encode(), "application/json")
        self.store.put(_member_prefix(collection_id) + image_id, b"", "application/octet-stream")
        return record

    def get_image(self, image_id: str) -> ImageRecord | None:
        try:
            raw = self.store.get(_image_meta(image_id))
        except (ObjectNotFound, ValueError):
            return None
        return ImageRecord.model_validate_json(raw)

    def delete_image(self, record: ImageRecord) -> None:
        """Record first (the image disappears at once), then the bytes; safe to retry."""
        self.store.delete(_member_prefix(record.collection_id) + record.image_id)
        self.store.delete(_image_meta(record.image_id))
        self.store.delete(image_key(record.collection_id, record.image_id))
        self.store.delete(thumbnail_key(record.collection_id, record.image_id))

    def delete_collection(self, collection_id: str) -> None:
        """The collection's record first, then each image; safe to retry after a crash."""
        self.store.delete(_collection_meta(collection_id))
        for image_id in self.image_ids(collection_id):
            record = self.get_image(image_id)
            if record is not None:
                self.delete_image(record)
            else:
                self.store.delete(_member_prefix(collection_id) + image_id)
