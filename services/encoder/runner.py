"""The model at work: text and pixel forwards under `inference_mode`, autocast on accelerators.

Every method here blocks; the service calls them from its single model thread (forwards) or its
preprocessing pool (`preprocess`), never from the event loop.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

import numpy as np
import torch

from services.common.images import decode_image
from services.common.schemas.encoder import ModelInfo
from services.encoder.threads import KINDS, ThreadPlan, measure_parallel_from

if TYPE_CHECKING:
    from vi_clip import DualEncoder

log = logging.getLogger(__name__)

PLAN_TEXT = "hai ngôi sao màu vàng ở bên trái"  # a query of typical length, for measuring forwards
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """`auto`: bfloat16 on CUDA (fp32 range, half the bandwidth), float32 on CPU (exact)."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return DTYPES[name]


class ModelRunner:
    """One loaded model (any backend) with the precision and compilation it serves with.

    Weights stay in float32 and the forwards run under autocast, so layer norms and the final
    normalisation keep full precision while matmuls use the fast dtype.
    """

    def __init__(self, model: DualEncoder, dtype: torch.dtype, *, compile_backend: str | None = None) -> None:
        self.model = model
        self.dtype = dtype
        self.device = model.device
        self.transform = model.image_transform
        if compile_backend is not None:
            # In place, so state_dict keys and `model.version` are unchanged.
            model.image_encoder.compile(backend=compile_backend, dynamic=True)
            model.text_encoder.compile(backend=compile_backend, dynamic=True)
        self.compiled = compile_backend is not None
        self.plan: ThreadPlan | None = None  # None: every forward keeps the thread count it finds

    def _threads(self, kind: str, items: int) -> AbstractContextManager[None]:
        return nullcontext() if self.plan is None else self.plan.forward(kind, items)

    def _autocast(self) -> AbstractContextManager[object]:
        if self.dtype == torch.float32:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.model.name,
            version=self.model.version,
            dim=self.model.embed_dim,
            device=str(self.device),
            dtype=str(self.dtype).removeprefix("torch."),
            image_size=self.model.image_size,
            compiled=self.compiled,
            relevance_threshold=self.model.relevance_threshold,
            calibrated=self.model.relevance_threshold is not None,
            exclusion_threshold=self.model.exclusion_threshold,
            parallel_from=dict(self.plan.parallel_from) if self.plan is not None else None,
        )

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Raw texts -> float32 [N, D] unit vectors; NFC and clean-up happen in the model's pipeline."""
        with self._threads("text", len(texts)), torch.inference_mode(), self._autocast():
            vectors = self.model.encode_text(texts)
        return vectors.float().cpu().numpy()

    def encode_pixels(self, pixels: list[torch.Tensor]) -> np.ndarray:
        """Preprocessed [3, H, W] tensors -> float32 [N, D] unit vectors."""
        batch = torch.stack(pixels)
        if self.device.type == "cuda":
            batch = batch.pin_memory().to(self.device, non_blocking=True)
        with self._threads("image", len(pixels)), torch.inference_mode(), self._autocast():
            vectors = self.model.encode_image(batch)
        return vectors.float().cpu().numpy()

    def preprocess(self, data: bytes, max_pixels: int) -> torch.Tensor:
        """Untrusted bytes -> the model's input tensor; raises ImageDecodeError for a bad file."""
        return self.transform(decode_image(data, max_pixels=max_pixels))

    def plan_threads(self, min_s: float, max_items: int) -> ThreadPlan | None:
        """Set (and return) the thread plan on the CPU: each kind's forwards use every thread from
        the batch size whose forward takes `min_s` on one thread. None, and nothing switched, on an
        accelerator, with one thread in all, or with `min_s` 0."""
        count = torch.get_num_threads()
        self.plan = None  # measured as they run without a plan
        if self.device.type != "cpu" or count == 1 or min_s <= 0:
            return None
        size = self.model.image_size
        forwards = {
            "text": lambda n: self.encode_texts([PLAN_TEXT] * n),
            "image": lambda n: self.encode_pixels([torch.zeros(3, size, size)] * n),
        }
        measured = {kind: measure_parallel_from(forwards[kind], max_items, min_s) for kind in KINDS}
        self.plan = ThreadPlan(count, measured)
        log.info("forwards use %d threads from %s items, one thread below", count, measured)
        return self.plan

    def warm_up(self) -> None:
        """One forward of each tower, so the first request does not pay for lazy initialisation."""
        size = self.model.image_size
        self.encode_texts(["khởi động"])
        self.encode_pixels([torch.zeros(3, size, size)])
        log.info(
            "model %s %s warmed up on %s (%s)", self.model.name, self.model.version, self.device, self.dtype
        )
