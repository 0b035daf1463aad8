"""Every pretrained backend family, tiny and random, behaves like our own model: unit vectors of the
right size, NFC = NFD, a checkpoint that loads back bit for bit, and a version of its own."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
import torch

import vi_clip
from deploy.harness.backends import EMBED_DIM, FAMILIES, IMAGE_SIZE, tiny_backend
from vi_clip.backends import BackendConfig
from vi_clip.factory import FAMILIES as BACKEND_FAMILIES

CAPTION = "Một người đàn ông đang chơi quần vợt trên sân, ở góc trên bên trái."


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-tokenizer")


@pytest.fixture(scope="module")
def models(tokenizer_dir: Path) -> dict[str, Any]:
    torch.manual_seed(0)
    return {family: tiny_backend(family, tokenizer_dir) for family in FAMILIES}


@pytest.mark.parametrize("name", vi_clip.list_models())
def test_every_registry_entry_names_a_known_backend_and_real_weights(name: str) -> None:
    raw = vi_clip.get_model_config(name)
    backend = raw.get("backend", "vi_clip")
    if backend == "vi_clip":
        return
    cfg = BackendConfig.from_dict(raw)
    assert cfg.backend in BACKEND_FAMILIES and cfg.arch is None
    if cfg.backend == "openclip":
        import open_clip

        assert cfg.pretrained in open_clip.list_pretrained_tags_by_model(cfg.model)
        pre = open_clip.get_pretrained_cfg(cfg.model, str(cfg.pretrained))
        assert tuple(pre["mean"]) == cfg.image.mean and pre["resize_mode"] == cfg.image.resize


@pytest.mark.parametrize("family", FAMILIES)
def test_embeds_unit_vectors(family: str, models: dict[str, Any]) -> None:
    model = models[family]
    assert model.embed_dim == EMBED_DIM and model.image_size == IMAGE_SIZE
    img = model.encode_image(torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE))
    txt = model.encode_text([CAPTION, "hình tròn màu đỏ"])
    for emb in (img, txt):
        assert emb.shape == (2, EMBED_DIM) and emb.dtype == torch.float32
        torch.testing.assert_close(emb.norm(dim=-1), torch.ones(2))
    assert not torch.allclose(txt[0], txt[1])


@pytest.mark.parametrize("family", FAMILIES)
def test_nfc_and_nfd_give_the_same_vector(family: str, models: dict[str, Any]) -> None:
    nfc, nfd = unicodedata.normalize("NFC", CAPTION), unicodedata.normalize("NFD", CAPTION)
    assert nfc != nfd
    emb = models[family].encode_text([nfc, nfd])
    torch.testing.assert_close(emb[0], emb[1], rtol=0, atol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_checkpoint_round_trip_keeps_vectors_and_version(
    family: str, models: dict[str, Any], tmp_path: Path
) -> None:
    from PIL import Image

    model = models[family]
    before = model.version
    loaded = vi_clip.create_model(str(vi_clip.save_checkpoint(model, tmp_path / family)))
    assert loaded.version == before == model.version and loaded.backend == model.backend
    pixels = loaded.image_transform(Image.new("RGB", (50, 80), (200, 30, 0)))[None]
    torch.testing.assert_close(loaded.encode_image(pixels), model.encode_image(pixels), rtol=0, atol=0)
    torch.testing.assert_close(loaded.encode_text([CAPTION]), model.encode_text([CAPTION]), rtol=0, atol=0)


def test_no_two_models_share_a_version(models: dict[str, Any], tokenizer_dir: Path) -> None:
    versions = [m.version for m in models.values()]
    versions.append(vi_clip.create_model("vi-tiny").version)
    torch.manual_seed(1)  # same family, other weights
    versions.append(tiny_backend("hf-siglip", tokenizer_dir).version)
    assert len(set(versions)) == len(versions)
    for family, model in models.items():
        assert model.version.startswith(model.backend + "-"), family


def test_bf16_copy_keeps_the_fp32_version(tokenizer_dir: Path) -> None:
    torch.manual_seed(0)
    fp32 = tiny_backend("hf-siglip", tokenizer_dir)
    torch.manual_seed(0)
    bf16 = tiny_backend("hf-siglip", tokenizer_dir, dtype=torch.bfloat16)
    assert bf16.version == fp32.version and bf16.dtype == torch.bfloat16


def test_training_forward_gives_gradients_to_both_towers(models: dict[str, Any]) -> None:
    model = models["openclip-xlmr"]
    model.train()
    img, txt, scale = model(torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE), model.tokenize([CAPTION, "xe"]))
    (scale * img @ txt.T).logsumexp(-1).sum().backward()
    model.eval()
    for tower in (model.image_encoder, model.text_encoder):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tower.parameters())
    model.zero_grad(set_to_none=True)


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="openclip"):
        vi_clip.create_model("vi-tiny", backend="onnx", model="x")
