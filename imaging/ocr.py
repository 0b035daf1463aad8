"""Words in pictures: Tesseract (its `vie` model) over an image, within a time and a pixel budget.

A cheap presence check runs first on a small greyscale copy: text is many small, dense, high-contrast
strokes, so an image with few rows crossing many strong edges has no text worth reading and skips
the full OCR. Measured on 2 shared cores (`python -m vi_clip_train.vishapes.text_set --eval DIR
--cost 1000`, 480×480 scenes): the check takes a median 1.9 ms against 127 ms for a full OCR of a
text scene; it kept 148 of 148 text scenes and skipped 999 of 1,000 shape-only ones, which then
cost 4.3 ms each with decoding, against 258 ms for decoding and a full OCR. Tesseract's own fast
pass (OSD) took 103 ms per scene on 20 of them, and refused every one (too few characters).
Its limit: faint text (a grey step under `EDGE_LEVEL`) is taken for no text.

Nothing here raises because Tesseract is missing: `ocr_available()` says so, and `ocr_image`
raises `OcrUnavailable`, which callers treat as "no OCR on this machine".
"""

from __future__ import annotations

import shutil
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

DEFAULT_LANGUAGE = "vie"
# Tesseract's page segmentation: 6 reads the picture as one block of text. On the ViShapes-vi text set
# it had 6.5% CER against 27% for 3 (automatic layout, which took shapes for text regions) and 26% for
# 11 (sparse text); "vie+eng" read no better than "vie" and took 1.6 times as long.
DEFAULT_PAGE_MODE = 6
# Words Tesseract is unsure of are mostly shape edges read as letters, lone characters most of all.
# On 100 text scenes: CER 4.7% keeping words of confidence 30+, 4.3% at 50+, 4.0% at 50+ with lone
# characters at 80+.
MIN_WORD_CONFIDENCE = 50.0
MIN_CHARACTER_CONFIDENCE = 80.0
BLACK_WHITE_LEVEL = 128  # the second try's threshold: light shapes go white with the sign's plate
CHECK_SIDE = 256  # the presence check looks at a copy this wide
# A grey step this strong (of 255) is an edge: at 48 the grain of textured backgrounds passed for
# strokes (63 of 1,000 shape-only scenes kept); at 80 none is, and every text scene still is.
EDGE_LEVEL = 80
# A line of text crosses many strokes: rows of the small copy with at least this many edge runs...
MIN_RUNS_PER_ROW = 10
# ...and at least this many such rows (a text line is 4+ rows tall at 256 px; the outline of a shape
# crosses a row at most 7 times). Measured on the text set: text scenes had 13-145 such rows,
# shape-only scenes none.
MIN_TEXT_ROWS = 4


class OcrUnavailable(RuntimeError):
    """Tesseract or its language data is not installed here."""


@dataclass(frozen=True)
class OcrBudget:
    """What one image may cost: seconds of Tesseract (killed beyond) and pixels (downscaled beyond)."""

    seconds: float = 10.0
    max_pixels: int = 4_000_000
    language: str = DEFAULT_LANGUAGE
    page_mode: int = DEFAULT_PAGE_MODE


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float  # 0-100, as Tesseract reports it
    box: tuple[int, int, int, int]  # left, top, width, height in the original image's pixels


@dataclass(frozen=True)
class OcrResult:
    """NFC text (lines joined by newlines), the mean word confidence (0-100, 0 without words), the
    words with their boxes, the seconds spent, and whether the presence check skipped the OCR."""

    text: str
    confidence: float
    engine: str
    seconds: float
    words: list[OcrWord] = field(default_factory=list)
    skipped: bool = False
    timed_out: bool = False


@lru_cache(maxsize=1)
def engine_version() -> str:
    """`tesseract-<version>`; "" when Tesseract cannot be run."""
    try:
        import pytesseract

        return f"tesseract-{pytesseract.get_tesseract_version()}"
    except Exception:
        return ""


def ocr_available(language: str = DEFAULT_LANGUAGE) -> bool:
    """Whether the tesseract binary runs and has every language of `language` ("vie+eng"); never raises."""
    if shutil.which("tesseract") is None or not engine_version():
        return False
    try:
        import pytesseract

        installed = set(pytesseract.get_languages(config=""))
    except Exception:
        return False
    return all(lang in installed for lang in language.split("+"))


