"""Settings of the encoder service (`ENCODER_*`)."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.images import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS
from services.common.settings import ServiceSettings


class EncoderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ENCODER_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(8101, ge=0, le=65535, description="Port of the encoder service")
    model: str = Field(
        "checkpoints/vi-tiny-vishapes",
        description="Checkpoint directory, storage key prefix (`s3:`/`store:`) or registered model name",
    )
    model_cache_dir: Path = Field(
        Path("data/model-cache"), description="Where a checkpoint read from storage is copied before loading"
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="`auto` uses CUDA when present")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Autocast dtype of the forwards; `auto`: bfloat16 on CUDA, float32 on CPU"
    )
    torch_threads: int = Field(
        0, ge=0, le=256, description="CPU threads per forward; 0 keeps torch's default (one per core)"
    )
    parallel_min_ms: float = Field(
        20.0,
        ge=0,
        description="On the CPU, a forward taking at least this long on one thread (measured per batch "
        "size at start-up) uses every torch thread, a shorter one a single thread, since waking threads "
        "costs more than a short forward gains; 0: every forward uses every thread",
    )
    compile: bool = Field(False, description="`torch.compile` both towers at start-up")
    compile_backend: str = Field("inductor", description="Backend of `torch.compile`")

    batching: bool = Field(True, description="Queue concurrent requests into shared forwards")
    max_batch: int = Field(64, ge=1, le=4096, description="Most items (texts or images) in one forward")
    max_wait_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="How long a forward waits for more items once one is queued; 0: none, a batch is "
        "what queued during the previous forward",
    )
    max_queue: int = Field(
        2048, ge=1, description="Items waiting per kind before requests are refused with 503 (bounds memory)"
    )
    preprocess_workers: int = Field(2, ge=1, le=64, description="Threads decoding and resizing images")

    max_texts_per_call: int = Field(256, ge=1, description="Texts one request may carry")
    max_text_chars: int = Field(1000, ge=1, description="Characters one text may have (after NFC)")
    max_images_per_call: int = Field(64, ge=1, description="Images one request may carry")
    max_image_bytes: int = Field(DEFAULT_MAX_IMAGE_BYTES, ge=1, description="Bytes one image file may have")
    max_request_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="Bytes one upload request may have, all files together"
    )
    max_image_pixels: int = Field(DEFAULT_MAX_PIXELS, ge=1, description="Pixels one image may have")
    storage_concurrency: int = Field(8, ge=1, le=128, description="Parallel reads of images by key")

    @property
    def effective_max_batch(self) -> int:
        """`batching=false` is the same as a batch of one: every item gets its own forward."""
        return self.max_batch if self.batching else 1
