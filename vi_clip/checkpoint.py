"""Checkpoint directories (config.json, model.safetensors, tokenizer/, metrics.json) and model versions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save

if TYPE_CHECKING:
    from .encoder import DualEncoder
    from .model import ViClip

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


def _vector_relevant_config(model: ViClip) -> dict[str, Any]:
    """Everything besides weights and tokenizer that changes the vectors; names and provenance do not."""
    cfg = model.config
    return {
        "embed_dim": cfg.embed_dim,
        "image": [cfg.image.image_size, cfg.image.pool, list(cfg.image.mean), list(cfg.image.std)],
        "text": [cfg.text.pool, cfg.text.segment, cfg.text.max_length],
    }


def compute_version(model: ViClip, weights: bytes | None = None) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(_vector_relevant_config(model), sort_keys=True).encode())
    digest.update(json.dumps(model.pipeline.tokenizer.get_vocab(), sort_keys=True).encode())
    digest.update(weights if weights is not None else save(fp32_state_dict(model)))
    return digest.hexdigest()[:12]


def checkpoint_config(model: ViClip) -> dict[str, Any]:
    """The model's config as a self-contained checkpoint config: towers built from it need no hub."""
    data = model.config.to_dict()
    data["image"]["pretrained"] = False
    data["text"]["pretrained"] = False
    data["text"]["hf_config"] = model.text_encoder.hf_config_dict()
    return data


def save_checkpoint(model: DualEncoder, directory: str | Path, metrics: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint that `create_model(directory)` loads back bit for bit (any backend)."""
    from .backends import PretrainedEncoder
    from .model import ViClip

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    weights = save(fp32_state_dict(model))
    tokenizer_dir = out / TOKENIZER_DIR
    if isinstance(model, ViClip):
        version = compute_version(model, weights)
        model._weights_version = version
        config = checkpoint_config(model)
        model.pipeline.tokenizer.save_pretrained(str(tokenizer_dir))
    elif isinstance(model, PretrainedEncoder):
        model._weights_version = None  # training changed the weights since the version was last read
        version = model.version
        config = model.checkpoint_config()
        tokenizer_dir.mkdir(exist_ok=True)
        model.save_text_assets(tokenizer_dir)
        if not any(tokenizer_dir.iterdir()):  # OpenCLIP's bundled BPE needs no files
            tokenizer_dir.rmdir()
    else:
        raise TypeError(f"cannot save a {type(model).__name__}")
    (out / WEIGHTS_FILE).write_bytes(weights)
    config = {**config, "version": version}
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
