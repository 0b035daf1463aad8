"""Finding the checkpoint the settings name and building the model from it through `vi_clip`.

`ENCODER_MODEL` is a checkpoint directory, a registered model name, or `store:<prefix>` (also
`s3:<prefix>`): a checkpoint kept in object storage, copied to a local cache first.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import torch

from services.common.storage import ObjectStore
from services.encoder.runner import ModelRunner, resolve_dtype
from services.encoder.settings import EncoderSettings

log = logging.getLogger(__name__)

STORE_SCHEMES = ("store:", "s3:")


class CheckpointError(Exception):
    """The checkpoint is missing, incomplete or does not match its recorded version."""


def store_prefix(source: str) -> str | None:
    """The storage prefix of a `store:`/`s3:` source, or None for a local one."""
    for scheme in STORE_SCHEMES:
        if source.startswith(scheme):
            return source.removeprefix(scheme).strip("/")
    return None


def fetch_checkpoint(store: ObjectStore, prefix: str, cache_dir: Path) -> Path:
    """Copy every object under `prefix` into `cache_dir` (reads verify each object's sha256)."""
    keys = store.list_keys(prefix + "/")
    if not keys:
        raise CheckpointError(f"no checkpoint under {prefix!r} in storage {store.name}")
    target = cache_dir / re.sub(r"[^A-Za-z0-9._-]", "_", prefix)
    for key in keys:
        path = target / key.removeprefix(prefix + "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(store.get(key))
        tmp.replace(path)
    log.info("checkpoint %s copied from storage to %s (%d files)", prefix, target, len(keys))
    return target


def recorded_version(directory: Path) -> str | None:
    config = directory / "config.json"
    if not config.is_file():
        return None
    version = json.loads(config.read_text(encoding="utf-8")).get("version")
    return str(version) if version else None


def load_runner(settings: EncoderSettings, store: ObjectStore | None) -> ModelRunner:
    """Build, place, optionally compile and warm up the model the settings name (blocking)."""
    from vi_clip import create_model, resolve_device  # torch and the towers load here, off import time

    if settings.torch_threads:
        # On a shared or small CPU, fewer threads than cores avoids stalls at every parallel region.
        torch.set_num_threads(settings.torch_threads)
    source = settings.model
    prefix = store_prefix(source)
    if prefix is not None:
        if store is None:
            raise CheckpointError(f"{source!r} names storage, but no store is open")
        source = str(fetch_checkpoint(store, prefix, settings.model_cache_dir))
    device = resolve_device(settings.device)
    model = create_model(source, device=device)
    expected = recorded_version(Path(source))
    if expected is not None and expected != model.version:
        raise CheckpointError(
            f"checkpoint records version {expected} but its weights hash to {model.version}"
        )
    runner = ModelRunner(
        model,
        resolve_dtype(settings.dtype, device),
        compile_backend=settings.compile_backend if settings.compile else None,
    )
    runner.warm_up()
    return runner
