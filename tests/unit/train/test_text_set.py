"""The ViShapes-vi text set: signs with diacritics drawn on scenes, queries with their ground truth,
and the character error rate the OCR evaluation reports."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from vi_clip_train.vishapes.text_set import cer, main, make_set


def test_character_error_rate_counts_edits_over_the_reference() -> None:
    assert cer("Phở Thìn", "Phở Thìn") == 0.0
    assert cer("Pho Thìn", "Phở Thìn") == 1 / 8  # a lost mark is one wrong character
    assert cer("Pho\u031b\u0309  Thìn", "Phở Thìn") == 0.0  # NFC, spaces collapsed
    assert cer("", "Bánh mì") == 1.0


def test_the_set_has_text_and_shape_queries_with_ground_truth(tmp_path: Path) -> None:
    items = make_set(24, seed=3, size=128)
    assert any(sign for _, _, sign in items) and any(sign is None for _, _, sign in items)
    main(["--out", str(tmp_path), "--n", "24", "--seed", "3"])
    scenes = [json.loads(line) for line in (tmp_path / "scenes.jsonl").read_text("utf-8").splitlines()]
    queries = [json.loads(line) for line in (tmp_path / "captions.jsonl").read_text("utf-8").splitlines()]
    assert len(scenes) == 24 and all((tmp_path / s["image"]).is_file() for s in scenes)
    assert {q["needs"] for q in queries} == {"text", "shape", "both"}
    signs = {s["image"]: s["text"] for s in scenes}
    for q in queries:
        assert q["images"] and unicodedata.is_normalized("NFC", q["query"])
        if q["needs"] == "text":
            assert all(signs[name] == q["query"] for name in q["images"])
        if q["needs"] == "both":
            assert all(signs[name] and signs[name] in q["query"] for name in q["images"])
