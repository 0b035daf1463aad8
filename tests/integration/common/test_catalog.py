"""The catalog keeps collections and image records next to the images, on both backends."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from services.common.catalog import Catalog, clean_filename, image_key, thumbnail_key
from services.common.images import ImageDecodeError
from services.common.settings import StorageSettings
from services.common.storage import open_store


def png(color: tuple[int, int, int], size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(params=["local", "s3"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Catalog:
    if request.param == "local":
        return Catalog(open_store(StorageSettings(backend="local", local_root=tmp_path)))
    return Catalog(open_store(request.getfixturevalue("s3_settings")))


def test_image_lifecycle(catalog: Catalog) -> None:
    col = catalog.create_collection("Ảnh gia đình")
    assert catalog.get_collection(col.id) == col
    record, dup = catalog.store_image(col.id, "../../etc/passwd", png((255, 0, 0)))
    assert not dup
    assert (record.width, record.height, record.content_type) == (300, 200, "image/png")
    assert record.filename == "passwd"
    assert catalog.get_image(record.image_id) == record
    assert catalog.store.get(image_key(col.id, record.image_id)) == png((255, 0, 0))
    thumb = Image.open(io.BytesIO(catalog.store.get(thumbnail_key(col.id, record.image_id))))
    assert thumb.format == "WEBP" and max(thumb.size) == 256
    assert catalog.image_ids(col.id) == [record.image_id]
    catalog.delete_image(record)
    assert catalog.get_image(record.image_id) is None
    assert catalog.count_images(col.id) == 0


def test_same_bytes_twice_at_once_is_one_image(catalog: Catalog) -> None:
    col = catalog.create_collection("c")
    data = png((0, 0, 255))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: catalog.store_image(col.id, "a.png", data), range(2)))
    assert results[0][0].image_id == results[1][0].image_id
    assert catalog.count_images(col.id) == 1
    _, dup = catalog.store_image(col.id, "b.png", data)
    assert dup
    other = catalog.create_collection("d")
    rec_other, dup_other = catalog.store_image(other.id, "a.png", data)
    assert not dup_other and rec_other.image_id != results[0][0].image_id


def test_bad_bytes_store_nothing(catalog: Catalog) -> None:
    col = catalog.create_collection("c")
    with pytest.raises(ImageDecodeError):
        catalog.store_image(col.id, "x.jpg", b"not an image at all")
    assert catalog.store.list_keys("images/") == []
    assert catalog.count_images(col.id) == 0


def test_delete_collection_removes_images(catalog: Catalog) -> None:
    col = catalog.create_collection("c")
    for color in ((1, 2, 3), (4, 5, 6)):
        catalog.store_image(col.id, "x.png", png(color))
    catalog.delete_collection(col.id)
    assert catalog.get_collection(col.id) is None
    assert catalog.list_collections() == []
    assert catalog.store.list_keys(f"images/{col.id}/") == []


def test_clean_filename() -> None:
    assert clean_filename("C:\\Users\\ảnh\\bé trai.JPG") == "bé trai.JPG"
    assert clean_filename("a\x00b") == "ab"
    assert clean_filename("") == "image"
