"""Relevance calibration: one cosine threshold above which a result is a strong match.

From the validation split: the best score of every in-domain query whose top result is right (full
captions, and on ViShapes-vi short attribute / count / position queries too), the scores of
non-matching pairs, and the best score of queries about things absent from the data. The threshold
maximises balanced accuracy between "right top result" and "no-match query", or between matching
and non-matching pairs when no no-match texts are given. Written to the checkpoint as
`calibration.json`; the search API marks results `strong` / `weak` against it.

`python -m vi_clip_train.calibrate --checkpoint DIR --data VAL_CAPTIONS [--no-match-texts vishapes]`
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vi_clip import DualEncoder, create_model
from vi_clip.checkpoint import write_calibration

from .data import ImageRecord, load_records, preload_images
from .embed import embed_images, embed_texts
from .metrics import top_scores
from .vishapes.ood import ood_queries
from .vishapes.suites import SUITES, build_suite


def no_match_texts(spec: str, which: str) -> list[str]:
    """ "none", "vishapes" (the built-in disjoint sets) or a file of one text per line, of which
    every fifth line is kept for calibration and the rest for training."""
    if spec == "none":
        return []
    if spec == "vishapes":
        return ood_queries(which)
    lines = [t.strip() for t in Path(spec).read_text(encoding="utf-8").splitlines() if t.strip()]
    return [t for i, t in enumerate(lines) if (i % 5 == 4) == (which == "calibration")]


def in_domain_queries(records: list[ImageRecord], seed: int) -> tuple[list[str], torch.Tensor]:
    """Full captions (relevant: the same key) and, with scenes, short query suites over the split."""
    texts = [c for r in records for c in r.captions]
    keys = [r.key for r in records]
    rel = torch.tensor([[r.key == k for k in keys] for r in records for _ in r.captions])
    scenes = [r.scene for r in records]
    if all(s is not None for s in scenes):
        for kind in SUITES:
            t, _, r = build_suite(kind, [s for s in scenes if s is not None], seed=seed, limit=200)
            texts += t
            rel = torch.cat([rel, torch.from_numpy(r)])
    return texts, rel


def _stats(x: np.ndarray) -> dict[str, float]:
    if len(x) == 0:
        return {"n": 0}
    q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "n": len(x),
        "mean": round(float(x.mean()), 4),
        **{f"q{p}": round(float(v), 4) for p, v in zip((5, 25, 50, 75, 95), q, strict=True)},
    }


def best_threshold(keep: np.ndarray, reject: np.ndarray) -> float:
    """The cut maximising (share of `keep` ≥ t + share of `reject` < t) / 2, midway between scores."""
    scores = np.sort(np.concatenate([keep, reject]))
    cuts = np.concatenate([[scores[0] - 1e-3], (scores[1:] + scores[:-1]) / 2, [scores[-1] + 1e-3]])
    kept = (keep[None, :] >= cuts[:, None]).mean(axis=1)
    rejected = (reject[None, :] < cuts[:, None]).mean(axis=1)
    score = kept + rejected
    best = np.flatnonzero(score >= score.max() - 1e-9)
    return float(cuts[best[len(best) // 2]])


def calibrate(
    model: DualEncoder, pixels: torch.Tensor, records: list[ImageRecord], no_match: list[str], seed: int = 11
) -> dict[str, Any]:
    images = embed_images(model, pixels)
    texts, rel = in_domain_queries(records, seed)
    sim = embed_texts(model, texts) @ images.T
    best, right = top_scores(sim, rel)
    matched = sim[rel].numpy()
    unmatched = sim[~rel].numpy()
    right_scores = best[right].numpy()
    ood = (embed_texts(model, no_match) @ images.T).max(dim=1).values.numpy() if no_match else np.array([])
    if len(ood):
        threshold, method = best_threshold(right_scores, ood), "right top result vs no-match queries"
    else:
        rng = np.random.default_rng(seed)
        sample = rng.choice(unmatched, size=min(len(unmatched), 20000), replace=False)
        threshold, method = best_threshold(matched, sample), "matching vs non-matching pairs"
    return {
        "threshold": round(threshold, 4),
        "method": method,
        "model_version": model.version,
        "queries": len(texts),
        "gallery": len(records),
        "right_top_result": _stats(right_scores),
        "matching_pairs": _stats(matched),
        "non_matching_pairs": _stats(unmatched),
        "no_match_queries": _stats(ood),
        "val_kept": round(float((right_scores >= threshold).mean()), 4),
        "val_no_match_rejected": round(float((ood < threshold).mean()), 4) if len(ood) else None,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--checkpoint", required=True, help="checkpoint directory (calibration.json is written there)"
    )
    p.add_argument("--data", type=Path, required=True, help="validation captions")
    p.add_argument("--image-root", type=Path, default=None)
    p.add_argument("--no-match-texts", default="none", help='a file, "vishapes" or "none"')
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    model = create_model(a.checkpoint, device=a.device)
    records = load_records(a.data, a.image_root)
    pixels = preload_images(records, model.image_size, transform=model.image_transform.to_uint8)
    result = calibrate(model, pixels, records, no_match_texts(a.no_match_texts, "calibration"))
    write_calibration(a.checkpoint, result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
