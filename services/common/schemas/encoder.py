"""The encoder service's internal API (`/v1/embed/*`, `/v1/model`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.common.errors import ErrorDetail

# Media types of the compact binary responses for bulk callers (`Accept` header).
NPY_FLOAT32 = "application/x-npy"
NPY_FLOAT16 = "application/x-npy; dtype=float16"
MODEL_VERSION_HEADER = "X-Model-Version"


class ModelInfo(BaseModel):
    name: str
    version: str = Field(description="Stable hash of the architecture and weights")
    dim: int
    device: str
    dtype: str
    image_size: int


class TextEmbedRequest(BaseModel):
    texts: list[str] = Field(min_length=1, description="Texts to embed, NFC-normalised by the service")


class ImageKeysEmbedRequest(BaseModel):
    keys: list[str] = Field(min_length=1, description="Object keys of images in storage")


class Embeddings(BaseModel):
    """JSON form of a batch: one vector per input, `null` with an error where an image failed."""

    model_version: str
    dim: int
    vectors: list[list[float] | None]
    errors: dict[int, ErrorDetail] = Field(default_factory=dict, description="Input index -> why it failed")
