"""Catalogs for tests: on a store and a database URL, with collections of fixed ids made at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.common.catalog import Catalog, CollectionRecord, open_catalog
from services.common.settings import CatalogSettings
from services.common.storage import ObjectStore


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'catalog.db'}"


def catalog_with(store: ObjectStore, url: str, *collection_ids: str) -> Catalog:
    """A migrated catalog holding the named collections (shared with every key), as a gateway made them."""
    catalog = open_catalog(CatalogSettings(url=url), store)
    for cid in collection_ids:
        record = CollectionRecord(id=cid, name=f"Bộ sưu tập {cid}", created_at=datetime.now(UTC))
        catalog.put_collection_backup(record)
        catalog.restore_collection(record)
    return catalog
