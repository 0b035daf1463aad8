"""A 1-epoch run on 64 ViShapes-vi images: the CLI writes a loadable checkpoint, resumes, evaluates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vi_clip
from vi_clip_train import evaluate, train
from vi_clip_train.vishapes.__main__ import generate

TINY = {"hf_config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("smoke")
    generate(root / "data", {"train": 64, "val": 16, "test": 16}, seed=1, size=64, workers=1)
    out = root / "ck"
    stdout = _train(root, out, epochs=1)
    return root, out, stdout


def _train(root: Path, out: Path, epochs: int, *extra: str) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        train.main(
            [
                "--train-data",
                str(root / "data/train/captions.jsonl"),
                "--val-data",
                str(root / "data/val/captions.jsonl"),
                "--out",
                str(out),
                "--epochs",
                str(epochs),
                "--batch-size",
                "32",
                "--lr-image",
                "1e-3",
                "--lr-text",
                "1e-3",
                "--warmup-steps",
                "1",
                "--precision",
                "fp32",
                "--tokenizer-vocab",
                "400",
                *extra,
            ]
        )
    return buf.getvalue()


def test_training_writes_a_checkpoint_with_its_curve(run: tuple[Path, Path, str]) -> None:
    _, out, stdout = run
    assert {"config.json", "model.safetensors", "metrics.json", "tokenizer"} <= {
        p.name for p in out.iterdir()
    }
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["best_epoch"] == 1 and len(metrics["history"]) == 1
    assert metrics["val"]["t2i_r1"] == pytest.approx(metrics["history"][0]["t2i_r1"], abs=1e-4)
    assert metrics["train_wall_s"] > 0
    calibration = json.loads((out / "calibration.json").read_text())  # calibrated on the val split
    assert -1.0 <= calibration["threshold"] <= 1.0 and calibration["gallery"] == 16
    assert calibration["method"] == "matching vs non-matching pairs"  # no no-match texts given
    assert json.loads(stdout.strip().splitlines()[-1])["epochs"] == 1
    model = vi_clip.create_model(str(out))
    assert model.encode_text(["ngôi sao màu vàng"]).shape == (1, model.embed_dim)
    assert len(model.pipeline.tokenizer) <= 400


def test_resume_continues_from_the_last_epoch(run: tuple[Path, Path, str]) -> None:
    root, out, _ = run
    _train(root, out, 2, "--resume", "--batch-neighbours", "0.5")  # look-alike batches on the way
    history = json.loads((out.with_name("ck.state") / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]


def test_frozen_tower_does_not_move(run: tuple[Path, Path, str]) -> None:
    root, out, _ = run
    frozen = root / "frozen"
    _train(root, frozen, 1, "--model", str(out), "--freeze-image", "--lr-head", "1e-2")
    a, b = vi_clip.create_model(str(out)), vi_clip.create_model(str(frozen))
    sa, sb = a.image_encoder.state_dict(), b.image_encoder.state_dict()
    assert all((sa[k] == sb[k]).all() for k in sa if "running" not in k and "num_batches" not in k)
    assert not (a.text_projection.fc.weight == b.text_projection.fc.weight).all()


def test_evaluate_prints_the_json_last(
    run: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, out, _ = run
    evaluate.main(["--checkpoint", str(out), "--data", str(root / "data/test/captions.jsonl"), "--faiss"])
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    for d in ("t2i", "i2t", "t2i_no_diacritics"):
        r1, r5, r10 = (result[f"{d[:3]}_r{k}{d[3:]}"] for k in (1, 5, 10))
        assert r1 <= r5 <= r10 and result[f"{d[:3]}_map{d[3:]}"] >= r1  # AP is 1 at rank 1
    assert result["threshold"] == json.loads((out / "calibration.json").read_text())["threshold"]
    assert result["gallery"] == 16 and result["t2i_r10"] >= result["t2i_r1"]
    table = "\n".join(lines)
    assert "| text → image |" in table
    for method in ("Flat", "HNSW", "IVF", "IVF-PQ"):
        assert f"| {method} |" in table
