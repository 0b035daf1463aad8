"""Settings of the encoder service (`ENCODER_*`)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class EncoderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ENCODER_", env_nested_delimiter="__", extra="ignore")

    port: int = Field(8101, ge=0, le=65535, description="Port of the encoder service")
    model: str = Field(
        "checkpoints/vi-tiny-vishapes",
        description="Checkpoint directory, storage key prefix (`s3:`/`store:`) or registered model name",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="`auto` uses CUDA when present")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="`auto`: bfloat16 on CUDA, float32 on CPU"
    )
