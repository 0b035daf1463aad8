"""The catalog database: every repository operation, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Literal

import pytest
from PIL import Image
from sqlalchemy import event

from services.common.catalog import (
    Catalog,
    CollectionNotFound,
    InvalidCursor,
    clean_filename,
    collection_backup_key,
    image_key,
    thumbnail_key,
)
from services.common.catalog.paging import encode_cursor
from services.common.images import ImageDecodeError
from services.common.schemas.catalog import ImageFilter
from tests.support.photos import PhotoExif, camera_photo


def png(color: tuple[int, int, int], size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def statements(catalog: Catalog) -> list[str]:
    """Every SQL statement the catalog's engine runs from now on."""
    seen: list[str] = []
    event.listen(catalog.sessions.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_image_lifecycle(catalog: Catalog) -> None:
    col = catalog.create_collection("Ảnh gia đình")
    assert catalog.get_collection(col.id) == col
    record, dup = catalog.store_image(col.id, "../../etc/passwd", png((255, 0, 0)))
    assert not dup
    assert (record.width, record.height, record.content_type) == (300, 200, "image/png")
    assert record.filename == "passwd" and record.size == len(png((255, 0, 0)))
    assert catalog.get_image(record.image_id) == record
    assert catalog.store.get(image_key(col.id, record.image_id)) == png((255, 0, 0))
    thumb = Image.open(io.BytesIO(catalog.store.get(thumbnail_key(col.id, record.image_id))))
    assert thumb.format == "WEBP" and max(thumb.size) == 256
    assert catalog.image_ids(col.id) == [record.image_id]
    catalog.delete_image(record)
    assert catalog.get_image(record.image_id) is None
    assert catalog.store.stat(image_key(col.id, record.image_id)) is None
    assert catalog.count_images(col.id) == 0


def test_exif_lands_in_typed_columns(catalog: Catalog) -> None:
    col = catalog.create_collection("Huế")
    aware, _ = catalog.store_image(
        col.id,
        "đại nội.jpg",
        camera_photo(
            1, taken="2023:07:14 10:20:30", offset="+07:00", make="Canon", model="EOS R6", gps=(16.5, 107.5)
        ),
    )
    assert aware.taken_at == datetime(2023, 7, 14, 3, 20, 30, tzinfo=UTC)
    assert aware.taken_tz_offset_min == 420
    assert (aware.camera_make, aware.camera_model) == ("Canon", "EOS R6")
    assert aware.latitude == pytest.approx(16.5) and aware.longitude == pytest.approx(107.5)
    naive, _ = catalog.store_image(col.id, "chùa.jpg", camera_photo(2, taken="2023:07:15 08:00:00"))
    assert naive.taken_at == datetime(2023, 7, 15, 8, 0) and naive.taken_at.tzinfo is None
    assert naive.taken_tz_offset_min is None and naive.latitude is None
    assert catalog.get_image(aware.image_id) == aware


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


def test_an_image_stored_into_a_deleted_collection_leaves_nothing(catalog: Catalog) -> None:
    col = catalog.create_collection("c")
    catalog.delete_collection(col.id)
    with pytest.raises(CollectionNotFound):
        catalog.store_image(col.id, "x.png", png((9, 9, 9)))
    assert catalog.store.list_keys(f"images/{col.id}/") == []
    assert catalog.store.list_keys(f"thumbs/{col.id}/") == []


def test_delete_collection_removes_images_albums_and_backup(catalog: Catalog) -> None:
    col = catalog.create_collection("c")
    ids = [catalog.store_image(col.id, "x.png", png(c))[0].image_id for c in ((1, 2, 3), (4, 5, 6))]
    album = catalog.create_album(col.id, "Kỷ niệm")
    catalog.add_to_album(album.id, ids)
    catalog.add_tags(ids[0], ["biển"])
    assert catalog.store.stat(collection_backup_key(col.id)) is not None
    catalog.delete_collection(col.id)
    assert catalog.get_collection(col.id) is None
    assert catalog.get_album(album.id) is None and catalog.get_images(ids) == {}
    assert catalog.store.list_keys(f"images/{col.id}/") == []
    assert catalog.store.list_keys(f"thumbs/{col.id}/") == []
    assert catalog.store.stat(collection_backup_key(col.id)) is None


def test_collections_page_by_cursor_and_owner(catalog: Catalog) -> None:
    made = [catalog.create_collection(f"Bộ {i}", owner="key:a" if i % 2 else None) for i in range(5)]
    mine = {c.id for c in made}
    pages, cursor = [], None
    while True:
        page = catalog.list_collections(cursor=cursor, limit=2)
        pages.append([c.id for c in page.items if c.id in mine])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [i for p in pages for i in p] == [c.id for c in made]
    seen_by_b = [c.id for c in catalog.list_collections("key:b", limit=1000).items]
    assert [i for i in seen_by_b if i in mine] == [c.id for c in made if c.owner is None]
    assert set(catalog.collection_ids("key:a")) >= mine
    assert not set(catalog.collection_ids("key:b")) & {c.id for c in made if c.owner}
    with pytest.raises(InvalidCursor):
        catalog.list_collections(cursor="bm90IGEgY3Vyc29y")


def test_counts_and_one_query_hydration(catalog: Catalog) -> None:
    a, b = catalog.create_collection("a"), catalog.create_collection("b")
    ids = [catalog.store_image(a.id, f"{i}.png", png((i, 0, 0)))[0].image_id for i in range(3)]
    catalog.store_image(b.id, "x.png", png((0, 9, 0)))
    assert catalog.image_counts([a.id, b.id, "nope"]) == {a.id: 3, b.id: 1, "nope": 0}
    seen = statements(catalog)
    found = catalog.get_images([*ids, "gone"])
    assert set(found) == set(ids) and found[ids[1]].filename == "1.png"
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    with ThreadPoolExecutor(4) as pool:  # uploads at once, some of the same bytes: counted once each
        list(pool.map(lambda i: catalog.store_image(b.id, "y.png", png((0, 0, 10 + i % 6))), range(12)))
    assert catalog.count_images(b.id) == 7 == len(catalog.image_ids(b.id))
    first = catalog.get_image(ids[0])
    assert first is not None
    catalog.delete_image(first)
    catalog.delete_image(first)  # a retried delete is not counted twice
    assert catalog.count_images(a.id) == 2


def test_browse_by_date_taken_newest_first_undated_last(catalog: Catalog) -> None:
    col = catalog.create_collection("Năm 2023")
    dates = [
        "2023:01:05 09:00:00",
        None,
        "2023:07:14 10:00:00",
        "2023:07:14 10:00:00",
        None,
        "2023:03:01 12:00:00",
    ]
    records = [
        catalog.store_image(col.id, f"{i}.jpg", camera_photo(i, taken=d))[0] for i, d in enumerate(dates)
    ]

    def walk(
        order: Literal["taken_at", "uploaded"] = "taken_at", direction: Literal["desc", "asc"] = "desc"
    ) -> list[str]:
        out: list[str] = []
        cursor = None
        while True:
            page = catalog.list_images(col.id, order=order, direction=direction, cursor=cursor, limit=2)
            out += [r.image_id for r in page.items]
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    dated = sorted((r for r in records if r.taken_at), key=lambda r: (r.taken_at, r.image_id), reverse=True)
    undated = sorted((r for r in records if not r.taken_at), key=lambda r: r.image_id, reverse=True)
    assert walk() == [r.image_id for r in dated + undated]
    ascending = sorted((r for r in records if r.taken_at), key=lambda r: (r.taken_at, r.image_id))
    assert walk(direction="asc") == [r.image_id for r in ascending] + sorted(r.image_id for r in undated)
    by_upload = sorted(records, key=lambda r: (r.created_at, r.image_id), reverse=True)
    assert walk(order="uploaded") == [r.image_id for r in by_upload]
    with pytest.raises(InvalidCursor):
        catalog.list_images(col.id, order="uploaded", cursor=catalog.list_images(col.id, limit=1).next_cursor)
    with pytest.raises(InvalidCursor):  # an upload time without its zone is no cursor of ours
        catalog.list_images(col.id, order="uploaded", cursor=encode_cursor("u", datetime(2024, 1, 1), "x"))


def test_albums_tags_and_notes_keep_vietnamese(catalog: Catalog) -> None:
    col, other = catalog.create_collection("c"), catalog.create_collection("d")
    ids = [catalog.store_image(col.id, f"{i}.png", png((0, i, 0)))[0].image_id for i in range(3)]
    stranger = catalog.store_image(other.id, "x.png", png((7, 7, 7)))[0].image_id
    decomposed = "Te\u0302\u0301t o\u031b\u0309 Hue\u0302\u0301"  # "Tết ở Huế" typed with combining marks
    album = catalog.create_album(col.id, decomposed)
    assert album.name == "Tết ở Huế"
    assert catalog.add_to_album(album.id, [*ids[:2], stranger, "nope"]) == sorted([stranger, "nope"])
    assert catalog.add_to_album(album.id, ids[:1]) == []  # already there: no error, no duplicate
    stored = catalog.get_album(album.id)
    assert stored is not None and stored.image_count == 2
    assert [(a.name, a.image_count) for a in catalog.list_albums(col.id)] == [("Tết ở Huế", 2)]
    assert catalog.remove_from_album(album.id, ids[1]) and not catalog.remove_from_album(album.id, ids[1])
    assert catalog.add_tags(ids[0], ["Bi\u1ec3n", "biển ", "gia  đình"]) == ["biển", "gia đình"]
    catalog.add_tags(ids[1], ["biển"])
    assert catalog.remove_tags(ids[0], ["GIA ĐÌNH"]) == ["biển"]
    assert [(t.tag, t.count) for t in catalog.collection_tags(col.id)] == [("biển", 2)]
    assert catalog.set_note(ids[0], "  Chụp ở bãi biển Mỹ Khê  \n") and not catalog.set_note("nope", "x")
    detail = catalog.get_image_detail(ids[0])
    assert detail is not None and detail.note == "Chụp ở bãi biển Mỹ Khê"
    assert [a.name for a in detail.albums] == ["Tết ở Huế"] and detail.tags == ["biển"]
    catalog.set_note(ids[0], "   ")
    cleared = catalog.get_image(ids[0])
    assert cleared is not None and cleared.note is None
    catalog.delete_album(album.id)
    assert catalog.list_albums(col.id) == [] and catalog.get_image(ids[0]) is not None
    with pytest.raises(LookupError):
        catalog.add_tags("nope", ["x"])


def test_a_result_page_is_hydrated_in_one_select(catalog: Catalog) -> None:
    """What the gateway reads for a page of results: every image's record, albums and tags, with
    the date taken as stored (UTC with its offset, or the camera's wall clock), in one SELECT."""
    col = catalog.create_collection("Đà Lạt")
    photo = camera_photo(1, taken="2024:02:10 06:30:00", offset="+07:00", make="Sony")
    aware, _ = catalog.store_image(col.id, "hồ xuân hương.jpg", photo)
    naive, _ = catalog.store_image(col.id, "chợ đêm.jpg", camera_photo(2, taken="2024:02:11 20:00:00"))
    bare, _ = catalog.store_image(col.id, "x.png", png((1, 2, 3)))
    for name in ("Tết", "Ảnh đẹp"):
        catalog.add_to_album(catalog.create_album(col.id, name).id, [aware.image_id])
    catalog.add_tags(aware.image_id, ["hồ", "bình minh"])
    catalog.add_tags(naive.image_id, ["chợ"])
    seen = statements(catalog)
    found = catalog.get_image_details([aware.image_id, naive.image_id, bare.image_id, "gone"])
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [s for s in seen if not s.lstrip().upper().startswith("SELECT")] == []  # no BEGIN around it
    assert set(found) == {aware.image_id, naive.image_id, bare.image_id}
    first = found[aware.image_id]
    assert first.filename == "hồ xuân hương.jpg" and first.camera_make == "Sony"
    assert first.taken_at == datetime(2024, 2, 9, 23, 30, tzinfo=UTC) and first.taken_tz_offset_min == 420
    assert [a.name for a in first.albums] == ["Tết", "Ảnh đẹp"] and first.tags == ["bình minh", "hồ"]
    second = found[naive.image_id]
    assert second.taken_at == datetime(2024, 2, 11, 20, 0) and second.taken_at.tzinfo is None
    assert second.albums == [] and second.tags == ["chợ"]
    assert found[bare.image_id].model_dump(exclude={"albums", "tags"}) == bare.model_dump()
    assert catalog.get_image_details([]) == {}


def test_filters_match_ids_and_counts(catalog: Catalog) -> None:
    col, other = catalog.create_collection("c"), catalog.create_collection("d")
    specs: list[tuple[str, PhotoExif]] = [
        (
            "tháng bảy.jpg",
            {"taken": "2023:07:14 10:00:00", "make": "Canon", "model": "EOS R6", "gps": (16.5, 107.5)},
        ),
        ("Tháng Bảy 2.jpg", {"taken": "2023:07:30 23:00:00", "model": "iPhone 13"}),
        ("tháng tám.jpg", {"taken": "2023:08:01 00:00:00", "model": "iPhone 13"}),
        ("no date.jpg", {}),
    ]
    ids = [
        catalog.store_image(col.id, name, camera_photo(i, **kw))[0].image_id
        for i, (name, kw) in enumerate(specs)
    ]
    elsewhere = catalog.store_image(other.id, "tháng bảy.jpg", camera_photo(9, taken="2023:07:14 10:00:00"))[
        0
    ]
    album = catalog.create_album(col.id, "Hè")
    catalog.add_to_album(album.id, [ids[0], ids[2]])
    catalog.add_tags(ids[1], ["Biển"])

    def match(**kw: object) -> list[str]:
        f = ImageFilter.model_validate({"collection_ids": [col.id], **kw})
        found = catalog.matching_ids(f)
        assert catalog.count_matching(f) == len(found)
        return found

    july = {"taken_after": datetime(2023, 7, 1), "taken_before": datetime(2023, 8, 1)}
    assert match(**july) == sorted(ids[:2])
    assert set(catalog.matching_ids(ImageFilter(collection_ids=[col.id, other.id], **july))) == {
        *ids[:2],
        elsewhere.image_id,
    }
    assert match(camera="iPhone 13") == sorted(ids[1:3]) and match(camera="EOS R6") == [ids[0]]
    assert match(camera_make="Canon") == [ids[0]] and match(camera="Canon") == []
    assert match(album_id=album.id) == sorted([ids[0], ids[2]])
    assert match(tag="biển") == [ids[1]]
    assert match(filename_contains="bảy") == sorted(ids[:2])
    assert match(filename_contains="50%") == []
    assert match(has_location=True) == [ids[0]] and match(has_location=False) == sorted(ids[1:])
    assert match(album_id=album.id, camera="iPhone 13", **july) == []
    assert catalog.count_matching(ImageFilter()) >= 5


def test_clean_filename() -> None:
    assert clean_filename("C:\\Users\\ảnh\\bé trai.JPG") == "bé trai.JPG"
    assert clean_filename("be\u0301 trai.jpg") == "bé trai.jpg"  # NFC
    assert clean_filename("a\x00b") == "ab"
    assert clean_filename("") == "image"
