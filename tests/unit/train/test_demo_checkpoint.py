"""The committed demo checkpoint: small, loadable without the hub, and it actually retrieves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

import vi_clip
from vi_clip.text import strip_diacritics
from vi_clip_train.vishapes import HELD_OUT_TEMPLATE, caption, sample_scene
from vi_clip_train.vishapes.render import render

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
