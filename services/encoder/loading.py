"""Finding the checkpoint the settings name and building the model from it through `vi_clip`.

`ENCODER_MODEL` is a checkpoint directory, a registered model name, or `store:<prefix>` (also
`s3:<prefix>`): a checkpoint kept in object storage, copied to a local cache first.
"""

from __future__ import annotations

from pathlib import Path

import torch

from services.common.checkpoints import CheckpointError, fetch_checkpoint, recorded_version, store_prefix
from services.common.storage import ObjectStore
from services.encoder.runner import ModelRunner, resolve_dtype
from services.encoder.settings import EncoderSettings


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
    runner.plan_threads(settings.parallel_min_ms / 1000, settings.effective_max_batch)
    return runner
