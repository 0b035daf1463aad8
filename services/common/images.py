"""Images as the services store them: the one decoder (`imaging.decoding`, shared with training)
and 256 px WebP thumbnails."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from imaging.decoding import (
    ALLOWED_FORMATS,
    DEFAULT_MAX_IMAGE_BYTES,
    DEFAULT_MAX_PIXELS,
    DecodedImage,
    ImageDecodeError,
    decode,
    decode_image,
    sniff_format,
)

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_MAX_IMAGE_BYTES",
    "DEFAULT_MAX_PIXELS",
    "THUMBNAIL_CONTENT_TYPE",
    "THUMBNAIL_SIZE",
    "DecodedImage",
    "ImageDecodeError",
    "PreparedImage",
    "decode",
    "decode_image",
    "make_thumbnail",
    "prepare",
    "sniff_format",
]

THUMBNAIL_SIZE = 256
THUMBNAIL_CONTENT_TYPE = "image/webp"


def make_thumbnail(image: Image.Image, size: int = THUMBNAIL_SIZE, quality: int = 80) -> bytes:
    """A WebP no larger than `size` on its longer side, aspect ratio kept."""
    thumb = image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=quality, method=4)
    return out.getvalue()


@dataclass(frozen=True)
class PreparedImage:
    """What storing an image needs from its pixels; small, so it crosses a pool boundary cheaply."""

    content_type: str
    width: int
    height: int
    thumbnail: bytes


def prepare(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> PreparedImage:
    """Decode and thumbnail untrusted bytes (the CPU-heavy part of storing one), or ImageDecodeError."""
    decoded = decode(data, max_pixels=max_pixels)
    return PreparedImage(decoded.content_type, decoded.width, decoded.height, make_thumbnail(decoded.image))
