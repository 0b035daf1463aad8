"""Hugging Face backend: CLIP and SigLIP models through transformers (e.g.
`google/siglip-base-patch16-256-multilingual`), from the hub cache or a local directory."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import CONFIG_MAPPING, AutoModel, AutoTokenizer, PretrainedConfig, PreTrainedTokenizerBase

from ..checkpoint import TOKENIZER_DIR
from .base import BackendConfig, Batch, PretrainedEncoder

# Per model type: how its text was tokenised in training. SigLIP pads to the full length and its text
# tower pools the last position without an attention mask; CLIP pads to the longest and masks.
TEXT_STYLE: dict[str, tuple[str, bool]] = {"clip": ("longest", True), "siglip": ("max_length", False)}
PROJECTIONS = {"clip": ("visual_projection", "text_projection"), "siglip": (None, None)}


class HfTower(nn.Module):
    """A transformers vision or text model and the projection after its pooled output (if any)."""

    def __init__(self, body: nn.Module, projection: nn.Module | None, input_name: str) -> None:
        super().__init__()
        self.body = body
        self.projection = projection if projection is not None else nn.Identity()
        self.input_name = input_name

    def forward(self, inputs: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        kwargs: dict[str, Any] = {self.input_name: inputs}
        if attention_mask is not None:
            kwargs["attention_mask"] = attention_mask
        return torch.as_tensor(self.projection(self.body(**kwargs).pooler_output))


class HfClipEncoder(PretrainedEncoder):
    hf_config: PretrainedConfig

    def text_features(self, batch: Batch) -> torch.Tensor:
        mask = batch.get("attention_mask")
        ids = batch["input_ids"].to(self.device)
        return torch.as_tensor(self.text_encoder(ids, None if mask is None else mask.to(self.device)))

    def checkpoint_config(self) -> dict[str, Any]:
        arch = self.hf_config.to_dict()
        for key in ("transformers_version", "architectures", "_name_or_path", "torch_dtype", "dtype"):
            arch.pop(key, None)
        return {**self.config.to_dict(), "tokenizer": None, "arch": arch}


def _hf_model(cfg: BackendConfig) -> Any:
    if cfg.arch is None:
        return AutoModel.from_pretrained(cfg.model)
    arch = copy.deepcopy(cfg.arch)
    model_type = arch.pop("model_type", None)
    if model_type not in CONFIG_MAPPING:
        raise ValueError(f"arch needs a transformers model_type; got {model_type!r}")
    return AutoModel.from_config(CONFIG_MAPPING[model_type](**arch))


def build(
    cfg: BackendConfig, checkpoint: Path | None, tokenizer: PreTrainedTokenizerBase | None
) -> HfClipEncoder:
    model = _hf_model(cfg)
    model_type = str(model.config.model_type)
    if model_type not in TEXT_STYLE:
        raise ValueError(f"unsupported transformers model type {model_type!r}; known: {sorted(TEXT_STYLE)}")
    if tokenizer is None:
        source = str(checkpoint / TOKENIZER_DIR) if checkpoint else cfg.tokenizer or cfg.model
        tokenizer = AutoTokenizer.from_pretrained(source)
    padding, use_mask = TEXT_STYLE[model_type]
    tok = tokenizer

    def tokenize(texts: list[str]) -> Batch:
        enc = tok(texts, padding=padding, truncation=True, max_length=cfg.max_length, return_tensors="pt")
        out = {"input_ids": enc["input_ids"]}
        if use_mask:
            out["attention_mask"] = enc["attention_mask"]
        return out

    image_proj, text_proj = PROJECTIONS[model_type]
    image = HfTower(model.vision_model, getattr(model, image_proj) if image_proj else None, "pixel_values")
    text = HfTower(model.text_model, getattr(model, text_proj) if text_proj else None, "input_ids")
    if image_proj:
        embed_dim = int(model.config.projection_dim)
    else:
        embed_dim = int(model.config.vision_config.hidden_size)
    bias = getattr(model, "logit_bias", None)
    encoder = HfClipEncoder(cfg, image, text, model.logit_scale, bias, embed_dim, tokenizer, tokenize)
    encoder.hf_config = model.config
    return encoder
