"""ViClip: the dual encoder that maps Vietnamese text and images into one L2-normalised space."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import weights_bytes
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
            self._weights_version = self.refresh_version(weights_bytes(self))
        return self._weights_version

    def refresh_version(self, weights: bytes) -> str:
        digest = hashlib.sha256()
        digest.update(json.dumps(self._vector_relevant_config(), sort_keys=True).encode())
        digest.update(json.dumps(self.pipeline.tokenizer.get_vocab(), sort_keys=True).encode())
        digest.update(weights)
        self._weights_version = digest.hexdigest()[:12]
        return self._weights_version

    def _vector_relevant_config(self) -> dict[str, Any]:
        """Everything besides weights and tokenizer that changes the vectors; names and provenance do not."""
        cfg = self.config
        return {
            "embed_dim": cfg.embed_dim,
            "image": [cfg.image.image_size, cfg.image.pool, list(cfg.image.mean), list(cfg.image.std)],
            "text": [cfg.text.pool, cfg.text.segment, cfg.text.max_length],
        }

    def checkpoint_config(self) -> dict[str, Any]:
        """The config with the towers' resolved configs inline and nothing to fetch from a hub."""
        data = self.config.to_dict()
        data["image"]["pretrained"] = False
        data["text"]["pretrained"] = False
        data["text"]["hf_config"] = self.text_encoder.hf_config_dict()
        return data

    def save_text_assets(self, directory: Path) -> None:
        self.pipeline.tokenizer.save_pretrained(str(directory))

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
