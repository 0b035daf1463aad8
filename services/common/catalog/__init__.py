"""The catalog: collections, images and what people add to them, in a database (SQLite or PostgreSQL);
the bytes stay in object storage. `open_catalog` migrates and opens it; `Catalog` is its one door."""

from __future__ import annotations

from services.common.catalog.bulk import ReferencedImage, referenced_image_id
from services.common.catalog.curation import UNCHANGED
from services.common.catalog.engine import Sessions, open_engine
from services.common.catalog.folding import fold_text, keyword_tokens
from services.common.catalog.keys import (
    clean_filename,
    clean_folder,
    collection_backup_key,
    image_id_for,
    image_key,
    thumbnail_key,
)
from services.common.catalog.migrate import upgrade
from services.common.catalog.paging import InvalidCursor
from services.common.catalog.records import (
    AlbumRecord,
    AlbumRef,
    CameraCount,
    CollectionRecord,
    ImageDetail,
    ImageRecord,
    ImageText,
    KeywordHit,
    Page,
    TagCount,
)
from services.common.catalog.repository import Catalog, CollectionNotFound, WrittenImage, write_image_objects
from services.common.settings import CatalogSettings
from services.common.storage import ObjectStore


def open_catalog(settings: CatalogSettings, store: ObjectStore, *, migrate: bool = True) -> Catalog:
    """Blocking: the engine, the migrations brought up to date (once, whoever starts at the same
    time), and the catalog on it. `Catalog.aclose` disposes the engine."""
    engine = open_engine(settings.url)
    try:
        if migrate:
            upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Catalog(store, Sessions(engine))


__all__ = [
    "UNCHANGED",
    "AlbumRecord",
    "AlbumRef",
    "CameraCount",
    "Catalog",
    "CollectionNotFound",
    "CollectionRecord",
    "ImageDetail",
    "ImageRecord",
    "ImageText",
    "InvalidCursor",
    "KeywordHit",
    "Page",
    "ReferencedImage",
    "TagCount",
    "WrittenImage",
    "clean_filename",
    "clean_folder",
    "collection_backup_key",
    "fold_text",
    "image_id_for",
    "image_key",
    "keyword_tokens",
    "open_catalog",
    "referenced_image_id",
    "thumbnail_key",
    "write_image_objects",
]
