"""A lost catalog database comes back from storage alone: collections with their names and owners,
images with their filenames, folders, upload times and EXIF; a deleted collection stays deleted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.catalog import Catalog, image_key, open_catalog
from services.common.catalog.keys import ImageObjectMeta
from services.common.catalog.rebuild import rebuild
from services.common.settings import CatalogSettings, StorageSettings
from services.common.shards import deleted_key
from services.common.storage import ObjectStore, open_store
from tests.support.photos import camera_photo

REPO = Path(__file__).resolve().parents[3]
NAME = "ảnh bé #1 (Tết) 100%.jpg"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return open_store(StorageSettings(backend="local", local_root=tmp_path / "storage"))
    return open_store(request.getfixturevalue("s3_settings"))


def test_image_objects_carry_what_a_rebuild_needs(store: ObjectStore, tmp_path: Path) -> None:
    catalog = open_catalog(CatalogSettings(url=f"sqlite:///{tmp_path / 'c.db'}"), store)
    col = catalog.create_collection("c")
    record, _ = catalog.store_image(col.id, NAME, camera_photo(1), folder="2024/Tết Nguyên Đán")
    info = store.stat(image_key(col.id, record.image_id))
    assert info is not None
    meta = ImageObjectMeta.from_metadata(info.metadata)
    assert meta == ImageObjectMeta(
        collection_id=col.id,
        image_id=record.image_id,
        sha256=record.sha256,
        filename=NAME,
        folder="2024/Tết Nguyên Đán",
        created_at=record.created_at,
    )
    assert all(value.isascii() for value in info.metadata.values())
    catalog.sessions.dispose()


def _fill(catalog: Catalog) -> tuple[list[str], str]:
    kept = catalog.create_collection("Đà Lạt mùa hoa", owner="key:abc")
    gone = catalog.create_collection("Xoá rồi")
    photos = [
        (
            NAME,
            camera_photo(1, taken="2023:07:14 10:20:30", offset="+07:00", model="EOS R6", gps=(11.9, 108.4)),
        ),
        ("hồ Xuân Hương.jpg", camera_photo(2, taken="2023:07:15 06:00:00")),
    ]
    for name, data in photos:
        catalog.store_image(kept.id, name, data, folder="Đà Lạt")
    catalog.store_image(gone.id, "x.jpg", camera_photo(3))
    catalog.store.put(deleted_key(gone.id), b"")  # deleted for good, its bytes not yet swept
    return [kept.id], gone.id


def test_rebuild_restores_a_deleted_database(store: ObjectStore, catalog_url: str, tmp_path: Path) -> None:
    settings = CatalogSettings(url=f"sqlite:///{tmp_path / 'lost.db'}")
    before = open_catalog(settings, store)
    (kept,), gone = _fill(before)
    want_collection = before.get_collection(kept)
    want_images = {i: before.get_image(i) for i in before.image_ids(kept)}
    before.sessions.dispose()
    (tmp_path / "lost.db").unlink()  # the disaster

    after = open_catalog(CatalogSettings(url=catalog_url), store)
    try:
        report = rebuild(after)
        assert (report.collections, report.images) == (1, 2)
        assert report.skipped["deleted_collection"] == 1 and report.skipped["no_collection"] == 1
        assert after.get_collection(kept) == want_collection
        assert {i: after.get_image(i) for i in after.image_ids(kept)} == want_images
        assert after.get_collection(gone) is None and after.image_ids(gone) == []
        again = rebuild(after)  # repeatable: what is there is kept
        assert (again.images, again.kept) == (0, 2)
    finally:
        after.sessions.dispose()


def test_the_rebuild_command(tmp_path: Path) -> None:
    storage = StorageSettings(backend="local", local_root=tmp_path / "storage")
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = open_catalog(CatalogSettings(url=url), open_store(storage))
    (kept,), _ = _fill(catalog)
    catalog.sessions.dispose()
    (tmp_path / "catalog.db").unlink()
    env = {
        **os.environ,
        "CATALOG_URL": url,
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(storage.local_root),
    }
    out = subprocess.run(
        [sys.executable, "-m", "services.common.catalog", "rebuild"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert '"collections": 1, "images": 2' in out.stdout
    restored = open_catalog(CatalogSettings(url=url), open_store(storage))
    assert restored.get_collection(kept) is not None and restored.count_images(kept) == 2
    restored.sessions.dispose()
