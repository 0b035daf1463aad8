"""The text pipeline training and serving share: NFC, clean-up, diacritics, segmentation."""

from __future__ import annotations

import unicodedata

import pytest

from vi_clip.text import get_segmenter, normalize_text, prepare_text, strip_diacritics


def test_normalize_text_composes_nfd_input() -> None:
    nfd = unicodedata.normalize("NFD", "Ngôi sao màu vàng")
    assert nfd != "Ngôi sao màu vàng"
    assert normalize_text(nfd) == "Ngôi sao màu vàng"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  hình   tròn\tđỏ \n", "hình tròn đỏ"),
        ("con mèo , con chó !!", "con mèo, con chó!"),
        ("“ảnh đẹp” … ", '"ảnh đẹp"...'),
        ("chữ\u200bthập\u00ad", "chữthập"),
        ("( bên trái )", "(bên trái)"),
    ],
)
def test_normalize_text_cleans_whitespace_and_punctuation(raw: str, clean: str) -> None:
    assert normalize_text(raw) == clean


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        ("hình tròn màu đỏ ở góc trên bên trái", "hinh tron mau do o goc tren ben trai"),
        ("Đường phố Hà Nội", "Duong pho Ha Noi"),
        ("trái tim màu tím", "trai tim mau tim"),
        (unicodedata.normalize("NFD", "Nguyễn Thị Ngọc"), "Nguyen Thi Ngoc"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_strip_diacritics(text: str, bare: str) -> None:
    assert strip_diacritics(text) == bare


def test_segmenters_join_words_and_agree_on_nfc_nfd() -> None:
    text = "Một hình tròn màu đỏ ở góc trên bên trái"
    for kind in ("underthesea", "pyvi"):
        seg = prepare_text(text, kind)
        assert "hình_tròn" in seg
        assert prepare_text(unicodedata.normalize("NFD", text), kind) == seg
    assert prepare_text(text, "none") == text


def test_unknown_segmenter_is_refused() -> None:
    with pytest.raises(ValueError, match="pyvi"):
        get_segmenter("jieba")
