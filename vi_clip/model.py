"""ViClip: the dual encoder that maps Vietnamese text and images into one L2-normalised space."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ViClipConfig
from .encoder import DualEncoder
from .heads import ProjectionHead
from .tokenizer import TextPipeline
from .towers import ImageEncoder, TextEncoder
from .transforms import ImageTransform

MAX_LOGIT_SCALE = math.log(100.0)  # CLIP's clamp: temperature never below 0.01


class ViClip(DualEncoder):
    """Image tower + text tower + projection heads + learnable temperature.

    Module names (`image_encoder.model`, `text_projection.fc`, ...) follow the seed project's layout.
    """

    backend = "vi_clip"
    image_encoder: ImageEncoder
    text_encoder: TextEncoder

    def __init__(self, cfg: ViClipConfig, pipeline: TextPipeline) -> None:
        super().__init__()
        self.config = cfg
        self.name = cfg.name
        self.pipeline = pipeline
        self.image_encoder = ImageEncoder(cfg.image)
        self.text_encoder = TextEncoder(cfg.text)
        self.image_projection = ProjectionHead(self.image_encoder.out_dim, cfg.embed_dim, cfg.head_dropout)
        self.text_projection = ProjectionHead(self.text_encoder.out_dim, cfg.embed_dim, cfg.head_dropout)
        self.logit_scale = nn.Parameter(
            torch.tensor(float(cfg.logit_scale_init)), requires_grad=cfg.learn_logit_scale
        )
        self.image_transform = ImageTransform(cfg.image.image_size, cfg.image.mean, cfg.image.std)
        self._weights_version: str | None = None

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    @property
    def image_size(self) -> int:
        return self.config.image.image_size

    @property
    def version(self) -> str:
        """Short hash of config + fp32 weights + tokenizer: equal versions mean interchangeable vectors."""
        if self._weights_version is None:
            from .checkpoint import compute_version

            self._weights_version = compute_version(self)
        return self._weights_version

    @property
    def device(self) -> torch.device:
        return self.logit_scale.device

    @property
    def dtype(self) -> torch.dtype:
        return self.image_projection.projection.weight.dtype

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Normalise, segment and tokenise on the CPU (move to the device with `encode_tokens`)."""
        return self.pipeline(list(texts))

    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """Un-normalised image embeddings (training uses these under autocast)."""
        return self.image_projection(self.image_encoder(pixels))

    def text_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        ids = batch["input_ids"].to(self.device)
        mask = batch["attention_mask"].to(self.device)
        return self.text_projection(self.text_encoder(ids, mask))

    def forward(
        self, pixels: torch.Tensor, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Normalised image and text embeddings and the clamped logit scale, for the contrastive loss."""
        img = F.normalize(self.image_features(pixels), dim=-1)
        txt = F.normalize(self.text_features(batch), dim=-1)
        return img, txt, self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
