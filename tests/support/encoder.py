"""Factories for encoder tests: a small checkpoint with fixed weights, and waiting for a loaded model."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

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


class _Answer(Protocol):
    status_code: int

    def json(self) -> Any: ...


def wait_ready(get: Callable[[str], _Answer], timeout_s: float = 90.0) -> None:
    """Poll `/readyz` through `get` (an httpx or TestClient `get`) until the model has loaded."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            resp = get("/readyz")
        except httpx.HTTPError as exc:
            last = exc
        else:
            if resp.status_code == 200:
                return
            last = resp.json()
        time.sleep(0.1)
    raise TimeoutError(f"encoder not ready within {timeout_s:g}s: {last}")
