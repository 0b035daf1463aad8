"""The committed demo checkpoint: small, loadable without the hub, and it actually retrieves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

import vi_clip
from vi_clip.text import strip_diacritics
from vi_clip_train.evaluate import readme_block
from vi_clip_train.vishapes import HELD_OUT_TEMPLATE, caption, sample_scene
from vi_clip_train.vishapes.ood import ood_queries
from vi_clip_train.vishapes.render import render
from vi_clip_train.vishapes.suites import build_suite

DEMO = Path(__file__).parents[3] / "checkpoints" / "vi-tiny-vishapes"


def test_demo_checkpoint_is_small_and_self_describing() -> None:
    size = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert size <= 30 * 2**20
    config = json.loads((DEMO / "config.json").read_text())
    model = vi_clip.create_model(str(DEMO))
    assert model.name == "vi-tiny" and model.version == config["version"]
    val = json.loads((DEMO / "metrics.json").read_text())["val"]
    assert val["t2i_r1"] >= 0.8 and val["i2t_r1"] >= 0.8


def test_demo_checkpoint_finds_fresh_scenes_from_held_out_captions() -> None:
    """New scenes (a seed the data set never used), captioned by the template training never saw."""
    model = vi_clip.create_model(str(DEMO))
    rng = np.random.default_rng(12345)
    scenes = [sample_scene(rng) for _ in range(32)]
    pixels = torch.stack([model.image_transform(render(s, model.image_size, rng)) for s in scenes])
    texts = [caption(s, HELD_OUT_TEMPLATE, rng) for s in scenes]
    images = model.encode_image(pixels)
    for queries in (texts, [strip_diacritics(t) for t in texts]):
        top = (model.encode_text(queries) @ images.T).argmax(dim=1)
        assert (top == torch.arange(len(scenes))).float().mean() >= 0.75


def test_demo_checkpoint_is_calibrated_and_rejects_what_is_not_in_the_world() -> None:
    """Its threshold keeps right answers to short queries over fresh scenes and rejects queries
    about things the world has none of (the evaluation's own no-match set)."""
    model = vi_clip.create_model(str(DEMO))
    threshold = model.relevance_threshold
    assert threshold is not None
    rng = np.random.default_rng(2468)
    scenes = [sample_scene(rng) for _ in range(400)]
    pixels = torch.stack([model.image_transform(render(s, model.image_size, rng)) for s in scenes])
    images = model.encode_image(pixels)
    texts, _, relevant = build_suite("attribute", scenes, seed=3, limit=60)
    sim = model.encode_text(texts) @ images.T
    best, right = (
        sim.max(dim=1).values,
        torch.from_numpy(relevant)[torch.arange(len(texts)), sim.argmax(dim=1)],
    )
    # Short attribute queries: about 1 in 25 images answers one, so chance is near 0.04; these
    # scenes give 0.78 and the evaluation's test split 0.77 (README's table).
    assert len(texts) >= 20
    assert float(right.float().mean()) >= 0.6
    assert float((best[right] >= threshold).float().mean()) >= 0.9
    ood = (model.encode_text(ood_queries("eval")) @ images.T).max(dim=1).values
    assert float((ood < threshold).float().mean()) >= 0.9


def test_the_readme_shows_the_committed_evaluation() -> None:
    """The README's evaluation tables are generated from eval.json, for this very checkpoint."""
    result = json.loads((DEMO / "eval.json").read_text(encoding="utf-8"))
    assert result["metrics"]["version"] == json.loads((DEMO / "config.json").read_text())["version"]
    readme = (DEMO.parents[1] / "README.md").read_text(encoding="utf-8")
    assert readme_block(result["metrics"], result["faiss"]) in readme
