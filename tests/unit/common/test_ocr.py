"""OCR with the real Tesseract and its Vietnamese model: words with diacritics read back, the
presence check skips pictures without words, budgets hold, and a missing language is reported."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from imaging.ocr import OcrBudget, has_text, ocr_available, ocr_image
from vi_clip_train.vishapes.render import render
from vi_clip_train.vishapes.scene import sample_scene
from vi_clip_train.vishapes.text_set import cer, draw_sign

pytestmark = pytest.mark.usefixtures("tesseract")


def scene(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return render(sample_scene(rng), 480, rng)


SIGNS = ["Phở Thìn", "Cà phê sữa đá", "Nhà thuốc", "Giảm giá 50%", "Bánh mì", "Đường Lê Lợi"]


def test_vietnamese_words_with_diacritics_are_read() -> None:
    errors = chars = 0
    texts = []
    for i, words in enumerate(SIGNS):
        picture = draw_sign(scene(10 + i), words, np.random.default_rng(i))
        result = ocr_image(picture, OcrBudget())
        assert not result.skipped and not result.timed_out
        assert result.engine.startswith("tesseract-") and result.seconds > 0
        left, top, width, height = result.words[0].box
        assert 0 <= left < picture.width and 0 <= top < picture.height and width > 0 and height > 0
        errors += round(cer(result.text, words) * len(words))
        chars += len(words)
        texts.append(result.text)
    assert errors / chars <= 0.1, texts
    assert "Phở Thìn" in texts[0] and "sữa đá" in texts[1] and "Đường" in texts[5], texts


def test_the_presence_check_skips_pictures_without_words() -> None:
    blank = Image.new("RGB", (640, 480), (250, 250, 250))
    for picture in (blank, scene(0), scene(1), scene(2)):
        assert not has_text(picture)
        result = ocr_image(picture, OcrBudget())
        assert result.skipped and result.text == "" and result.words == []
    assert has_text(draw_sign(scene(0), "Bánh mì", np.random.default_rng(2)))


def test_a_large_picture_is_downscaled_and_boxes_stay_in_its_pixels() -> None:
    picture = draw_sign(scene(4), "Bún chả Hà Nội", np.random.default_rng(3)).resize((1920, 1920))
    result = ocr_image(picture, OcrBudget(max_pixels=480 * 480))
    assert cer(result.text, "Bún chả Hà Nội") <= 0.1, result.text
    assert max(w.box[0] + w.box[2] for w in result.words) > 960  # boxes in the original's pixels


def test_the_time_budget_ends_a_long_read() -> None:
    words = draw_sign(scene(5), "Khuyến mãi hôm nay", np.random.default_rng(4)).resize((2400, 2400))
    result = ocr_image(words, OcrBudget(seconds=0.01, max_pixels=10_000_000))
    assert result.timed_out and result.text == ""


def test_a_missing_language_is_reported_not_raised() -> None:
    assert ocr_available("vie") and ocr_available("vie+eng")
    assert not ocr_available("vie+xyz")
