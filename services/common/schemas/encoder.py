"""The encoder service's internal API (`/v1/embed/*`, `/v1/model`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.common.errors import ErrorDetail

# Media types of the compact binary responses for bulk callers (`Accept` header).
NPY_FLOAT32 = "application/x-npy"
NPY_FLOAT16 = "application/x-npy; dtype=float16"
MODEL_VERSION_HEADER = "X-Model-Version"
# Binary responses carry per-item failures here, as JSON `{"<index>": "<code>"}`; their rows are NaN.
EMBED_ERRORS_HEADER = "X-Embed-Errors"

# Why one image of a request was refused: its code -> (HTTP status, what it means). A request of
# one image answers with that status; in a larger request the image gets a null vector and this code.
IMAGE_ERRORS: dict[str, tuple[int, str]] = {
    "empty_file": (400, "The file is empty."),
    "unsupported_format": (415, "The file is not an image in an accepted format."),
    "too_many_pixels": (413, "The image has more pixels than accepted."),
    "corrupt_image": (422, "The image is truncated or corrupt."),
    "file_too_large": (413, "The file is larger than accepted."),
    "invalid_key": (422, "The object key is not valid."),
    "not_found": (404, "No object has this key."),
    "checksum_mismatch": (422, "The stored object does not match its recorded checksum."),
}


class EmbedLimits(BaseModel):
    """What one request may carry; larger inputs are refused with 413."""

    max_texts_per_call: int
    max_text_chars: int
    max_images_per_call: int
    max_image_bytes: int
    max_image_pixels: int


class ModelInfo(BaseModel):
    name: str
    version: str = Field(description="Stable hash of the architecture and weights")
    dim: int
    device: str
    dtype: str
    image_size: int
    compiled: bool = False
    max_batch: int = Field(1, description="Most items one forward takes (1: batching off)")
    limits: EmbedLimits | None = None
    relevance_threshold: float | None = Field(
        None,
        description=(
            "Text-to-image cosine at or above which a result is a strong match, from the checkpoint's "
            "calibration; null when the model was never calibrated (pretrained backends)"
        ),
    )
    calibrated: bool = Field(False, description="Whether the checkpoint carries a relevance calibration")
    exclusion_threshold: float | None = Field(
        None,
        description=(
            "Text-to-image cosine at or above which an image may match a text (the calibration's 95th "
            "percentile of non-matching pairs): what an excluded phrase leaves out"
        ),
    )
    parallel_from: dict[str, int] | None = Field(
        None,
        description=(
            "On the CPU, the batch size from which a forward of each kind (`text`, `image`) uses every "
            "torch thread, smaller ones a single thread; null when forwards keep one thread count"
        ),
    )


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
