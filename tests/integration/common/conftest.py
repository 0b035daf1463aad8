"""A catalog on each backend (`catalog_url` runs a test on SQLite and on PostgreSQL), with a local store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.catalog import Catalog, open_catalog
from services.common.settings import CatalogSettings, StorageSettings
from services.common.storage import open_store


@pytest.fixture
def catalog(catalog_url: str, tmp_path: Path) -> Iterator[Catalog]:
    store = open_store(StorageSettings(backend="local", local_root=tmp_path / "storage"))
    opened = open_catalog(CatalogSettings(url=catalog_url), store)
    try:
        yield opened
    finally:
        opened.sessions.dispose()
