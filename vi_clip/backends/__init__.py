"""Model families besides our own towers, each built from a registry entry or checkpoint config whose
`backend` field names it: `openclip` (open_clip-torch) and `hf_clip` (transformers CLIP/SigLIP)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import hf_clip, openclip
from .base import BackendConfig, PretrainedEncoder

OWN = "vi_clip"  # our own towers (ViClip); configs without a `backend` field are these
Builder = Callable[[BackendConfig, Path | None, Any], PretrainedEncoder]
BACKENDS: dict[str, Builder] = {"openclip": openclip.build, "hf_clip": hf_clip.build}


def build_backend(raw: dict[str, Any], checkpoint: Path | None, tokenizer: Any | None) -> PretrainedEncoder:
    """A pretrained backend model in train mode, weights from the checkpoint's directory if given."""
    backend = raw.get("backend")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join([OWN, *BACKENDS])}")
    return BACKENDS[backend](BackendConfig.from_dict(raw), checkpoint, tokenizer)


__all__ = ["BACKENDS", "OWN", "BackendConfig", "PretrainedEncoder", "build_backend"]
