"""ViShapes-vi with words: shape scenes carrying a Vietnamese sign (shop names, menus, prices), and
scenes without one, to evaluate OCR and keyword search.

`python -m vi_clip_train.vishapes.text_set --out data/vishapes-text` writes `images/*.png`,
`scenes.jsonl` (image, scene, sign text or null) and `captions.jsonl`: queries that need the text
("Phở Thìn"), the shape ("ngôi sao màu đỏ"), or both, each with the images that answer it.
`--eval DIR` OCRs a written set and prints JSON: the character error rate over the text images
(edit distance over reference length, NFC), how the presence check sorted the images, and the
median cost of the check and of a full OCR. `--cost 1000` times OCR over shape-only scenes.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imaging.decoding import decode_image
from imaging.ocr import OcrBudget, has_text, ocr_image

from .captions import COLOUR_WORDS, SHAPE_WORDS
from .render import render
from .scene import Scene, sample_scene

SIGNS = (
    "Phở Thìn",
    "Bánh mì",
    "Cà phê sữa đá",
    "Nhà thuốc",
    "Giảm giá 50%",
    "Bún chả Hà Nội",
    "Cơm tấm Sài Gòn",
    "Trà sữa trân châu",
    "Tiệm bánh ngọt",
    "Hủ tiếu Nam Vang",
    "Đường Lê Lợi",
    "Khuyến mãi hôm nay",
    "Bánh xèo miền Tây",
    "Gỏi cuốn tôm thịt",
    "Nước mía sầu riêng",
    "Quán ốc Bà Tư",
)
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
)
TEXT_FRACTION = 0.75  # of the scenes carry a sign


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def draw_sign(image: Image.Image, text: str, rng: np.random.Generator) -> Image.Image:
    """A shop-sign band across the picture: light plate, dark letters, the words centred."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    size = int(image.width * rng.uniform(0.07, 0.1))
    font = ImageFont.truetype(FONTS[int(rng.integers(len(FONTS)))], size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    while right - left > image.width * 0.9 and size > 12:
        size -= 2
        font = ImageFont.truetype(FONTS[int(rng.integers(len(FONTS)))], size)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left, bottom - top
    x = (image.width - w) // 2
    y = int(rng.uniform(0.05, 0.95) * (image.height - h - 2 * size // 2))
    pad = size // 3
    draw.rectangle((x - pad, y - pad, x + w + pad, y + h + pad), fill=(250, 245, 225))
    ink = tuple(int(c) for c in rng.integers(0, 70, size=3))
    draw.text((x - left, y - top), text, font=font, fill=(ink[0], ink[1], ink[2]))
    return out


def shape_phrase(scene: Scene) -> tuple[str, str]:
    """The first object's (shape, colour) words, e.g. ("ngôi sao", "đỏ")."""
    obj = scene.objects[0]
    return SHAPE_WORDS[obj.shape][0], COLOUR_WORDS[obj.colour][0]


def make_set(n: int, seed: int = 0, size: int = 480) -> list[tuple[Image.Image, Scene, str | None]]:
    rng = np.random.default_rng([seed, 7])
    items: list[tuple[Image.Image, Scene, str | None]] = []
    for i in range(n):
        scene = sample_scene(rng)
        picture = render(scene, size, rng)
        sign = nfc(SIGNS[i % len(SIGNS)]) if rng.random() < TEXT_FRACTION else None
        items.append((draw_sign(picture, sign, rng) if sign else picture, scene, sign))
    return items


def queries(items: list[tuple[str, Scene, str | None]]) -> list[dict[str, object]]:
    """Queries by text, by shape, and by both, each with its ground truth (the images answering it)."""
    out: list[dict[str, object]] = []
    for sign in sorted({s for _, _, s in items if s}):
        hits = [name for name, _, s in items if s == sign]
        out.append({"query": sign, "needs": "text", "images": hits})
    by_shape: dict[tuple[str, str], list[str]] = {}
    for name, scene, _ in items:
        by_shape.setdefault(shape_phrase(scene), []).append(name)
    for (shape, colour), hits in sorted(by_shape.items()):
        out.append({"query": f"{shape} màu {colour}", "needs": "shape", "images": hits})
    both: dict[tuple[str, str, str], list[str]] = {}
    for name, scene, written in items:
        if written:
            both.setdefault((*shape_phrase(scene), written), []).append(name)
    for (shape, colour, sign), hits in sorted(both.items()):
        out.append({"query": f"{shape} màu {colour} có chữ {sign}", "needs": "both", "images": hits})
    return out


def write_set(out: Path, n: int, seed: int) -> None:
    (out / "images").mkdir(parents=True, exist_ok=True)
    named: list[tuple[str, Scene, str | None]] = []
    with open(out / "scenes.jsonl", "w", encoding="utf-8") as fh:
        for i, (image, scene, sign) in enumerate(make_set(n, seed)):
            name = f"images/{i:06d}.png"
            image.save(out / name)
            named.append((name, scene, sign))
            fh.write(json.dumps({"image": name, "scene": scene.to_dict(), "text": sign}, ensure_ascii=False))
            fh.write("\n")
    with open(out / "captions.jsonl", "w", encoding="utf-8") as fh:
        for q in queries(named):
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate on NFC text, whitespace runs as one space."""
    hyp, ref = (" ".join(nfc(t).split()) for t in (hypothesis, reference))
    return edit_distance(hyp, ref) / max(1, len(ref))


def evaluate(folder: Path, language: str) -> dict[str, object]:
    budget = OcrBudget(language=language)
    errors = chars = 0
    check_s: list[float] = []
    ocr_s: list[float] = []
    kept = {"text": 0, "none": 0}
    totals = {"text": 0, "none": 0}
    for line in (folder / "scenes.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        image = Image.open(folder / row["image"]).convert("RGB")
        kind = "text" if row["text"] else "none"
        totals[kind] += 1
        start = time.perf_counter()
        found = has_text(image)
        check_s.append(time.perf_counter() - start)
        kept[kind] += found
        if row["text"]:
            result = ocr_image(image, budget, check=False)
            ocr_s.append(result.seconds)
            ref = " ".join(nfc(row["text"]).split())
            errors += round(cer(result.text, ref) * len(ref))
            chars += len(ref)
    return {
        "language": language,
        "images": sum(totals.values()),
        "cer": round(errors / max(1, chars), 4),
        "check_kept_text": f"{kept['text']}/{totals['text']}",
        "check_kept_blank": f"{kept['none']}/{totals['none']}",
        "check_ms_median": round(1000 * statistics.median(check_s), 2),
        "ocr_ms_median": round(1000 * statistics.median(ocr_s), 1) if ocr_s else None,
    }


def no_text_cost(n: int, seed: int = 1) -> dict[str, object]:
    """What OCR costs on `n` shape-only scenes (PNG bytes, as the indexer reads them): decoding plus
    the presence check per image, against decoding plus a full OCR on the first 50."""
    rng = np.random.default_rng([seed, 9])
    blobs = []
    for _ in range(n):
        out = io.BytesIO()
        render(sample_scene(rng), 480, rng).save(out, format="PNG")
        blobs.append(out.getvalue())
    start = time.perf_counter()
    skipped = sum(ocr_image(decode_image(b)).skipped for b in blobs)
    checked = (time.perf_counter() - start) / n
    sample = blobs[:50]
    start = time.perf_counter()
    for b in sample:
        ocr_image(decode_image(b), check=False)
    full = (time.perf_counter() - start) / len(sample)
    return {
        "images": n,
        "skipped": skipped,
        "decode_and_check_ms": round(1000 * checked, 2),
        "decode_and_full_ocr_ms": round(1000 * full, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write a set here")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval", type=Path, help="OCR a written set and print the figures as JSON")
    parser.add_argument("--language", default="vie")
    parser.add_argument("--cost", type=int, help="time OCR on this many shape-only scenes, print JSON")
    args = parser.parse_args(argv)
    if args.out:
        write_set(args.out, args.n, args.seed)
    if args.eval:
        print(json.dumps(evaluate(args.eval, args.language), ensure_ascii=False))
    if args.cost:
        print(json.dumps(no_text_cost(args.cost)))


if __name__ == "__main__":
    main()
