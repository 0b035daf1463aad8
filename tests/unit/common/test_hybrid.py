"""What people type to leave things out, and reciprocal rank fusion."""

from __future__ import annotations

import unicodedata

import pytest

from services.common.hybrid import MAX_EXCLUDE, fuse, parse_query


@pytest.mark.parametrize(
    ("typed", "positive", "exclude"),
    [
        ("ảnh bãi biển, không có người", "ảnh bãi biển", ("người",)),
        ("ảnh bãi biển không có người", "ảnh bãi biển", ("người",)),
        ("anh bai bien, khong co nguoi", "anh bai bien", ("nguoi",)),
        ("ảnh mèo, không chó", "ảnh mèo", ("chó",)),
        ("cà phê không đường", "cà phê không đường", ()),  # "không" inside a phrase asks for it
        ("ca phe khong duong", "ca phe khong duong", ()),
        ("hoa trừ hoa hồng", "hoa", ("hoa hồng",)),
        ("hoa ngoại trừ hoa hồng; không có lá", "hoa", ("hoa hồng", "lá")),
        ('ngôi sao -đỏ -"hình tròn"', "ngôi sao", ("đỏ", "hình tròn")),
        ("xe -máy, không có Xe máy", "xe", ("máy", "Xe máy")),
        ("hai ngôi sao màu vàng", "hai ngôi sao màu vàng", ()),
        ("giá 50-70 nghìn", "giá 50-70 nghìn", ()),  # a dash inside a word is no exclusion
        ("không có người", "", ("người",)),
    ],
)
def test_exclusions_are_parsed_out_of_the_query(typed: str, positive: str, exclude: tuple[str, ...]) -> None:
    parsed = parse_query(typed)
    assert (parsed.positive, parsed.exclude) == (positive, exclude)


def test_given_exclusions_follow_typed_ones_without_repeats_nfc_and_bounded() -> None:
    decomposed = unicodedata.normalize("NFD", "người")
    parsed = parse_query("bãi biển, không có người", [decomposed, "NGƯỜI", "xe"])
    assert parsed.exclude == ("người", "xe")
    assert all(unicodedata.is_normalized("NFC", p) for p in parsed.exclude)
    many = parse_query("a", [f"x{i}" for i in range(20)])
    assert len(many.exclude) == MAX_EXCLUDE


def test_fusion_favours_what_both_lists_rank() -> None:
    dense = ["a", "b", "c", "d"]
    words = ["c", "e"]
    fused = [i for i, _ in fuse([dense, words], [1.0, 1.0], k=60)]
    assert fused[0] == "c"  # third and first beats first alone
    assert fused[1:] == ["a", "b", "e", "d"]  # then ranks by 1/(k+r); ties keep the dense order
    assert [i for i, _ in fuse([dense, words], [1.0, 0.0])] == dense
    scores = dict(fuse([dense, words], [1.0, 2.0], k=1))
    assert scores["e"] == pytest.approx(2.0 / 3) and scores["a"] == pytest.approx(1.0 / 2)
    assert fuse([[], []], [1.0, 1.0]) == []
