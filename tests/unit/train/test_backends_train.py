"""Fine-tuning and evaluation start from any backend: a tiny checkpoint of each pretrained family is
evaluated by the CLI, and one epoch from a SigLIP checkpoint (sigmoid loss) with a frozen image tower
moves the text tower only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import vi_clip
from tests.support.backends import FAMILIES, tiny_backend
from vi_clip_train import evaluate, train
from vi_clip_train.vishapes.__main__ import generate


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("backend-data")
    generate(root, {"train": 32, "val": 8, "test": 8}, seed=2, size=48, workers=1)
    return root


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backend-ckpt")
    torch.manual_seed(0)
    return {f: vi_clip.save_checkpoint(tiny_backend(f, root / "tok"), root / f) for f in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_evaluate_runs_on_every_backend(
    family: str, data: Path, checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    evaluate.main(["--checkpoint", str(checkpoints[family]), "--data", str(data / "test/captions.jsonl")])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["gallery"] == 8
    assert result["t2i_r1"] <= result["t2i_r5"] <= result["t2i_r10"] and result["t2i_map"] >= result["t2i_r1"]
    assert result["threshold"] is None and result["ood_rejected"] is None  # never calibrated: says so
    assert result["version"] == vi_clip.create_model(str(checkpoints[family])).version


def test_fine_tune_siglip_with_a_frozen_image_tower(
    data: Path, checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    start = checkpoints["hf-siglip"]
    out = tmp_path / "tuned"
    args = ["--model", str(start), "--train-data", str(data / "train/captions.jsonl")]
    args += ["--val-data", str(data / "val/captions.jsonl"), "--out", str(out), "--epochs", "1"]
    args += ["--batch-size", "16", "--lr-text", "1e-3", "--warmup-steps", "1", "--precision", "fp32"]
    train.main([*args, "--freeze-image"])
    before, after = vi_clip.create_model(str(start)), vi_clip.create_model(str(out))
    assert after.backend == "hf_clip" and after.version != before.version
    for (name, a), b in zip(before.state_dict().items(), after.state_dict().values(), strict=True):
        assert torch.equal(a, b) == (not name.startswith(("text_encoder", "logit"))), name


def test_a_frozen_image_tower_keeps_its_batchnorm_statistics(data: Path, tmp_path: Path) -> None:
    """Frozen is no gradients and no running statistics either: the ResNet tower of `vi-tiny` comes out
    of an epoch with every BatchNorm buffer as it went in, while the text tower trains."""
    torch.manual_seed(0)
    start = vi_clip.save_checkpoint(vi_clip.create_model("vi-tiny"), tmp_path / "start")
    out = tmp_path / "tuned"
    args = ["--model", str(start), "--train-data", str(data / "train/captions.jsonl")]
    args += ["--val-data", str(data / "val/captions.jsonl"), "--out", str(out), "--epochs", "1"]
    args += ["--batch-size", "16", "--lr-text", "1e-3", "--warmup-steps", "1", "--precision", "fp32"]
    train.main([*args, "--freeze-image"])
    before, after = vi_clip.create_model(str(start)), vi_clip.create_model(str(out))
    tower_before = before.image_encoder.state_dict()
    tower_after = after.image_encoder.state_dict()
    statistics = [name for name in tower_before if name.endswith(("running_mean", "running_var"))]
    assert statistics  # the tower has BatchNorm layers to keep
    for name, value in tower_before.items():
        assert torch.equal(value, tower_after[name]), name
    text_before, text_after = before.text_encoder.state_dict(), after.text_encoder.state_dict()
    assert any(not torch.equal(value, text_after[name]) for name, value in text_before.items())
