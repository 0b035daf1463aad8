"""Checkpoints round-trip exactly, and versions identify weights (not names or dtypes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import vi_clip
from vi_clip.tokenizer import train_bytelevel_tokenizer

TinyModel = Callable[..., vi_clip.ViClip]
TEXTS = ["hai ngôi sao màu vàng ở giữa", "hinh tron mau do", "một trái tim nhỏ màu tím"]


def test_checkpoint_round_trip_gives_identical_embeddings(tmp_path: Path, tiny_model: TinyModel) -> None:
    model = tiny_model("vi-tiny")
    pixels = torch.randn(3, 3, model.image_size, model.image_size)
    out = vi_clip.save_checkpoint(model, tmp_path / "ck", metrics={"t2i_r1": 0.5})
    assert {"config.json", "model.safetensors", "metrics.json", "tokenizer"} <= {
        p.name for p in out.iterdir()
    }
    loaded = vi_clip.create_model(str(out))
    assert loaded.version == model.version == json.loads((out / "config.json").read_text())["version"]
    torch.testing.assert_close(loaded.encode_text(TEXTS), model.encode_text(TEXTS), rtol=0, atol=0)
    torch.testing.assert_close(loaded.encode_image(pixels), model.encode_image(pixels), rtol=0, atol=0)
    assert json.loads((out / "metrics.json").read_text()) == {"t2i_r1": 0.5}


def test_trained_tokenizer_is_saved_and_restored(tmp_path: Path) -> None:
    corpus = ["ngôi sao màu vàng ở giữa", "hình tròn màu đỏ ở bên trái"] * 50
    tok = train_bytelevel_tokenizer(corpus, vocab_size=300)
    model = vi_clip.create_model("vi-tiny", tokenizer=tok)
    loaded = vi_clip.create_model(str(vi_clip.save_checkpoint(model, tmp_path / "ck")))
    assert loaded.pipeline.tokenizer.get_vocab() == tok.get_vocab()
    assert len(loaded.tokenize(["ngôi sao màu vàng"])["input_ids"][0]) < len("ngôi sao màu vàng")


def test_version_ignores_dtype_and_name_but_not_weights(tmp_path: Path, tiny_model: TinyModel) -> None:
    model = tiny_model("vi-tiny")
    out = vi_clip.save_checkpoint(model, tmp_path / "ck")
    assert vi_clip.create_model(str(out), dtype=torch.bfloat16).version == model.version
    assert vi_clip.create_model(str(out), name="renamed").version == model.version
    state = load_file(str(out / "model.safetensors"))
    state["logit_scale"] = state["logit_scale"] + 1.0
    save_file(state, str(out / "model.safetensors"))
    assert vi_clip.create_model(str(out)).version != model.version


def test_missing_tensor_is_an_error_not_random_weights(tmp_path: Path, tiny_model: TinyModel) -> None:
    out = vi_clip.save_checkpoint(tiny_model("vi-tiny"), tmp_path / "ck")
    state = load_file(str(out / "model.safetensors"))
    del state["text_projection.fc.weight"]
    save_file(state, str(out / "model.safetensors"))
    with pytest.raises(RuntimeError, match=r"text_projection\.fc\.weight"):
        vi_clip.create_model(str(out))


def test_checkpoint_config_needs_no_hub(tmp_path: Path, tiny_model: TinyModel) -> None:
    """A PhoBERT-family model saved from hub weights reloads from its folder alone."""
    out = vi_clip.save_checkpoint(tiny_model("vi-swin-b-phobert-base"), tmp_path / "ck")
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["image"]["pretrained"] is False and cfg["text"]["pretrained"] is False
    assert cfg["text"]["hf_config"]["model_type"] == "roberta"
    assert vi_clip.create_model(str(out)).encode_text(TEXTS).shape == (3, 24)


def test_tokenizer_larger_than_the_tower_is_refused() -> None:
    tok = train_bytelevel_tokenizer([f"từ{i} khác{i}" for i in range(400)] * 2, vocab_size=2000)
    with pytest.raises(ValueError, match="tokens"):
        vi_clip.create_model("vi-tiny", tokenizer=tok, text={"hf_config": {"vocab_size": 300}})
