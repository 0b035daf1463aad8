"""Shared fixtures for the model tests: tiny versions of every registered architecture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import vi_clip

# Shrinking rules per timm family, so the real architectures build in a second with random
# weights. A new family without a rule is still built (and tested) at its own size.
TINY_IMAGE_TOWERS: dict[str, dict[str, Any]] = {
    "swin": {
        "img_size": 32,
        "patch_size": 4,
        "window_size": 4,
        "embed_dim": 16,
        "depths": (1, 1),
        "num_heads": (1, 2),
    },
    "convnextv2": {"depths": (1, 1, 1, 1), "dims": (8, 16, 32, 64)},
    "resnet": {"layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "stem_width": 8},
}
TINY_TEXT = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


def tiny_overrides(name: str) -> dict[str, Any]:
    cfg = vi_clip.get_model_config(name)
    timm_name = cfg["image"]["timm_model"]
    image: dict[str, Any] = {"pretrained": False, "image_size": 32}
    for prefix, kwargs in TINY_IMAGE_TOWERS.items():
        if timm_name.startswith(prefix):
            image["timm_kwargs"] = kwargs
    text = {"pretrained": False, "tokenizer": "bytelevel", "hf_config": TINY_TEXT, "max_length": 32}
    return {"image": image, "text": text, "embed_dim": 24}


def _tiny_model(name: str, **kwargs: Any) -> vi_clip.ViClip:
    return vi_clip.create_model(name, **{**tiny_overrides(name), **kwargs})


@pytest.fixture
def tiny_model() -> Callable[..., vi_clip.ViClip]:
    """`tiny_model(name, **create_model_kwargs)`: a registered architecture, shrunk, random weights."""
    return _tiny_model


@pytest.fixture(params=vi_clip.list_models(backend="vi_clip"))
def model_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)
