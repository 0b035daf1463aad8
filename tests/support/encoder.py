"""Factories for encoder tests: a small checkpoint with fixed weights, and waiting for a loaded model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.common.storage import ObjectStore


@dataclass
class EncoderProcess:
    """A running encoder: its URL, its pid (to read its memory) and the bucket it reads keys from."""

    url: str
    pid: int
    store: ObjectStore


def tiny_checkpoint(directory: Path, seed: int = 0) -> Path:
    """Seeded `vi-tiny` saved as a checkpoint, so a server and a test load the very same model."""
    import torch

    from vi_clip import create_model, save_checkpoint

    torch.manual_seed(seed)
    return save_checkpoint(create_model("vi-tiny"), directory)
