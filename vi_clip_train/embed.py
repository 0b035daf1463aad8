"""Embedding a data split with a model, in batches, for validation and evaluation."""

from __future__ import annotations

import torch

from vi_clip import DualEncoder


def embed_images(model: DualEncoder, pixels_u8: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    normalize = model.image_transform.normalize
    chunks = [
        model.encode_image(normalize(pixels_u8[i : i + batch_size]))
        for i in range(0, len(pixels_u8), batch_size)
    ]
    return torch.cat(chunks).cpu()


def embed_texts(model: DualEncoder, texts: list[str], batch_size: int = 256) -> torch.Tensor:
    return torch.cat(
        [model.encode_text(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    ).cpu()
