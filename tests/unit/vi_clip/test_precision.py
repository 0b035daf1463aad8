"""Device and dtype selection and bf16 autocast, exercised on CPU; the CUDA path when a GPU exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import vi_clip
from vi_clip_train.optim import clip_loss
from vi_clip_train.train import autocast

TinyModel = Callable[..., vi_clip.ViClip]
TEXTS = ["ngôi sao màu vàng ở giữa", "hình vuông nhỏ màu đen ở bên phải"]


def test_resolve_device() -> None:
    assert vi_clip.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert vi_clip.resolve_device("auto").type == expected


@pytest.fixture
def tiny_checkpoint(tiny_model: TinyModel, tmp_path: Path) -> str:
    return str(vi_clip.save_checkpoint(tiny_model("vi-tiny"), tmp_path / "ck"))


def test_bf16_model_on_cpu_embeds_close_to_fp32(tiny_checkpoint: str) -> None:
    fp32 = vi_clip.create_model(tiny_checkpoint)
    bf16 = vi_clip.create_model(tiny_checkpoint, dtype=torch.bfloat16)
    assert bf16.dtype == torch.bfloat16
    pixels = torch.randn(2, 3, 32, 32)
    for a, b in (
        (fp32.encode_text(TEXTS), bf16.encode_text(TEXTS)),
        (fp32.encode_image(pixels), bf16.encode_image(pixels)),
    ):
        assert b.dtype == torch.float32
        assert F.cosine_similarity(a, b).min() > 0.98


def test_bf16_autocast_training_step_on_cpu(tiny_model: TinyModel) -> None:
    model = tiny_model("vi-tiny").train()
    pixels = torch.randn(2, 3, 32, 32)
    with autocast(torch.device("cpu"), "bf16"):
        img, txt, scale = model(pixels, model.tokenize(TEXTS))
        assert img.dtype == torch.bfloat16
        loss = clip_loss(img, txt, scale)
    loss.backward()
    assert torch.isfinite(loss)
    assert model.logit_scale.grad is not None
    assert model.text_encoder.model.embeddings.word_embeddings.weight.grad is not None


@pytest.mark.gpu
def test_cuda_bf16_matches_cpu(tiny_checkpoint: str) -> None:
    cpu = vi_clip.create_model(tiny_checkpoint)
    gpu = vi_clip.create_model(tiny_checkpoint, device="cuda", dtype=torch.bfloat16)
    assert gpu.version == cpu.version
    pixels = torch.randn(4, 3, 32, 32)
    assert gpu.encode_image(pixels).device.type == "cuda"
    assert F.cosine_similarity(cpu.encode_image(pixels), gpu.encode_image(pixels).cpu()).min() > 0.98
    assert F.cosine_similarity(cpu.encode_text(TEXTS), gpu.encode_text(TEXTS).cpu()).min() > 0.98
