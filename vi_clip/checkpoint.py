"""The on-disk layout of a checkpoint directory (config.json, model.safetensors, tokenizer/,
metrics.json, calibration.json): reading and writing each file. A leaf: it knows no model family."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_DIR = "tokenizer"
METRICS_FILE = "metrics.json"
# Score calibration measured on validation data: `{"threshold": float, ...}` (see `vi_clip_train.calibrate`).
CALIBRATION_FILE = "calibration.json"


def is_checkpoint_dir(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / CONFIG_FILE).is_file() and (p / WEIGHTS_FILE).is_file()


def fp32_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """CPU copy with floating tensors in fp32, so a bf16 copy of a model keeps its checkpoint's bytes."""
    return {
        k: (v.detach().to("cpu", torch.float32) if v.is_floating_point() else v.detach().cpu()).clone()
        for k, v in model.state_dict().items()
    }


def weights_bytes(model: torch.nn.Module) -> bytes:
    """The model's fp32 weights as the bytes of `model.safetensors`."""
    return save(fp32_state_dict(model))


def write_checkpoint(
    directory: str | Path, weights: bytes, config: dict[str, Any], metrics: dict[str, Any] | None = None
) -> Path:
    """Write the weights, the config (with its `version`) and, if given, the metrics."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / WEIGHTS_FILE).write_bytes(weights)
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if metrics is not None:
        text = json.dumps(metrics, indent=2, ensure_ascii=False) + "\n"
        (out / METRICS_FILE).write_text(text, encoding="utf-8")
    return out


def read_checkpoint_config(directory: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(directory) / CONFIG_FILE).read_text(encoding="utf-8"))
    data.pop("version", None)
    return data


def read_calibration(directory: str | Path) -> dict[str, Any] | None:
    """The checkpoint's relevance calibration, or None when it was never calibrated."""
    path = Path(directory) / CALIBRATION_FILE
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    threshold = data.get("threshold")
    if not isinstance(threshold, int | float) or not -1.0 <= threshold <= 1.0:
        raise ValueError(f"{path}: `threshold` must be a number in [-1, 1], got {threshold!r}")
    return data


def write_calibration(directory: str | Path, calibration: dict[str, Any]) -> Path:
    path = Path(directory) / CALIBRATION_FILE
    path.write_text(json.dumps(calibration, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    read_calibration(directory)
    return path


def load_weights(model: torch.nn.Module, directory: str | Path) -> None:
    """Strict load: a missing or unexpected tensor is an error, never silently random weights."""
    state = load_file(str(Path(directory) / WEIGHTS_FILE))
    model.load_state_dict(state, strict=True)
