"""Where a checkpoint comes from (directory, registry, object storage) and how it is run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch

from services.common.checkpoints import CheckpointError, store_prefix
from services.common.settings import StorageSettings
from services.common.storage import ObjectStore, open_store
from services.encoder.loading import load_runner
from services.encoder.runner import ModelRunner, resolve_dtype
from services.encoder.settings import EncoderSettings

if TYPE_CHECKING:
    from vi_clip import ViClip

TEXTS = ["một con mèo đen", "hình vuông màu đỏ ở góc trên bên trái"]


def _upload(store: ObjectStore, checkpoint: Path, prefix: str) -> None:
    for path in sorted(p for p in checkpoint.rglob("*") if p.is_file()):
        store.put(f"{prefix}/{path.relative_to(checkpoint).as_posix()}", path.read_bytes())


def test_store_prefixes() -> None:
    assert store_prefix("store:models/a/") == "models/a"
    assert store_prefix("s3:models/a") == "models/a"
    assert store_prefix("checkpoints/vi-tiny") is None


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_checkpoint_in_storage_loads_the_same_model(
    backend: str, checkpoint: Path, reference: ViClip, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    storage: StorageSettings = (
        StorageSettings(backend="local", local_root=tmp_path / "store")
        if backend == "local"
        else request.getfixturevalue("s3_settings")
    )
    store = open_store(storage)
    _upload(store, checkpoint, "models/vi-tiny-seeded")
    settings = EncoderSettings(model="store:models/vi-tiny-seeded", model_cache_dir=tmp_path / "cache")
    runner = load_runner(settings, store)
    assert runner.model.version == reference.version
    np.testing.assert_allclose(runner.encode_texts(TEXTS), reference.encode_text(TEXTS).numpy(), atol=1e-6)


def test_an_empty_storage_prefix_fails_with_its_name(tmp_path: Path) -> None:
    store = open_store(StorageSettings(backend="local", local_root=tmp_path))
    with pytest.raises(CheckpointError, match="models/none"):
        load_runner(EncoderSettings(model="store:models/none", model_cache_dir=tmp_path / "c"), store)


def test_weights_that_do_not_match_the_recorded_version_are_refused(checkpoint: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(checkpoint, tmp_path / "ckpt"))
    config = json.loads((copy / "config.json").read_text())
    config["version"] = "000000000000"
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="000000000000"):
        load_runner(EncoderSettings(model=str(copy)), None)


def test_an_unknown_model_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="vi-tiny"):
        load_runner(EncoderSettings(model="no-such-model"), None)


def test_dtype_defaults_follow_the_device() -> None:
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    assert resolve_dtype("float16", torch.device("cpu")) == torch.float16


def test_bf16_autocast_stays_close_to_fp32(reference: ViClip) -> None:
    exact = ModelRunner(reference, torch.float32).encode_texts(TEXTS)
    fast = ModelRunner(reference, torch.bfloat16).encode_texts(TEXTS)
    assert fast.dtype == np.float32
    assert (exact * fast).sum(axis=1).min() > 0.98  # cosine to the fp32 vector


def test_compiled_towers_give_the_same_vectors(checkpoint: Path, reference: ViClip) -> None:
    # The eager backend checks the wiring of `compile` without paying for code generation on CPU.
    settings = EncoderSettings(model=str(checkpoint), compile=True, compile_backend="eager")
    runner = load_runner(settings, None)
    assert runner.info().compiled and runner.model.version == reference.version
    pixels = [torch.rand(3, reference.image_size, reference.image_size) for _ in range(3)]
    np.testing.assert_allclose(
        runner.encode_pixels(pixels), reference.encode_image(torch.stack(pixels)).numpy(), atol=1e-5
    )


def test_torch_threads_setting_caps_cpu_threads(checkpoint: Path) -> None:
    before = torch.get_num_threads()
    try:
        load_runner(EncoderSettings(model=str(checkpoint), torch_threads=1), None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
