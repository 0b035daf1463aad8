"""The one image decoder of the system: the encoder, the gateway, the indexer and training all use it.

Untrusted bytes become an RGB `PIL.Image` or an `ImageDecodeError` whose `code` says
what was wrong. The format comes from the bytes, never from a filename or a client's
content type; the pixel count is checked from the header before pixels are decoded.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Formats we accept, by Pillow's name, with the content type we store them under.
ALLOWED_FORMATS: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "MPO": "image/jpeg",  # multi-picture JPEG from phone cameras; the first frame is a JPEG
}
DEFAULT_MAX_PIXELS = 50_000_000
# Bytes one image file may have: the encoder's limit and the gateway's, so an image the encoder
# would refuse is refused at upload instead of being stored and never becoming searchable.
DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024

_PILLOW_FORMATS = [f for f in ALLOWED_FORMATS if f != "MPO"]  # Pillow opens MPO through its JPEG plugin


class ImageDecodeError(ValueError):
    """A rejected image; `code` is stable and safe to show a client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # RGB, EXIF orientation applied
    format: str  # Pillow's format name, e.g. "JPEG"
    content_type: str
    width: int
    height: int


# Leading bytes of each accepted format: a file that starts like one but does not open is corrupt,
# anything else is simply not an image we take.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
# `warnings.catch_warnings` swaps a process-wide filter list; two threads inside it at once can leave
# the filters changed for good. Only opening the header can warn about a bomb, and it is cheap, so
# this lock covers just that step and decoding itself runs in parallel.
_OPEN_LOCK = threading.Lock()


def sniff_format(data: bytes) -> str | None:
    """The accepted format the bytes claim to be, from their magic number, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in _MAGIC if data.startswith(magic)), None)


def _to_rgb(img: Image.Image) -> Image.Image:
    """CMYK, 16-bit, palette, grey and alpha images to 8-bit RGB (alpha over white)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Wide grey: scale 16-bit data to 8 bits instead of clipping it (Pillow's convert clips).
        high = img.getextrema()[1]
        wide = isinstance(high, int | float) and high > 255
        grey = img.point(lambda v: v / 256) if wide else img
        return grey.convert("L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageDecodeError("corrupt_image", "The image has no pixels.")
    if width * height > max_pixels:
        raise ImageDecodeError(
            "too_many_pixels",
            f"The image has {width}×{height} pixels; at most {max_pixels:,} are accepted.",
        )


def open_header(data: bytes, max_pixels: int) -> Image.Image:
    """Parse the header (first frame only) and check the size, before any pixel is decoded.

    Raises ImageDecodeError for a refused format or size, or what Pillow raises on a bad header.
    """
    with _OPEN_LOCK, warnings.catch_warnings():
        # Pillow's own bomb guard warns at ~89 Mpx and raises at twice that; any warning
        # from it is a refusal here, whatever our cap.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img: Image.Image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
        img.seek(0)  # GIF/TIFF/MPO: the first frame only
    if (img.format or "") not in ALLOWED_FORMATS:
        raise ImageDecodeError(
            "unsupported_format", f"Image format {img.format or 'unknown'} is not accepted."
        )
    _check_pixels(img.width, img.height, max_pixels)
    return img


def _orient(img: Image.Image) -> Image.Image:
    """Apply EXIF orientation; unreadable EXIF leaves the pixels as stored rather than losing the image."""
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:
        return img


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Untrusted bytes to an RGB image (EXIF-oriented), or ImageDecodeError."""
    return decode(data, max_pixels=max_pixels).image


def decode(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode untrusted bytes into an RGB image with its format, or raise ImageDecodeError.

    Codes: `empty_file`, `unsupported_format`, `too_many_pixels`, `corrupt_image`. Every other
    failure of a decoder is reported as `corrupt_image`: bytes never turn into a 500.
    """
    if not data:
        raise ImageDecodeError("empty_file", "The file is empty.")
    try:
        img = open_header(data, max_pixels)
        fmt = img.format or ""
        img.load()
        _check_pixels(img.width, img.height, max_pixels)  # a GIF frame may outgrow its header
        rgb = _to_rgb(_orient(img))
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageDecodeError("too_many_pixels", "The image is a decompression bomb.") from exc
    except UnidentifiedImageError as exc:
        if sniff_format(data) is not None:
            raise ImageDecodeError("corrupt_image", f"The {sniff_format(data)} header is corrupt.") from exc
        raise ImageDecodeError(
            "unsupported_format",
            "The file is not an image in an accepted format (JPEG, PNG, WebP, GIF, BMP, TIFF).",
        ) from exc
    except MemoryError as exc:
        raise ImageDecodeError("too_many_pixels", "The image is too large to decode.") from exc
    except Exception as exc:  # OSError, SyntaxError, struct.error...: whatever a decoder trips on
        raise ImageDecodeError("corrupt_image", "The image is truncated or corrupt.") from exc
    return DecodedImage(
        image=rgb,
        format=fmt,
        content_type=ALLOWED_FORMATS[fmt],
        width=rgb.width,
        height=rgb.height,
    )
