"""Uploads: single files and zips, with path traversal, bombs and unreadable members refused per member."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import delete, update

from gateway.image_pool import ImagePool
from gateway.uploads import UploadLimits, UploadOutcome, store_upload
from services.common.catalog import Catalog, WrittenImage, image_key, thumbnail_key
from services.common.catalog.models import CollectionRow, ImageRow
from services.common.errors import ApiError
from tests.support.bad_zips import with_bad_member, zipped


def png(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def catalog(local_catalog: Catalog) -> Catalog:
    return local_catalog


@pytest.fixture
def pool() -> Iterator[ImagePool]:
    images = ImagePool(workers=2, queue=0)
    yield images
    asyncio.run(images.aclose())


def _store(
    catalog: Catalog, pool: ImagePool, files: list[tuple[str, bytes]], cid: str | None = None, **kw: int
) -> UploadOutcome:
    opts = {
        "max_files": 10,
        "max_pixels": 50_000_000,
        "max_image_bytes": 1_000_000,
        "max_unzipped": 10_000_000,
    }
    limits = UploadLimits(**{**opts, **kw})
    cid = cid or catalog.create_collection("c").id
    return asyncio.run(store_upload(catalog, pool, cid, files, limits))


def test_files_are_accepted_rejected_or_duplicate(catalog: Catalog, pool: ImagePool) -> None:
    out = _store(
        catalog,
        pool,
        [("a.png", png((1, 1, 1))), ("b.jpg", b"hello"), ("c.png", png((1, 1, 1))), ("d", b"")],
    )
    assert [a.filename for a in out.accepted] == ["a.png"]
    assert [d.filename for d in out.duplicates] == ["a.png"]
    codes = {r.filename: r.error.code for r in out.rejected}
    assert codes == {"b.jpg": "unsupported_format", "d": "empty_file"}


def test_zip_members_are_checked_one_by_one(catalog: Catalog, pool: ImagePool) -> None:
    archive = zipped(
        {
            "photos/đỏ.png": png((255, 0, 0)),
            "../../etc/passwd": b"root:x:0:0",
            "/abs.png": png((0, 255, 0)),
            "__MACOSX/._x.png": b"junk",
            "notes.txt": b"ghi chu",
        }
    )
    out = _store(catalog, pool, [("album.zip", archive)])
    assert [a.filename for a in out.accepted] == ["đỏ.png"]
    codes = {r.filename: r.error.code for r in out.rejected}
    assert codes == {
        "../../etc/passwd": "unsafe_path",
        "/abs.png": "unsafe_path",
        "notes.txt": "unsupported_format",
    }


@pytest.mark.parametrize(
    ("method", "encrypt", "code"),
    [
        (zipfile.ZIP_STORED, True, "encrypted_member"),
        (zipfile.ZIP_DEFLATED, False, "corrupt_archive"),  # zlib.error
        (zipfile.ZIP_LZMA, False, "corrupt_archive"),  # LZMAError
        (zipfile.ZIP_BZIP2, False, "corrupt_archive"),  # OSError
    ],
)
def test_an_unreadable_member_is_rejected_and_its_neighbours_kept(
    catalog: Catalog, pool: ImagePool, method: int, encrypt: bool, code: str
) -> None:
    bad = png((9, 9, 9), (300, 200)) + bytes(range(256)) * 40
    good = {"first.png": png((1, 0, 0)), "last.png": png((0, 0, 1))}
    archive = with_bad_member(good, bad, method, encrypt=encrypt)
    out = _store(catalog, pool, [("album.zip", archive)])
    assert [a.filename for a in out.accepted] == ["first.png", "last.png"]
    assert [(r.filename, r.error.code) for r in out.rejected] == [("bad.png", code)]


def test_zip_bomb_is_refused_before_reading(catalog: Catalog, pool: ImagePool) -> None:
    bomb = zipped({"big.bin": b"\x00" * 5_000_000})
    assert len(bomb) < 50_000
    out = _store(catalog, pool, [("bomb.zip", bomb)], max_unzipped=1_000_000)
    assert [r.error.code for r in out.rejected] == ["archive_too_large"]
    assert catalog.store.list_keys("images/") == []


def test_too_many_files(catalog: Catalog, pool: ImagePool) -> None:
    files = [(f"{i}.png", png((i, i, i))) for i in range(4)]
    out = _store(catalog, pool, files, max_files=3)
    assert len(out.accepted) == 3
    assert [r.error.code for r in out.rejected] == ["too_many_files"]


def test_an_image_over_the_byte_limit_is_refused_file_or_member(catalog: Catalog, pool: ImagePool) -> None:
    big = png((5, 5, 5), (600, 600)) + b"\x00" * 20_000
    out = _store(
        catalog, pool, [("big.png", big), ("album.zip", zipped({"big2.png": big}))], max_image_bytes=20_000
    )
    assert [(r.filename, r.error.code) for r in out.rejected] == [
        ("big.png", "file_too_large"),
        ("big2.png", "file_too_large"),
    ]
    assert catalog.store.list_keys("images/") == []


def test_a_duplicate_is_found_by_its_hash_before_it_is_decoded(catalog: Catalog, pool: ImagePool) -> None:
    cid = catalog.create_collection("c").id
    photo = png((3, 4, 5), (200, 100))
    assert len(_store(catalog, pool, [("a.png", photo)], cid).accepted) == 1
    # A pixel limit the image breaks: decoding it again would reject it; the hash finds it first.
    again = _store(catalog, pool, [("b.png", photo)], cid, max_pixels=100)
    assert [d.filename for d in again.duplicates] == ["a.png"] and not again.rejected


@pytest.mark.parametrize("lost", ["thumbnail", "bytes", "record"])
def test_a_retried_upload_repairs_a_half_written_image(catalog: Catalog, pool: ImagePool, lost: str) -> None:
    cid = catalog.create_collection("c").id
    photo = png((7, 7, 7), (300, 200))
    record = _store(catalog, pool, [("a.png", photo)], cid).accepted[0]
    if lost == "record":  # what a crash between the bytes and the row leaves
        with catalog.sessions.write() as s:
            s.execute(delete(ImageRow).where(ImageRow.image_id == record.image_id))
            s.execute(update(CollectionRow).where(CollectionRow.id == cid).values(image_count=0))
    else:
        key = {"thumbnail": thumbnail_key, "bytes": image_key}[lost](cid, record.image_id)
        catalog.store.delete(key)
    retried = _store(catalog, pool, [("a.png", photo)], cid)
    assert [a.image_id for a in retried.accepted] == [record.image_id] and not retried.duplicates
    assert catalog.store.stat(thumbnail_key(cid, record.image_id)) is not None
    assert catalog.image_ids(cid) == [record.image_id] and catalog.count_images(cid) == 1
    assert catalog.store.get(image_key(cid, record.image_id)) == photo


def test_zip_members_keep_their_folder(catalog: Catalog, pool: ImagePool) -> None:
    archive = zipped({"Tết 2024/Huế/đầu năm.png": png((1, 2, 3)), "top.png": png((3, 2, 1))})
    out = _store(catalog, pool, [("album.zip", archive)])
    records = {a.filename: catalog.get_image(a.image_id) for a in out.accepted}
    folders = {name: r.folder if r is not None else "missing" for name, r in records.items()}
    assert folders == {"đầu năm.png": "Tết 2024/Huế", "top.png": None}


def test_image_work_runs_on_the_pool_threads_behind_other_work(pool: ImagePool) -> None:
    def where() -> tuple[str, int]:
        return threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    name, nice = asyncio.run(pool.run(where))
    assert name.startswith("gateway-images")
    if sys.platform == "linux":
        assert nice > os.getpriority(os.PRIO_PROCESS, 0)


def test_a_full_pool_refuses_with_503_and_retry_after() -> None:
    images = ImagePool(workers=1, queue=1)

    async def scenario() -> ApiError:
        async with images.admit(), images.admit():
            with pytest.raises(ApiError) as refused:
                async with images.admit():
                    pass
        async with images.admit():  # places are given back
            pass
        return refused.value

    try:
        err = asyncio.run(scenario())
    finally:
        asyncio.run(images.aclose())
    assert (err.status, err.code) == (503, "uploads_busy")
    assert err.headers == {"Retry-After": "2"}


def test_an_uploads_rows_go_in_one_transaction_and_a_repeat_inside_it_is_its_first_file(
    catalog: Catalog, pool: ImagePool
) -> None:
    from sqlalchemy import event

    from services.common.catalog.keys import ImageObjectMeta

    seen: list[str] = []  # statements, and "COMMIT" where a transaction ended
    engine = catalog.sessions.engine
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2].lstrip().upper()))
    event.listen(engine, "commit", lambda conn: seen.append("COMMIT"))
    cid = catalog.create_collection("một lần").id
    seen.clear()
    files = [(f"ảnh-{i}.png", png((i, 2 * i, 3 * i))) for i in range(5)] + [("lần-hai.png", png((1, 2, 3)))]
    out = _store(catalog, pool, files, cid)
    assert [a.filename for a in out.accepted] == [f"ảnh-{i}.png" for i in range(5)]
    # The repeat of ảnh-1.png is a duplicate of it, and wrote nothing over its objects.
    assert [(d.image_id, d.filename) for d in out.duplicates] == [(out.accepted[1].image_id, "ảnh-1.png")]
    info = catalog.store.stat(image_key(cid, out.accepted[1].image_id))
    assert info is not None
    meta = ImageObjectMeta.from_metadata(info.metadata)
    assert meta is not None and meta.filename == "ảnh-1.png"
    writes, wrote = 0, False  # transactions that inserted a row
    for statement in seen:
        wrote = wrote or statement.startswith("INSERT INTO IMAGES")
        if statement == "COMMIT":
            writes, wrote = writes + wrote, False
    assert writes == 1, "every row of the upload in one transaction"
    assert {r.image_id for r in catalog.get_images([a.image_id for a in out.accepted]).values()} == {
        a.image_id for a in out.accepted
    }


def test_an_uploads_images_are_written_several_at_once_and_judged_in_upload_order(
    catalog: Catalog, pool: ImagePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = catalog.write_image
    at_once, most = 0, 0
    lock = threading.Lock()

    def slow_write(*args: Any, **kwargs: Any) -> WrittenImage:
        nonlocal at_once, most
        with lock:
            at_once += 1
            most = max(most, at_once)
        try:
            threading.Event().wait(0.05)
            return write(*args, **kwargs)
        finally:
            with lock:
                at_once -= 1

    monkeypatch.setattr(catalog, "write_image", slow_write)
    bad = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # a PNG signature and nothing readable after it
    files = [
        ("một.png", png((9, 1, 1))),
        ("hỏng.png", bad),
        ("hai.png", png((9, 2, 2))),
        ("../leo.png", png((9, 3, 3))),
        ("lại-hỏng.png", bad),
        ("ba.png", png((9, 4, 4))),
        ("lại-một.png", png((9, 1, 1))),
    ]
    out = _store(catalog, pool, files)
    assert most == 2, "the pool's two threads write images of one upload at once"
    assert [a.filename for a in out.accepted] == ["một.png", "hai.png", "ba.png"]
    assert [d.filename for d in out.duplicates] == ["một.png"]
    assert [(r.filename, r.error.code) for r in out.rejected] == [
        ("hỏng.png", out.rejected[0].error.code),
        ("../leo.png", "unsafe_path"),
        ("lại-hỏng.png", out.rejected[0].error.code),  # a repeat of a bad file gets its verdict
    ]
    assert out.rejected[0].error.code != "unsafe_path"
