"""The list of known models: every `model_configs/*.json` file is one, named after the file; its
`backend` field (default: our own towers) says which family builds it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).parent / "model_configs"


@cache
def _configs() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(CONFIG_DIR.glob("*.json"))}


def list_models(backend: str | None = None) -> list[str]:
    """Names `create_model` accepts (besides checkpoint directories), optionally of one backend
    (`vi_clip` for our own towers: configs without a `backend` field)."""
    return sorted(
        name
        for name, cfg in _configs().items()
        if backend is None or cfg.get("backend", "vi_clip") == backend
    )


def get_model_config(name: str) -> dict[str, Any]:
    """The raw config of a registered architecture, with its name filled in."""
    configs = _configs()
    if name not in configs:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(configs))}")
    return {"name": name, **json.loads(json.dumps(configs[name]))}
