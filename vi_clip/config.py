"""Architecture descriptions as data: a JSON file under model_configs/ read into these dataclasses."""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ImageTowerConfig:
    """A timm model; `timm_kwargs` go straight to `timm.create_model` (depths, widths, img_size...)."""

    timm_model: str
    pretrained: bool = False
    weights: str | None = None  # local file/dir for pretrained weights (timm's pretrained_cfg_overlay)
    image_size: int = 224
    pool: str = "avg"  # "avg": timm's global pool; "flatten": keep the spatial layout (positions matter)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    timm_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class TextTowerConfig:
    """A transformers AutoModel, from the hub/a local directory or built from the inline `hf_config`."""

    hf_model: str | None = None  # hub name or local directory, used when `pretrained`
    pretrained: bool = False
    hf_config: dict[str, Any] = field(default_factory=dict)  # model_type + hyper-parameters
    tokenizer: str = "bytelevel"  # "bytelevel": our own, trained on captions; else hub name or directory
    segment: str = "none"  # "none" | "underthesea" | "pyvi"
    max_length: int = 64
    pool: str = "cls"  # "cls": first token's hidden state (as in the seed); "mean": masked mean


@dataclass
class ViClipConfig:
    name: str
    image: ImageTowerConfig
    text: TextTowerConfig
    embed_dim: int = 256
    head_dropout: float = 0.1
    logit_scale_init: float = math.log(1 / 0.07)  # CLIP's initial temperature
    learn_logit_scale: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ViClipConfig:
        data = copy.deepcopy(data)
        image = data.pop("image")
        text = data.pop("text")
        for key in ("mean", "std"):
            if key in image:
                image[key] = tuple(image[key])
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(image=ImageTowerConfig(**image), text=TextTowerConfig(**text), **data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides win; nested dicts merge key by key, so `text={"hf_config": {"num_hidden_layers": 1}}`
    shrinks one field and keeps the rest."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
