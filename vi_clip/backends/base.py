"""What pretrained backends share: their config as data, text and image preprocessing, the version
hash, and the encode/forward methods around an image tower and a text tower."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..encoder import DualEncoder
from ..text import normalize_text
from ..transforms import ImageTransform

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
MAX_LOGIT_SCALE = 100.0

Batch = dict[str, torch.Tensor]


@dataclass
class ImagePrep:
    """The eval transform the weights were trained with."""

    image_size: int = 224
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    resize: str = "shortest"  # "shortest": resize + centre crop (CLIP); "squash": to a square (SigLIP)
    interpolation: str = "bicubic"


@dataclass
class BackendConfig:
    """A registry entry or checkpoint config of a pretrained backend (`model_configs/*.json`)."""

    name: str
    backend: str
    model: str  # OpenCLIP architecture, or Hugging Face hub id / local directory
    pretrained: str | None = None  # OpenCLIP tag or weights file; None: random weights
    arch: dict[str, Any] | None = None  # inline architecture (tests, checkpoints); None: the model's own
    tokenizer: str | None = None  # hub id or directory; None: the model's own
    max_length: int = 64
    image: ImagePrep = field(default_factory=ImagePrep)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackendConfig:
        data = copy.deepcopy(data)
        image = data.pop("image", {})
        for key in ("mean", "std"):
            if key in image:
                image[key] = tuple(image[key])
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys for backend {data.get('backend')!r}: {sorted(unknown)}")
        return cls(image=ImagePrep(**image), **data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def vocab_of(tokenizer: Any) -> dict[str, int]:
    """The vocabulary of a transformers tokenizer or of an OpenCLIP one wrapping either kind."""
    candidates: list[Any] = [tokenizer, getattr(tokenizer, "tokenizer", None)]
    for obj in candidates:
        if obj is not None and hasattr(obj, "get_vocab"):
            return dict(obj.get_vocab())
    if hasattr(tokenizer, "encoder"):  # OpenCLIP's own BPE (SimpleTokenizer)
        return dict(tokenizer.encoder)
    raise TypeError(f"cannot read the vocabulary of {type(tokenizer).__name__}")


def hash_weights(digest: Any, module: nn.Module) -> None:
    """Feed every tensor (name, shape, fp32 bytes) to `digest`, one at a time, so a billion-parameter
    model is hashed without a second copy of it in memory."""
    for key, value in sorted(module.state_dict().items()):
        tensor = value.detach().to("cpu", torch.float32 if value.is_floating_point() else value.dtype)
        digest.update(f"{key}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())


class PretrainedEncoder(DualEncoder):
    """Towers from another library behind the `DualEncoder` surface.

    `tokenize_fn` turns normalised strings into the text tower's inputs; `arch` is the resolved
    architecture a checkpoint stores so it can be rebuilt without the hub.
    """

    def __init__(
        self,
        cfg: BackendConfig,
        image_encoder: nn.Module,
        text_encoder: nn.Module,
        logit_scale: nn.Parameter,
        logit_bias: nn.Parameter | None,
        embed_dim: int,
        tokenizer: Any,
        tokenize_fn: Callable[[list[str]], Batch],
    ) -> None:
        super().__init__()
        self.config = cfg
        self.backend = cfg.backend
        self.name = cfg.name
        self.image_encoder = image_encoder
        self.text_encoder = text_encoder
        self.logit_scale = logit_scale
        self.logit_bias = logit_bias
        self.tokenizer = tokenizer
        self._tokenize = tokenize_fn
        self._embed_dim = embed_dim
        prep = cfg.image
        self.image_transform = ImageTransform(
            prep.image_size, prep.mean, prep.std, prep.resize, prep.interpolation
        )
        self._weights_version: str | None = None

    @property
    def embed_dim(self) -> int:
        return self._embed_dim

    @property
    def image_size(self) -> int:
        return self.config.image.image_size

    @property
    def device(self) -> torch.device:
        return self.logit_scale.device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.image_encoder.parameters()).dtype

    @property
    def version(self) -> str:
        """`<backend>-<hash>`: the hash covers preprocessing, tokenizer vocabulary and fp32 weights, so
        the same weights read from the hub or from a local file agree, and nothing else does."""
        if self._weights_version is None:
            self._weights_version = self._hash_version()
        return self._weights_version

    def refresh_version(self, weights: bytes) -> str:
        """Hashed tensor by tensor (see `hash_weights`), not from the serialised `weights`."""
        self._weights_version = self._hash_version()
        return self._weights_version

    def _hash_version(self) -> str:
        digest = hashlib.sha256(self.backend.encode())
        prep = {"image": dataclasses.asdict(self.config.image), "max_length": self.config.max_length}
        digest.update(json.dumps(prep, sort_keys=True).encode())
        digest.update(json.dumps(vocab_of(self.tokenizer), sort_keys=True).encode())
        hash_weights(digest, self)
        return f"{self.backend}-{digest.hexdigest()[:12]}"

    def tokenize(self, texts: list[str]) -> Batch:
        """NFC and clean-up as for our own models, then the backend's tokenizer."""
        return self._tokenize([normalize_text(t) for t in texts])

    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(self.image_encoder(pixels))

    def text_features(self, batch: Batch) -> torch.Tensor:
        inputs = {k: v.to(self.device) for k, v in batch.items()}
        return torch.as_tensor(self.text_encoder(**inputs))

    def forward(self, pixels: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        img = F.normalize(self.image_features(pixels), dim=-1)
        txt = F.normalize(self.text_features(batch), dim=-1)
        return img, txt, self.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)

    def save_text_assets(self, directory: Path) -> None:
        inner = getattr(self.tokenizer, "tokenizer", self.tokenizer)
        if hasattr(inner, "save_pretrained"):
            inner.save_pretrained(str(directory))
