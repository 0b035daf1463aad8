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
    "crop_region",
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


MIN_REGION_PX = 8


def crop_region(
    data: bytes, x: float, y: float, width: float, height: float, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> bytes:
    """The part of an image inside a box given in fractions of its oriented size, as PNG bytes;
    ImageDecodeError `region_too_small` when the box covers fewer than 8 pixels a side."""
    image = decode_image(data, max_pixels=max_pixels)
    w, h = image.size
    left, top = int(x * w), int(y * h)
    right, bottom = min(w, round((x + width) * w)), min(h, round((y + height) * h))
    if right - left < MIN_REGION_PX or bottom - top < MIN_REGION_PX:
        raise ImageDecodeError(
            "region_too_small",
            f"The region covers {right - left}x{bottom - top} pixels; at least 8x8 are needed.",
        )
    out = io.BytesIO()
    image.crop((left, top, right, bottom)).save(out, format="PNG")
    return out.getvalue()
