"""Uploads: single files and zips, with path traversal and bombs refused per member."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from gateway.uploads import UploadOutcome, store_upload
from services.common.catalog import Catalog
from services.common.settings import StorageSettings
from services.common.storage import open_store


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(open_store(StorageSettings(backend="local", local_root=tmp_path)))


def _store(catalog: Catalog, files: list[tuple[str, bytes]], **kw: int) -> UploadOutcome:
    opts = {"max_files": 10, "max_pixels": 50_000_000, "max_unzipped": 10_000_000, **kw}
    return store_upload(catalog, catalog.create_collection("c").id, files, **opts)


def test_files_are_accepted_rejected_or_duplicate(catalog: Catalog) -> None:
    out = _store(
        catalog, [("a.png", png((1, 1, 1))), ("b.jpg", b"hello"), ("c.png", png((1, 1, 1))), ("d", b"")]
    )
    assert [a.filename for a in out.accepted] == ["a.png"]
    assert [d.filename for d in out.duplicates] == ["a.png"]
    codes = {r.filename: r.error.code for r in out.rejected}
    assert codes == {"b.jpg": "unsupported_format", "d": "empty_file"}


def test_zip_members_are_checked_one_by_one(catalog: Catalog) -> None:
    archive = zipped(
        {
            "photos/đỏ.png": png((255, 0, 0)),
            "../../etc/passwd": b"root:x:0:0",
            "/abs.png": png((0, 255, 0)),
            "__MACOSX/._x.png": b"junk",
            "notes.txt": b"ghi chu",
        }
    )
    out = _store(catalog, [("album.zip", archive)])
    assert [a.filename for a in out.accepted] == ["đỏ.png"]
    codes = {r.filename: r.error.code for r in out.rejected}
    assert codes == {
        "../../etc/passwd": "unsafe_path",
        "/abs.png": "unsafe_path",
        "notes.txt": "unsupported_format",
    }


def test_zip_bomb_is_refused_before_reading(catalog: Catalog) -> None:
    bomb = zipped({"big.bin": b"\x00" * 5_000_000})
    assert len(bomb) < 50_000
    out = _store(catalog, [("bomb.zip", bomb)], max_unzipped=1_000_000)
    assert [r.error.code for r in out.rejected] == ["archive_too_large"]
    assert catalog.store.list_keys("images/") == []


def test_too_many_files(catalog: Catalog) -> None:
    files = [(f"{i}.png", png((i, i, i))) for i in range(4)]
    out = _store(catalog, files, max_files=3)
    assert len(out.accepted) == 3
    assert [r.error.code for r in out.rejected] == ["too_many_files"]
