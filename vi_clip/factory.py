"""`create_model`: the one door to a model of any family, by registered name or checkpoint directory.
The only module that knows every family (`FAMILIES`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from .backends import BackendConfig, hf_clip, openclip
from .checkpoint import (
    TOKENIZER_DIR,
    is_checkpoint_dir,
    load_weights,
    read_calibration,
    read_checkpoint_config,
)
from .config import ViClipConfig, deep_merge
from .encoder import DualEncoder
from .model import ViClip
from .registry import get_model_config
from .tokenizer import TextPipeline, load_tokenizer


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """ "auto" picks CUDA when present; anything else is taken as given."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def create_model(
    name_or_checkpoint_dir: str,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    **overrides: Any,
) -> DualEncoder:
    """Build a model in eval mode. Overrides deep-merge into the config, e.g.
    `create_model("vi-tiny", embed_dim=64, text={"hf_config": {"num_hidden_layers": 1}})`.

    A config's `backend` field picks the family (our own towers by default, `openclip`, `hf_clip`).
    `tokenizer` replaces the configured one (training passes a freshly trained tokenizer).
    """
    checkpoint = Path(name_or_checkpoint_dir) if is_checkpoint_dir(name_or_checkpoint_dir) else None
    raw = read_checkpoint_config(checkpoint) if checkpoint else get_model_config(name_or_checkpoint_dir)
    merged = deep_merge(raw, overrides)
    backend = merged.get("backend", OWN)
    if backend not in FAMILIES:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(FAMILIES)}")
    model = FAMILIES[backend](merged, checkpoint, tokenizer)
    if checkpoint:
        load_weights(model, checkpoint)
        model.calibration = read_calibration(checkpoint)
    _ = model.version  # hash the fp32 weights before any dtype cast, so bf16 copies share it
    model.to(device=resolve_device(device), dtype=dtype)
    return model.eval()


def _own_model(
    raw: dict[str, Any], checkpoint: Path | None, tokenizer: PreTrainedTokenizerBase | None
) -> ViClip:
    cfg = ViClipConfig.from_dict({k: v for k, v in raw.items() if k != "backend"})
    if tokenizer is None:
        tokenizer = load_tokenizer(cfg.text.tokenizer, checkpoint / TOKENIZER_DIR if checkpoint else None)
    vocab_limit = cfg.text.hf_config.get("vocab_size")
    if not cfg.text.pretrained and vocab_limit is not None and len(tokenizer) > vocab_limit:
        raise ValueError(f"tokenizer has {len(tokenizer)} tokens but the text tower only {vocab_limit}")
    return ViClip(cfg, TextPipeline(tokenizer, cfg.text.segment, cfg.text.max_length))


def _openclip(raw: dict[str, Any], checkpoint: Path | None, tokenizer: Any | None) -> DualEncoder:
    return openclip.build(BackendConfig.from_dict(raw), checkpoint, tokenizer)


def _hf_clip(raw: dict[str, Any], checkpoint: Path | None, tokenizer: Any | None) -> DualEncoder:
    return hf_clip.build(BackendConfig.from_dict(raw), checkpoint, tokenizer)


OWN = "vi_clip"  # our own towers (ViClip); configs without a `backend` field are these
Builder = Callable[[dict[str, Any], Path | None, Any], DualEncoder]
# Each family's builder, by the `backend` field of a registry entry or checkpoint config.
FAMILIES: dict[str, Builder] = {OWN: _own_model, "openclip": _openclip, "hf_clip": _hf_clip}
