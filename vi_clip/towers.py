"""The two encoders: any timm model for images, any transformers AutoModel for text."""

from __future__ import annotations

from typing import Any

import timm
import torch
from torch import nn
from transformers import AutoConfig, AutoModel

from . import lean_text
from .config import ImageTowerConfig, TextTowerConfig

POOLS_IMAGE = ("avg", "flatten")
POOLS_TEXT = ("cls", "mean")


class ImageEncoder(nn.Module):
    """timm backbone without classifier; `model` keeps the seed's module name for weight import."""

    def __init__(self, cfg: ImageTowerConfig) -> None:
        super().__init__()
        if cfg.pool not in POOLS_IMAGE:
            raise ValueError(f"unknown image pool {cfg.pool!r}; known: {POOLS_IMAGE}")
        kwargs: dict[str, Any] = dict(cfg.timm_kwargs)
        if cfg.pretrained and cfg.weights:
            kwargs["pretrained_cfg_overlay"] = {"file": cfg.weights}
        self.pool = cfg.pool
        model: Any = timm.create_model(
            cfg.timm_model,
            pretrained=cfg.pretrained,
            num_classes=0,
            global_pool="avg" if cfg.pool == "avg" else "",
            **kwargs,
        )
        if cfg.pool == "avg":
            self.out_dim = int(model.num_features)
        else:
            # The flattened size depends on the feature map; one tiny forward measures it.
            model.eval()
            with torch.no_grad():
                probe = model(torch.zeros(1, 3, cfg.image_size, cfg.image_size))
            model.train()
            self.out_dim = int(probe.flatten(1).shape[1])
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(pixels).flatten(1)


def build_hf_text_model(cfg: TextTowerConfig) -> nn.Module:
    if cfg.pretrained:
        if not cfg.hf_model:
            raise ValueError("a pretrained text tower needs text.hf_model (hub name or local directory)")
        return AutoModel.from_pretrained(cfg.hf_model)
    params = dict(cfg.hf_config)
    model_type = params.pop("model_type", None)
    if model_type is None:
        raise ValueError("text.hf_config needs a model_type to build a tower from scratch")
    return AutoModel.from_config(AutoConfig.for_model(model_type, **params))


class TextEncoder(nn.Module):
    """Sentence vector of a transformers encoder: first token (as the seed) or masked mean."""

    def __init__(self, cfg: TextTowerConfig) -> None:
        super().__init__()
        if cfg.pool not in POOLS_TEXT:
            raise ValueError(f"unknown text pool {cfg.pool!r}; known: {POOLS_TEXT}")
        self.pool = cfg.pool
        model: Any = build_hf_text_model(cfg)
        self.model = model
        self.out_dim = int(model.config.hidden_size)
        self.lean = lean_text.supports(model)  # inference without the transformers call stack

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.lean and not self.training and not torch.is_grad_enabled():
            hidden = lean_text.lean_forward(self.model, input_ids, attention_mask)
        else:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pool == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def hf_config_dict(self) -> dict[str, Any]:
        """The resolved transformers config, stored in checkpoints so loading never needs the hub."""
        drop = {"architectures", "transformers_version", "_name_or_path", "torch_dtype", "dtype"}
        return {k: v for k, v in self.model.config.to_dict().items() if k not in drop}
