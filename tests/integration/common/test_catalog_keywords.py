"""Keyword search over OCR text, filenames, folders, tags and notes, accents folded, on both backends."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import text

from imaging.ocr import OcrResult
from services.common.catalog import Catalog, fold_text, keyword_tokens


def png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (shade, 100, 50)).save(out, format="PNG")
    return out.getvalue()


def read(text: str) -> OcrResult:
    return OcrResult(text=text, confidence=90.0, engine="tesseract-test", seconds=0.1)


def test_folding_drops_marks_and_joins_d_with_dj() -> None:
    assert fold_text("Phở Thìn") == "pho thin"
    assert fold_text("ĐƯỜNG Lê Lợi") == "duong le loi"
    assert fold_text("Cà phê sữa đá") == "ca phe sua da"
    assert keyword_tokens("phở_thìn-2024.JPG") == ["pho", "thin", "2024", "jpg"]
    assert fold_text("Phở") == fold_text("Pho\u031b\u0309")  # decomposed input folds the same


def test_words_are_found_without_accents_and_ranked(catalog: Catalog) -> None:
    col = catalog.create_collection("Quán ăn")
    pho, _ = catalog.store_image(col.id, "IMG_0001.jpg", png(1))
    street, _ = catalog.store_image(col.id, "bien-duong-le-loi.png", png(2), folder="2024/Sài Gòn")
    menu, _ = catalog.store_image(col.id, "menu.png", png(3))
    assert catalog.set_image_text(pho.image_id, read("PHỞ THÌN\nPhở bò tái"))
    assert catalog.set_image_text(menu.image_id, read("Thực đơn: cơm tấm, bún chả, phở gà, bánh mì, trà đá"))
    assert not catalog.set_image_text("no-such-image", read("x"))

    hits = catalog.keyword_search("pho thin", [col.id])
    assert [h.image_id for h in hits] == [pho.image_id]
    assert hits[0].collection_id == col.id and hits[0].snippet.startswith("PHỞ THÌN")
    ranked = catalog.keyword_search("phở", [col.id])
    assert [h.image_id for h in ranked] == [pho.image_id, menu.image_id]  # twice in few words beats once
    assert ranked[0].score > ranked[1].score
    assert [h.image_id for h in catalog.keyword_search("đường", [col.id])] == [street.image_id]
    assert [h.image_id for h in catalog.keyword_search("Duong Le Loi", [col.id])] == [street.image_id]
    assert [h.image_id for h in catalog.keyword_search("sai gon", [col.id])] == [street.image_id]
    assert catalog.keyword_search("phở", []) == [] and catalog.keyword_search("!!", [col.id]) == []
    text = catalog.get_image_text(pho.image_id)
    assert text is not None and text.text == "PHỞ THÌN\nPhở bò tái" and text.engine == "tesseract-test"
    assert catalog.get_image_text(street.image_id) is None


def test_tag_and_note_edits_update_the_hits(catalog: Catalog) -> None:
    col = catalog.create_collection("Gia đình")
    image, _ = catalog.store_image(col.id, "a.png", png(4))
    assert catalog.keyword_search("tết", [col.id]) == []
    catalog.add_tags(image.image_id, ["Tết Nguyên Đán"])
    catalog.set_note(image.image_id, "Ở nhà bà ngoại, Đà Lạt")
    assert [h.image_id for h in catalog.keyword_search("tet nguyen dan", [col.id])] == [image.image_id]
    hit = catalog.keyword_search("da lat", [col.id])
    assert [h.image_id for h in hit] == [image.image_id] and "Đà Lạt" in hit[0].snippet
    catalog.set_image_text(image.image_id, read("Chúc mừng năm mới"))  # OCR keeps tags and note
    assert len(catalog.keyword_search("tet", [col.id])) == 1
    catalog.remove_tags(image.image_id, ["tết nguyên đán"])
    catalog.set_note(image.image_id, None)
    assert catalog.keyword_search("tet", [col.id]) == []
    assert catalog.keyword_search("da lat", [col.id]) == []
    assert len(catalog.keyword_search("chuc mung", [col.id])) == 1


def test_deleted_images_and_collections_leave_no_hits(catalog: Catalog) -> None:
    kept = catalog.create_collection("Giữ")
    gone = catalog.create_collection("Xoá")
    one, _ = catalog.store_image(kept.id, "a.png", png(5))
    two, _ = catalog.store_image(kept.id, "b.png", png(6))
    three, _ = catalog.store_image(gone.id, "c.png", png(7))
    for record in (one, two, three):
        catalog.set_image_text(record.image_id, read("Nhà thuốc Long Châu"))
    both = [kept.id, gone.id]
    assert {h.image_id for h in catalog.keyword_search("nha thuoc", both)} == {
        one.image_id,
        two.image_id,
        three.image_id,
    }
    catalog.delete_image(one)
    catalog.delete_collection(gone.id)
    assert [h.image_id for h in catalog.keyword_search("nha thuoc", both)] == [two.image_id]
    if catalog.sessions.dialect == "sqlite":  # the cascades' triggers emptied the FTS5 index too
        with catalog.sessions.read() as s:
            assert s.execute(text("SELECT count(*) FROM image_text_fts_docsize")).scalar() == 1
    again, _ = catalog.store_image(kept.id, "a.png", png(5))  # uploaded again: no OCR text yet
    assert [h.image_id for h in catalog.keyword_search("nha thuoc", both)] == [two.image_id]
    assert catalog.get_image_text(again.image_id) is None
