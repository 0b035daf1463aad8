"""Job sources: folders only inside the allowed roots, prefixes only under the import prefixes,
names as people write them, items over the byte limit skipped, imports idempotent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from services.common.errors import ApiError
from services.common.schemas.indexer import FolderSource, JobRequest, ObjectsSource, PrefixSource
from services.common.settings import StorageSettings
from services.common.storage import ObjectStore, open_store
from services.common.storage.local import LocalObjectStore
from services.common.storage.s3 import S3ObjectStore
from services.indexer.settings import IndexerSettings
from services.indexer.sources import ItemError, SourcePolicy, check_source, iter_items, load_item, load_items
from tests.support.catalogs import catalog_with, sqlite_url
from tests.support.index_data import vishapes_pngs

ODD_NAMES = ["photos/ảnh 1.jpg", "IMG 0001.jpg", "Hà Nội #2 (1).png", "mùa thu – lá vàng.png"]
MAX_BYTES = 64 * 1024


def policy(roots: list[Path] | None = None, bucket: str | None = "timanh") -> SourcePolicy:
    return SourcePolicy(roots or [], bucket, ["imports/"], MAX_BYTES)


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
        check_source(JobRequest(collection_id="c", source=FolderSource(path=path)), policy([root]))
    assert err.value.status == 422 and err.value.code == "import_outside_roots"


def test_prefix_in_another_bucket_is_refused() -> None:
    request = JobRequest(collection_id="c", source=PrefixSource(uri="s3://other/imports/x/"))
    with pytest.raises(ApiError) as err:
        check_source(request, policy())
    assert err.value.code == "import_foreign_bucket"


@pytest.mark.parametrize(
    "uri",
    [
        "s3://timanh/images/other-collection/",  # another collection's images
        "s3://timanh/index/",  # index objects
        "s3://timanh/",
        "s3://timanh/collections/",  # the catalog's backups
        "s3://timanh/imports-secret/",  # beside the import folder, not in it
        "s3://timanh/imports/../images/",
        "images/",
    ],
)
def test_prefix_outside_the_import_prefixes_is_refused(uri: str) -> None:
    with pytest.raises(ApiError) as err:
        check_source(JobRequest(collection_id="c", source=PrefixSource(uri=uri)), policy())
    assert err.value.status == 422 and err.value.code in ("import_outside_prefixes", "invalid_prefix")


def test_prefixes_inside_the_import_prefixes_are_accepted() -> None:
    for uri in ("s3://timanh/imports/", "s3://timanh/imports/2024/ảnh/", "imports/x"):
        check_source(JobRequest(collection_id="c", source=PrefixSource(uri=uri)), policy())


def test_import_prefix_setting_names_folders() -> None:
    assert IndexerSettings(import_prefixes="imports,/shared/photos/").import_prefixes == [
        "imports/",
        "shared/photos/",
    ]
    with pytest.raises(ValueError):
        IndexerSettings(import_prefixes="../")


def test_folder_import_stores_images_once_and_reports_bad_files(root: Path, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    catalog = catalog_with(store, sqlite_url(tmp_path), "c")
    request = JobRequest(collection_id="c", source=FolderSource(path="shapes"))
    items = list(iter_items(request, store, policy([root])))
    assert [Path(i).name for i in items] == ["0.png", "1.png", "2.png", "notes.txt"]
    records = [load_item(request, ref, catalog, policy([root])) for ref in items[:3]]
    again = load_item(request, items[0], catalog, policy([root]))
    assert again.image_id == records[0].image_id  # same bytes, same id
    assert catalog.count_images("c") == 3
    assert {r.folder for r in records} == {"shapes"}
    with pytest.raises(ItemError):
        load_item(request, items[3], catalog, policy([root]))


def _big_png() -> bytes:
    """A real PNG over the byte limit (noise does not compress)."""
    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, format="PNG")
    assert len(buf.getvalue()) > MAX_BYTES
    return buf.getvalue()


def _put_raw(store: ObjectStore, key: str, data: bytes) -> None:
    """Write a key as people name files (spaces, diacritics), past our own key rules."""
    if isinstance(store, S3ObjectStore):
        store.ensure_bucket()
        store.client.put_object(store.bucket, key, io.BytesIO(data), len(data))
    else:
        assert isinstance(store, LocalObjectStore)
        path = store.root / "objects" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "store")
    s3: StorageSettings = request.getfixturevalue("s3_settings")
    return open_store(s3)


def test_prefix_import_takes_names_as_people_write_them_and_skips_big_files(
    store: ObjectStore, tmp_path: Path
) -> None:
    pngs = vishapes_pngs(len(ODD_NAMES), seed=4)
    for name, data in zip(ODD_NAMES, pngs, strict=True):
        _put_raw(store, f"imports/{name}", data)
    _put_raw(store, "imports/huge photo.png", _big_png())
    _put_raw(store, "images/other/secret", pngs[0])
    bucket = store.bucket if isinstance(store, S3ObjectStore) else None
    request = JobRequest(collection_id="c", source=PrefixSource(uri="imports/"))
    items = list(iter_items(request, store, policy(bucket=bucket)))
    assert sorted(items) == sorted(f"imports/{n}" for n in [*ODD_NAMES, "huge photo.png"])
    catalog = catalog_with(store, sqlite_url(tmp_path), "c")
    names = {}
    for ref in items:
        if ref.endswith("huge photo.png"):
            with pytest.raises(ItemError) as err:
                load_item(request, ref, catalog, policy(bucket=bucket))
            assert err.value.code == "file_too_large"
            continue
        record = load_item(request, ref, catalog, policy(bucket=bucket))
        names[record.filename] = record
        assert record.folder == ref.rpartition("/")[0]
        assert store.stat(f"images/c/{record.image_id}") is not None  # a safe key of its own
    assert sorted(names) == sorted(n.rsplit("/", 1)[-1] for n in ODD_NAMES)
    assert catalog.count_images("c") == len(ODD_NAMES)


@pytest.mark.parametrize("ref", ["imports/../meta/x", "imports//x", "imports/a\x00b", "imports/a\nb"])
def test_unreadable_names_are_item_errors(tmp_path: Path, ref: str) -> None:
    store = LocalObjectStore(tmp_path / "store")
    request = JobRequest(collection_id="c", source=PrefixSource(uri="imports/"))
    with pytest.raises(ItemError) as err:
        load_item(request, ref, catalog_with(store, sqlite_url(tmp_path), "c"), policy())
    assert err.value.code == "invalid_name"


def test_listing_streams_in_a_stable_order(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    for key in ("imports/b/2.png", "imports/a.png", "imports/b/1.png", "imported/x.png", "imports2/y"):
        store.put(key, b"x")
    keys = store.iter_keys("imports/")
    assert next(keys) == "imports/a.png"  # an iterator: nothing past the first key was needed
    assert list(keys) == ["imports/b/1.png", "imports/b/2.png"]
    assert list(store.iter_keys("import")) == [
        "imported/x.png",
        "imports/a.png",
        "imports/b/1.png",
        "imports/b/2.png",
        "imports2/y",
    ]


def test_a_listing_never_leaves_the_store(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    store.put("collections/c.json", b"{}")
    (tmp_path / "outside.png").write_bytes(b"x")
    assert list(store.iter_keys("imports/../collections/")) == []
    assert list(store.iter_keys("../../")) == []


def test_a_batch_of_items_is_imported_with_one_row_transaction_in_order(root: Path, tmp_path: Path) -> None:
    from sqlalchemy import event

    store = LocalObjectStore(tmp_path / "store")
    catalog = catalog_with(store, sqlite_url(tmp_path), "c")
    (root / "shapes" / "lặp lại.png").write_bytes((root / "shapes" / "1.png").read_bytes())
    request = JobRequest(collection_id="c", source=FolderSource(path="shapes"))
    items = list(iter_items(request, store, policy([root])))
    assert [Path(i).name for i in items] == ["0.png", "1.png", "2.png", "lặp lại.png", "notes.txt"]
    inserts: list[str] = []
    event.listen(
        catalog.sessions.engine,
        "before_cursor_execute",
        lambda *a: inserts.append(a[2]) if a[2].lstrip().upper().startswith("INSERT INTO IMAGES") else None,
    )
    loaded = load_items(request, items, catalog, policy([root]))
    assert len(inserts) == 1, "every new row of the batch in one statement"
    records = [r for r in loaded if not isinstance(r, ItemError)]
    assert [r.filename for r in records] == ["0.png", "1.png", "2.png", "1.png"]  # the repeat is 1.png
    assert records[1].image_id == records[3].image_id and catalog.count_images("c") == 3
    assert isinstance(loaded[4], ItemError) and loaded[4].code == "unsupported_format"

    by_id = JobRequest(collection_id="c", source=ObjectsSource(image_ids=[records[2].image_id, "gone"]))
    again = load_items(by_id, [records[2].image_id, "gone"], catalog, policy([root]))
    assert again[0] == records[2] and isinstance(again[1], ItemError) and again[1].code == "not_found"
