"""A frozen tower takes no gradients and stays in eval mode, BatchNorm statistics included."""

from __future__ import annotations

import torch

import vi_clip


def test_a_frozen_tower_stays_in_eval_through_train() -> None:
    model = vi_clip.create_model("vi-tiny")
    model.freeze(image=True)
    model.train()
    norms = [m for m in model.image_encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in model.image_encoder.modules())
    assert model.text_encoder.training and model.image_projection.training
    assert not any(p.requires_grad for p in model.image_encoder.parameters())
    assert all(p.requires_grad for p in model.text_encoder.parameters())
    before = [m.running_mean.clone() for m in norms]
    side = model.image_size
    model.image_features(torch.rand(4, 3, side, side))
    assert all(torch.equal(b, m.running_mean) for b, m in zip(before, norms, strict=True))


def test_freezing_the_text_tower_leaves_the_image_tower_training() -> None:
    model = vi_clip.create_model("vi-tiny")
    model.freeze(text=True)
    model.train()
    assert not model.text_encoder.training and model.image_encoder.training
    assert not any(p.requires_grad for p in model.text_encoder.parameters())
