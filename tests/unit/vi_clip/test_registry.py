"""Every registered architecture builds, embeds, normalises, and treats NFC and NFD text alike."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
import torch

import vi_clip

TinyModel = Callable[..., vi_clip.ViClip]
CAPTION = "Một người đàn ông đang chơi quần vợt trên sân, ở góc trên bên trái."


def test_the_seed_architectures_and_the_tiny_one_are_registered() -> None:
    assert {
        "vi-swin-b-phobert-base",
        "vi-swin-b-phobert-large",
        "vi-convnextv2-phobert-base",
        "vi-efficientnet-b0-phobert-base",
        "vi-tiny",
    } <= set(vi_clip.list_models())


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="vi-tiny") as err:
        vi_clip.create_model("vi-does-not-exist")
    assert "vi-swin-b-phobert-base" in str(err.value)


def test_each_architecture_embeds_unit_vectors(model_name: str, tiny_model: TinyModel) -> None:
    model = tiny_model(model_name)
    pixels = torch.randn(2, 3, model.image_size, model.image_size)
    img = model.encode_image(pixels)
    txt = model.encode_text([CAPTION, "hình tròn màu đỏ"])
    for emb in (img, txt):
        assert emb.shape == (2, model.embed_dim) == (2, 24)
        assert emb.dtype == torch.float32
        torch.testing.assert_close(emb.norm(dim=-1), torch.ones(2))
    assert not torch.allclose(txt[0], txt[1])


def test_each_architecture_gives_nfc_and_nfd_the_same_vector(model_name: str, tiny_model: TinyModel) -> None:
    model = tiny_model(model_name)
    nfc, nfd = unicodedata.normalize("NFC", CAPTION), unicodedata.normalize("NFD", CAPTION)
    assert nfc != nfd
    emb = model.encode_text([nfc, nfd])
    torch.testing.assert_close(emb[0], emb[1], rtol=0, atol=0)


def test_architectures_never_share_a_version(tiny_model: TinyModel) -> None:
    versions = {name: tiny_model(name).version for name in vi_clip.list_models(backend="vi_clip")}
    assert all(len(v) == 12 for v in versions.values())
    assert len(set(versions.values())) == len(versions)


def test_image_transform_matches_the_tower_input(tiny_model: TinyModel) -> None:
    from PIL import Image

    model = tiny_model("vi-tiny")
    x = model.image_transform(Image.new("RGB", (50, 80), (255, 0, 0)))
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert model.encode_image(x[None]).shape == (1, 24)
