"""Optimiser and schedule: AdamW with one learning rate per part, linear warm-up then cosine decay."""

from __future__ import annotations

import math

import torch
from torch import nn

from vi_clip import DualEncoder


def param_groups(
    model: DualEncoder, lr_image: float, lr_text: float, lr_head: float, weight_decay: float
) -> list[dict[str, object]]:
    """Towers and heads get their own rates (a pretrained tower wants a far smaller one than a fresh
    head). Biases, norms and the temperature get no weight decay, as in CLIP."""
    parts: dict[str, tuple[nn.Module, float]] = {
        "image": (model.image_encoder, lr_image),
        "text": (model.text_encoder, lr_text),
    }
    groups: list[dict[str, object]] = []
    seen: set[int] = set()
    for name, (module, lr) in parts.items():
        params = [p for p in module.parameters() if p.requires_grad]
        seen.update(id(p) for p in module.parameters())
        groups += _split_decay(name, params, lr, weight_decay)
    rest = [p for p in model.parameters() if id(p) not in seen and p.requires_grad]
    groups += _split_decay("head", rest, lr_head, weight_decay)
    return [g for g in groups if g["params"]]


def _split_decay(name: str, params: list[nn.Parameter], lr: float, wd: float) -> list[dict[str, object]]:
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    return [
        {"name": f"{name}", "params": decay, "lr": lr, "weight_decay": wd},
        {"name": f"{name}_no_decay", "params": no_decay, "lr": lr, "weight_decay": 0.0},
    ]


def warmup_cosine(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def sigmoid_loss(
    img: torch.Tensor,
    txt: torch.Tensor,
    scale: torch.Tensor,
    bias: torch.Tensor,
    positives: torch.Tensor | None = None,
) -> torch.Tensor:
    """SigLIP's pairwise loss: every image-caption pair is its own binary match / no-match decision.
    `positives` [texts, images] marks every pair that matches (default: the diagonal)."""
    logits = scale * img.float() @ txt.float().T + bias
    match = torch.eye(len(img), len(txt), device=img.device) if positives is None else positives.T.float()
    return -nn.functional.logsigmoid((2 * match - 1) * logits).sum() / len(img)


def multi_positive_loss(
    img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor, positives: torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE without false negatives: a text may be true of several images of the batch
    (and an image of several texts). Each pair still pulls its own image and text together, but no
    other true pair is pushed apart: they leave the softmax's denominator, so a second image with a
    yellow star is not pushed away from "ngôi sao màu vàng". (Rewarding *any* true image instead
    lets the towers settle on "every short text is near every image", which stalls learning.)

    `positives` [texts, images] bool with a true diagonal; with only the diagonal this is CLIP's loss.
    Texts past the B images' own (hard negatives such as foils) only enter the image→text softmax:
    as negatives of every image they are not true of.
    """
    b = len(img)
    logits = scale * txt.float() @ img.float().T  # [texts, images]
    eye = torch.eye(len(txt), b, dtype=torch.bool, device=logits.device)
    others = positives.to(logits.device) & ~eye
    masked = logits.masked_fill(others, torch.finfo(logits.dtype).min)
    labels = torch.arange(b, device=logits.device)
    return 0.5 * (
        nn.functional.cross_entropy(masked[:b], labels) + nn.functional.cross_entropy(masked.T, labels)
    )


def contrastive_loss(
    img: torch.Tensor,
    txt: torch.Tensor,
    scale: torch.Tensor,
    bias: torch.Tensor | None,
    positives: torch.Tensor | None = None,
) -> torch.Tensor:
    """The loss the model was pre-trained with: sigmoid when it has a logit bias, else InfoNCE
    (multi-positive when `positives` says which texts are true of which images)."""
    if bias is not None:
        return sigmoid_loss(img, txt, scale, bias, positives)
    return (
        clip_loss(img, txt, scale) if positives is None else multi_positive_loss(img, txt, scale, positives)
    )


def no_match_loss(img: torch.Tensor, ood: torch.Tensor, margin: float) -> torch.Tensor:
    """Texts that match no image (about things outside the data) must score below `margin` with
    every image, so one cosine threshold can later say "nothing here matches"."""
    return nn.functional.relu(ood.float() @ img.float().T - margin).mean()


def clip_loss(img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over the batch: each image's caption against all others, and back."""
    logits = scale * img.float() @ txt.float().T
    labels = torch.arange(len(img), device=img.device)
    return 0.5 * (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.T, labels))
