"""Job sources: folders only inside the allowed roots, prefixes only in our bucket, imports idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.catalog import Catalog
from services.common.errors import ApiError
from services.common.schemas.indexer import FolderSource, JobRequest, PrefixSource
from services.common.storage.local import LocalObjectStore
from services.indexer.sources import ItemError, check_source, list_items, load_item
from tests.support.index_data import vishapes_pngs


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "imports" / "shapes"
    folder.mkdir(parents=True)
    for i, data in enumerate(vishapes_pngs(3)):
        (folder / f"{i}.png").write_bytes(data)
    (folder / "notes.txt").write_text("not an image")
    (tmp_path / "secret.png").write_bytes(b"outside")
    return tmp_path / "imports"


@pytest.mark.parametrize(
    "path", ["../secret.png", "..", "/etc", "shapes/../../", "missing", "0" * 1024, "a\x00b"]
)
def test_folders_outside_the_roots_are_refused(root: Path, path: str) -> None:
    with pytest.raises(ApiError) as err:
        check_source(JobRequest(collection_id="c", source=FolderSource(path=path)), [root], None)
    assert err.value.status == 422 and err.value.code == "import_outside_roots"


def test_prefix_in_another_bucket_is_refused() -> None:
    request = JobRequest(collection_id="c", source=PrefixSource(uri="s3://other/x/"))
    with pytest.raises(ApiError) as err:
        check_source(request, [], "timanh")
    assert err.value.code == "import_foreign_bucket"


def test_folder_import_stores_images_once_and_reports_bad_files(root: Path, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    catalog = Catalog(store)
    request = JobRequest(collection_id="c", source=FolderSource(path="shapes"))
    items = list_items(request, store, [root], None)
    assert [Path(i).name for i in items] == ["0.png", "1.png", "2.png", "notes.txt"]
    records = [load_item(request, ref, catalog) for ref in items[:3]]
    assert [load_item(request, items[0], catalog).image_id] == [records[0].image_id]  # same bytes, same id
    assert catalog.count_images("c") == 3
    with pytest.raises(ItemError):
        load_item(request, items[3], catalog)
