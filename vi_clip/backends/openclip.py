"""OpenCLIP backend: any `open_clip` architecture and pretrained tag (or weights file), including the
multilingual `xlm-roberta-*-ViT-*` models, behind the `DualEncoder` surface."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import TOKENIZER_DIR
from .base import BackendConfig, Batch, PretrainedEncoder


def _tokenizer(arch: dict[str, Any], override: str | None) -> Any:
    """HF tokenizers (XLM-R, Gemma, T5...) through OpenCLIP's wrapper, with the clean-up mode the
    weights were trained with; OpenCLIP's bundled BPE otherwise. Both work offline from a directory."""
    from open_clip.tokenizer import HFTokenizer, SimpleTokenizer

    text_cfg = arch["text_cfg"]
    context_length = int(text_cfg.get("context_length", 77))
    kwargs = dict(text_cfg.get("tokenizer_kwargs", {}))
    name = override or text_cfg.get("hf_tokenizer_name")
    if name:
        mode = text_cfg.get("tokenizer_mode")
        return HFTokenizer(str(name), context_length=context_length, tokenizer_mode=mode, **kwargs)
    return SimpleTokenizer(context_length=context_length, **kwargs)


def _build_towers(cfg: BackendConfig, checkpoint: Path | None) -> tuple[Any, dict[str, Any]]:
    """The OpenCLIP model (always the `CustomTextCLIP` layout, so the text tower is one module) and its
    resolved architecture."""
    import open_clip
    from open_clip.model import CustomTextCLIP

    if cfg.arch is None:
        arch = open_clip.get_model_config(cfg.model)
        if arch is None:
            raise ValueError(f"unknown OpenCLIP architecture {cfg.model!r}; see open_clip.list_models()")
        # A tag is fetched from the hub cache, a path read from disk; without one the towers stay random.
        model = open_clip.create_model(
            cfg.model, pretrained=cfg.pretrained, force_custom_text=True, pretrained_text=False
        )
        return model, copy.deepcopy(arch)
    arch = copy.deepcopy(cfg.arch)
    arch.pop("custom_text", None)
    text_cfg = arch["text_cfg"]
    if checkpoint is not None:  # the tokenizer and the text tower's HF config were saved together
        for key in ("hf_model_name", "hf_tokenizer_name"):
            if key in text_cfg:
                text_cfg[key] = str(checkpoint / TOKENIZER_DIR)
    if "hf_model_name" in text_cfg:
        text_cfg["hf_model_pretrained"] = False
    model = CustomTextCLIP(**arch)
    if cfg.pretrained and checkpoint is None:
        open_clip.load_checkpoint(model, cfg.pretrained, strict=True)
    return model, arch


class OpenClipEncoder(PretrainedEncoder):
    """`image_encoder` is OpenCLIP's `visual`, `text_encoder` its `text`; the temperature (and SigLIP's
    bias) are the model's own."""

    arch: dict[str, Any]

    def text_features(self, batch: Batch) -> torch.Tensor:
        return torch.as_tensor(self.text_encoder(batch["input_ids"].to(self.device)))

    def checkpoint_config(self) -> dict[str, Any]:
        arch = copy.deepcopy(self.arch)
        text_cfg = arch["text_cfg"]
        for key in ("hf_model_name", "hf_tokenizer_name"):  # rebuilt from the checkpoint's tokenizer/
            if key in text_cfg:
                text_cfg[key] = TOKENIZER_DIR
        text_cfg.pop("hf_model_pretrained", None)
        return {**self.config.to_dict(), "pretrained": None, "tokenizer": None, "arch": arch}

    def save_text_assets(self, directory: Path) -> None:
        super().save_text_assets(directory)
        hf_config = getattr(self.text_encoder, "config", None)
        if hf_config is not None:
            hf_config.save_pretrained(str(directory))


def build(cfg: BackendConfig, checkpoint: Path | None, tokenizer: Any | None) -> OpenClipEncoder:
    if tokenizer is not None:
        raise ValueError("OpenCLIP models take their tokenizer from the config (`tokenizer`: a directory)")
    model, arch = _build_towers(cfg, checkpoint)
    tok = _tokenizer(arch, None if checkpoint else cfg.tokenizer)
    cfg = dataclasses.replace(cfg, max_length=int(tok.context_length))

    def tokenize(texts: list[str]) -> Batch:
        return {"input_ids": tok(texts)}

    bias = model.logit_bias if isinstance(model.logit_bias, torch.nn.Parameter) else None
    encoder = OpenClipEncoder(
        cfg, model.visual, model.text, model.logit_scale, bias, int(arch["embed_dim"]), tok, tokenize
    )
    encoder.arch = arch
    return encoder
