"""Many images' rows and OCR readings written a batch at a time, on both backends: the statements a
batch costs do not grow with its size, and the result is what one-at-a-time writes give (counts,
keyword documents, a re-upload's new name, repeats inside a batch, images gone meanwhile)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image
from sqlalchemy import event

from imaging.ocr import OcrResult
from services.common.catalog import Catalog


def png(i: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (i % 256, (i * 7) % 256, 90)).save(out, format="PNG")
    return out.getvalue()


def read(text: str) -> OcrResult:
    return OcrResult(text=text, confidence=88.0, engine="tesseract-test", seconds=0.01)


@contextmanager
def statements(catalog: Catalog) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = catalog.sessions.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def write(catalog: Catalog, cid: str, first: int, n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(first, first + n):
        written = catalog.write_image(cid, f"ảnh-{i}.png", png(i), folder="Hà Nội/2024")
        assert written.row is not None
        rows.append(written.row)
    return rows


def test_a_batch_of_rows_costs_the_same_statements_whatever_its_size(catalog: Catalog) -> None:
    col = catalog.create_collection("Đà Lạt")
    small, large = write(catalog, col.id, 0, 3), write(catalog, col.id, 3, 40)
    with statements(catalog) as few:
        catalog.add_image_rows(col.id, small)
    with statements(catalog) as many:
        catalog.add_image_rows(col.id, large)
    assert len(many) == len(few) <= 5

    assert catalog.count_images(col.id) == 43
    assert [h.image_id for h in catalog.keyword_search("anh 41", [col.id])] == [large[38]["image_id"]]
    assert len(catalog.keyword_search("ha noi", [col.id], limit=100)) == 43


def test_rows_already_there_take_the_new_name_once_and_are_not_counted_again(catalog: Catalog) -> None:
    col = catalog.create_collection("Huế")
    rows = write(catalog, col.id, 0, 4)
    catalog.add_image_rows(col.id, rows[:2])
    catalog.add_tags(str(rows[0]["image_id"]), ["Tết"])
    renamed = {**rows[0], "filename": "chùa-thiên-mụ.png"}
    repeat = {**rows[3], "filename": "lặp-lại.png"}
    catalog.add_image_rows(col.id, [renamed, rows[1], rows[2], rows[3], repeat])

    assert catalog.count_images(col.id) == 4
    record = catalog.get_image(str(rows[0]["image_id"]))
    assert record is not None and record.filename == "chùa-thiên-mụ.png"
    hits = catalog.keyword_search("chua thien mu tet", [col.id])  # the new name and the tag kept
    assert [h.image_id for h in hits] == [rows[0]["image_id"]]
    again = catalog.get_image(str(rows[3]["image_id"]))
    assert again is not None and again.filename == "lặp-lại.png"  # as written one at a time: the last


def test_ocr_readings_of_a_batch_go_in_one_write(catalog: Catalog) -> None:
    col = catalog.create_collection("Biển hiệu")
    rows = write(catalog, col.id, 0, 30)
    catalog.add_image_rows(col.id, rows)
    ids = [str(r["image_id"]) for r in rows]
    catalog.add_tags(ids[1], ["quán quen"])
    readings = {i: read(f"Phở Thìn số {n}") for n, i in enumerate(ids)}
    with statements(catalog) as few:
        assert catalog.set_image_texts(dict(list(readings.items())[:2])) == set(ids[:2])
    with statements(catalog) as many:
        stored = catalog.set_image_texts({**readings, "gone-image": read("x")})
    assert stored == set(ids) and len(many) == len(few) <= 4

    texts = catalog.get_image_texts([*ids, "gone-image"])
    assert set(texts) == set(ids) and texts[ids[7]].text == "Phở Thìn số 7"
    hits = catalog.keyword_search("pho thin so 1 quan quen", [col.id])  # OCR, name and tag together
    assert [h.image_id for h in hits] == [ids[1]]
    assert catalog.get_image_texts([]) == {} and catalog.set_image_texts({}) == set()