def has_text(image: Image.Image) -> bool:
    """The presence check: enough rows of a small greyscale copy cross many strong edges (strokes)."""
    small = image.convert("L")
    small.thumbnail((CHECK_SIDE, CHECK_SIDE))
    edges = np.asarray(small.filter(ImageFilter.FIND_EDGES), dtype=np.uint8)[1:-1, 1:-1] >= EDGE_LEVEL
    runs = np.count_nonzero(np.diff(edges.astype(np.int8), axis=1) == 1, axis=1)
    return int(np.count_nonzero(runs >= MIN_RUNS_PER_ROW)) >= MIN_TEXT_ROWS


def _within(image: Image.Image, max_pixels: int) -> tuple[Image.Image, float]:
    """The image downscaled to at most `max_pixels`, and the factor from its pixels to the original's."""
    pixels = image.width * image.height
    if pixels <= max_pixels:
        return image, 1.0
    scale = (max_pixels / pixels) ** 0.5
    size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS), 1.0 / scale


def _words(grey: Image.Image, budget: OcrBudget, factor: float, seconds: float) -> list[tuple[int, OcrWord]]:
    """Tesseract's confident words, each with its line's rank. Raises TimeoutError past `seconds`."""
    import pytesseract

    try:
        data = pytesseract.image_to_data(
            grey,
            lang=budget.language,
            config=f"--psm {budget.page_mode}",
            timeout=seconds,
            output_type=pytesseract.Output.DICT,
        )
    except RuntimeError as exc:  # pytesseract's way of saying the timeout killed tesseract
        if "timeout" not in str(exc).lower():
            raise
        raise TimeoutError(str(exc)) from exc
    except pytesseract.TesseractError as exc:
        raise OcrUnavailable(str(exc)) from exc
    out: list[tuple[int, OcrWord]] = []
    for i, raw in enumerate(data["text"]):
        text = unicodedata.normalize("NFC", str(raw)).strip()
        conf = float(data["conf"][i])
        least = MIN_CHARACTER_CONFIDENCE if len(text) == 1 else MIN_WORD_CONFIDENCE
        if conf < least or not any(ch.isalnum() for ch in text):
            continue
        box = tuple(round(float(data[k][i]) * factor) for k in ("left", "top", "width", "height"))
        line = (
            int(data["block_num"][i]) * 1_000_000 + int(data["par_num"][i]) * 1_000 + int(data["line_num"][i])
        )
        out.append((line, OcrWord(text, conf, (box[0], box[1], box[2], box[3]))))
    return out


def ocr_image(image: Image.Image, budget: OcrBudget | None = None, *, check: bool = True) -> OcrResult:
    """Read the words of an image. `check`: run the presence check first and skip when it finds no text.
    When nothing is read, a second try on a black-and-white copy follows, within the same seconds
    (dark letters on a light sign among coloured shapes): on 80 text scenes 4.2% CER without it,
    3.5% binarising every image; as a second try only, 3.5% over 148 scenes.
    A run past the budget's seconds ends with no text and `timed_out`. Raises OcrUnavailable."""
    budget = budget or OcrBudget()
    engine = engine_version()
    if not engine:
        raise OcrUnavailable("tesseract is not installed")
    start = time.perf_counter()
    if check and not has_text(image):
        return OcrResult("", 0.0, engine, time.perf_counter() - start, skipped=True)
    grey, factor = _within(image.convert("L"), budget.max_pixels)
    try:
        found = _words(grey, budget, factor, budget.seconds)
        left = budget.seconds - (time.perf_counter() - start)
        if not found and left > 0:
            found = _words(grey.point(lambda v: 255 if v > BLACK_WHITE_LEVEL else 0), budget, factor, left)
    except TimeoutError:
        return OcrResult("", 0.0, engine, time.perf_counter() - start, timed_out=True)
    lines: dict[int, list[str]] = {}
    for line, word in found:
        lines.setdefault(line, []).append(word.text)
    text = "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))
    words = [w for _, w in found]
    confidence = float(np.mean([w.confidence for w in words])) if words else 0.0
    return OcrResult(text, confidence, engine, time.perf_counter() - start, words=words)
