"""`DualEncoder`: the surface every model family shares, so serving, evaluation, training and saving
never ask which backend (our own towers, OpenCLIP, Hugging Face CLIP/SigLIP) they hold."""

from __future__ import annotations

import types
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import TOKENIZER_DIR, weights_bytes, write_checkpoint
from .transforms import ImageTransform


class DualEncoder(nn.Module, ABC):
    """An image tower and a text tower mapping into one L2-normalised space.

    `image_encoder` and `text_encoder` are the towers as modules (frozen, compiled or given their
    own learning rate as a whole); everything else (heads, temperature) belongs to neither.
    """

    backend: str
    name: str
    image_transform: ImageTransform
    image_encoder: nn.Module
    text_encoder: nn.Module
    # Relevance calibration from the checkpoint (`calibration.json`): a cosine `threshold` above
    # which a result is a strong match. None for a model that was never calibrated.
    calibration: dict[str, Any] | None = None

    @property
    def relevance_threshold(self) -> float | None:
        return float(self.calibration["threshold"]) if self.calibration else None

    @property
    def exclusion_threshold(self) -> float | None:
        """The cosine at or above which an image may match a text: the 95th percentile of the
        non-matching pairs' scores, so leaving out what reaches it leaves out nearly every true match
        and about 5% of the rest. None without a calibration that measured it."""
        pairs = (self.calibration or {}).get("non_matching_pairs") or {}
        return float(pairs["q95"]) if "q95" in pairs else None

    @property
    @abstractmethod
    def version(self) -> str:
        """Hash of everything that changes the vectors: equal versions mean interchangeable vectors."""

    @abstractmethod
    def refresh_version(self, weights: bytes) -> str:
        """`version` recomputed for the weights the model has now (`weights`: them serialised in fp32,
        for a family that hashes those bytes); saving calls it, as training changed the weights."""

    @abstractmethod
    def checkpoint_config(self) -> dict[str, Any]:
        """A config that rebuilds this model from its checkpoint directory alone, without a hub."""

    @abstractmethod
    def save_text_assets(self, directory: Path) -> None:
        """Write the tokenizer (and whatever the text tower needs to be rebuilt) to `directory`."""

    @property
    @abstractmethod
    def embed_dim(self) -> int: ...

    @property
    @abstractmethod
    def image_size(self) -> int: ...

    @property
    @abstractmethod
    def device(self) -> torch.device: ...

    @property
    @abstractmethod
    def dtype(self) -> torch.dtype: ...

    @abstractmethod
    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Normalise and tokenise on the CPU (move to the device with `encode_tokens`)."""

    @abstractmethod
    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels on the model's device -> [N, D] projected, not yet normalised."""

    @abstractmethod
    def text_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """A tokenised batch -> [N, D] projected, not yet normalised."""

    @torch.inference_mode()
    def encode_tokens(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return F.normalize(self.text_features(batch).float(), dim=-1)

    @torch.inference_mode()
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """Raw strings -> [N, D] float32 unit vectors (NFC, clean-up and segmentation included)."""
        return self.encode_tokens(self.tokenize(texts))

    @torch.inference_mode()
    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """Preprocessed pixels [N,3,H,W] (see `image_transform`) -> [N, D] float32 unit vectors."""
        pixels = pixels.to(self.device, self.dtype)
        return F.normalize(self.image_features(pixels).float(), dim=-1)

    def freeze(self, *, image: bool = False, text: bool = False) -> None:
        """Freeze whole towers: no gradients, and eval mode for good, so a frozen tower's BatchNorm
        running statistics (and its dropout) stay as they are through every later `train()`."""
        for frozen, tower in ((image, self.image_encoder), (text, self.text_encoder)):
            if frozen:
                tower.requires_grad_(False)
                tower.eval()
                tower.train = types.MethodType(_stays_in_eval, tower)  # type: ignore[method-assign]

    @abstractmethod
    def forward(
        self, pixels: torch.Tensor, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Normalised image and text embeddings and the logit scale, for the contrastive loss."""


def _stays_in_eval(self: nn.Module, mode: bool = True) -> nn.Module:
    """`train()` of a frozen tower: the parent's `train()` reaches it and changes nothing."""
    return self


def save_checkpoint(model: DualEncoder, directory: str | Path, metrics: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint that `create_model(directory)` loads back bit for bit (any family)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    weights = weights_bytes(model)
    version = model.refresh_version(weights)
    tokenizer_dir = out / TOKENIZER_DIR
    tokenizer_dir.mkdir(exist_ok=True)
    model.save_text_assets(tokenizer_dir)
    if not any(tokenizer_dir.iterdir()):  # OpenCLIP's bundled BPE needs no files
        tokenizer_dir.rmdir()
    return write_checkpoint(out, weights, {**model.checkpoint_config(), "version": version}, metrics)
