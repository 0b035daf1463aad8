"""Training options from a JSON config, flags winning; the shipped UIT-ViIC example parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vi_clip_train.data import ImageRecord
from vi_clip_train.train import autocast, build_model, parse_args, wants_bf16

EXAMPLE = Path(__file__).parents[3] / "vi_clip_train" / "configs" / "uitviic-swin-b-phobert-base.json"


def test_config_file_supplies_required_options_and_flags_win(tmp_path: Path) -> None:
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"train-data": "a.jsonl", "val_data": "b.jsonl", "out": "ck", "epochs": 3}))
    args = parse_args(["--config", str(cfg), "--epochs", "5"])
    assert args.train_data == Path("a.jsonl") and args.val_data == Path("b.jsonl")
    assert args.out == Path("ck") and args.epochs == 5


def test_unknown_config_option_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"learning-rate": 1}))
    with pytest.raises(SystemExit):
        parse_args(["--config", str(cfg)])


def test_shipped_uitviic_example() -> None:
    args = parse_args(["--config", str(EXAMPLE)])
    assert args.model == "vi-swin-b-phobert-base" and args.lr_text == 1e-5 and args.grad_accum == 2
    assert args.train_data.name == "uitviic_captions_train2017.json"


def test_model_overrides_reach_the_architecture(tmp_path: Path) -> None:
    args = parse_args(
        [
            "--train-data",
            "a.jsonl",
            "--val-data",
            "b.jsonl",
            "--out",
            "ck",
            "--model-overrides",
            '{"embed_dim": 32, "text": {"hf_config": {"num_hidden_layers": 1}}}',
        ]
    )
    recs = [ImageRecord(tmp_path / "x.png", ["ngôi sao màu vàng ở giữa"] * 4, "x")]
    model = build_model(args, recs, torch.device("cpu"))
    assert model.embed_dim == 32 and model.config.text.hf_config["num_hidden_layers"] == 1


def test_precision_auto_is_bf16_on_cuda_only() -> None:
    assert not wants_bf16(torch.device("cpu"), "auto")
    assert wants_bf16(torch.device("cuda"), "auto")
    assert wants_bf16(torch.device("cpu"), "bf16")
    assert not wants_bf16(torch.device("cuda"), "fp32")
    assert isinstance(autocast(torch.device("cpu"), "bf16"), torch.autocast)
