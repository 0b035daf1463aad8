"""The hostile-image corpus, generated in code so every case is readable and nothing binary is committed.

Each `Case` says what a decoder must do with it: reject it with a code, or decode it (then the
caller compares the result against `twin`, the image it must look like).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    code: str | None  # the rejection code, or None when it must decode
    twin: Image.Image | None = None  # what a decodable case must look like (RGB)


def photo(width: int = 96, height: int = 64, seed: int = 0) -> Image.Image:
    """A smooth, asymmetric RGB picture: rotations and flips of it are all different images."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0.5, 2.0, 3)
    rgb = np.stack(
        [255 * x / width, 255 * (y / height) ** a, 127 + 120 * np.sin(b * x / 9 + c * y / 13)], axis=-1
    )
    rgb[: height // 3, : width // 4] = (250, 20, 20)  # a red block in one corner marks "up-left"
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int, bit_depth: int = 8, color_type: int = 0) -> bytes:
    """A PNG signature and IHDR with correct CRCs, and no pixel data worth the name."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")


def png_bomb(side: int = 20000) -> bytes:
    """A valid 1-bit PNG of side×side pixels: ~50 kB on disk, 400 MB once decoded to 8 bits."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
    )


def png_bad_crc(image: Image.Image) -> bytes:
    """A real PNG whose IDAT checksum no longer matches its data (one byte of the data flipped)."""
    data = bytearray(encode(image, "PNG"))
    at = data.index(b"IDAT") + 4 + 10
    data[at] ^= 0xFF
    return bytes(data)


def with_exif_orientation(upright: Image.Image, orientation: int = 6) -> bytes:
    """A JPEG that stores the picture rotated and says so in EXIF, as a phone camera does.

    Orientation 6 means "rotate 90° clockwise to display", so the stored pixels are the upright
    picture turned 90° counter-clockwise.
    """
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def cmyk_jpeg(image: Image.Image) -> bytes:
    return encode(image.convert("CMYK"), "JPEG", quality=95)


def png_16bit(image: Image.Image) -> bytes:
    """The grey version of `image` at 16 bits per sample."""
    grey = np.asarray(image.convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(grey), "PNG")


def palette_with_transparency(image: Image.Image) -> tuple[bytes, Image.Image]:
    """A palette PNG whose top half is transparent, and how it must decode (transparent over white)."""
    pal = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=63)
    palette = [*(pal.getpalette() or [])[: 63 * 3], 0, 0, 0]  # index 63: the transparent colour
    pixels = np.array(pal)
    pixels[: image.height // 2] = 63
    out = Image.fromarray(pixels, "P")
    out.putpalette(palette)
    expected = np.array(out.convert("RGB"))
    expected[: image.height // 2] = 255
    return encode(out, "PNG", transparency=63), Image.fromarray(expected, "RGB")


def animated_gif(frames: int = 300) -> tuple[bytes, Image.Image]:
    """Many different frames; only the first counts."""
    first = photo(48, 48).convert("P", palette=Image.Palette.ADAPTIVE)
    pixels, palette = np.array(first), first.getpalette() or []
    seq = [Image.fromarray(np.roll(pixels, i, axis=1), "P") for i in range(1, frames)]
    for frame in seq:
        frame.putpalette(palette)
    data = encode(first, "GIF", save_all=True, append_images=seq, duration=20, loop=0)
    return data, first.convert("RGB")


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


def corpus() -> list[Case]:
    """Every hostile case of the acceptance list, named as in the issue."""
    upright = photo()
    jpeg = encode(upright, "JPEG", quality=95)
    palette, palette_twin = palette_with_transparency(upright)
    gif, gif_twin = animated_gif()
    return [
        Case("empty_file", b"", "empty_file"),
        Case("text_renamed_jpg", "Đây không phải là ảnh.\n".encode() * 20, "unsupported_format"),
        Case("truncated_jpeg", jpeg[: len(jpeg) // 2], "corrupt_image"),
        Case("png_bad_crc", png_bad_crc(upright), "corrupt_image"),
        Case("png_bomb_20000", png_bomb(), "too_many_pixels"),
        Case("zero_sized_header", png_header_only(0, 0), "corrupt_image"),
        Case("svg", SVG, "unsupported_format"),
        Case("animated_gif", gif, None, gif_twin),
        Case("cmyk_jpeg", cmyk_jpeg(upright), None, upright),
        Case("png_16bit", png_16bit(upright), None, upright.convert("L").convert("RGB")),
        Case("palette_transparency", palette, None, palette_twin),
        Case("exif_rotated", with_exif_orientation(upright), None, upright),
    ]
