"""The shared image decoder against the hostile corpus and the formats it must accept."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from PIL import Image

from services.common.images import (
    ALLOWED_FORMATS,
    ImageDecodeError,
    decode,
    decode_image,
    make_thumbnail,
    sniff_format,
)
from tests.support.bad_images import Case, corpus, encode, photo, png_header_only, with_exif_orientation

CORPUS = corpus()


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32)


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_each_hostile_file_is_refused_with_its_code_or_decoded_faithfully(case: Case) -> None:
    if case.code is not None:
        with pytest.raises(ImageDecodeError) as err:
            decode(case.data)
        assert err.value.code == case.code
        return
    decoded = decode(case.data)
    assert decoded.image.mode == "RGB"
    assert case.twin is not None and decoded.image.size == case.twin.size
    # Lossless cases match exactly; CMYK and the rotated photo went through JPEG.
    assert np.abs(_pixels(decoded.image) - _pixels(case.twin)).mean() < 3.0


def test_exif_orientation_is_applied() -> None:
    upright = photo()
    img = decode_image(with_exif_orientation(upright))
    assert img.size == upright.size
    red_corner = np.asarray(img)[:10, :10].mean(axis=(0, 1))
    assert red_corner[0] > 200 and red_corner[1] < 60  # the red block is back at the top left


def test_the_pixel_cap_is_checked_from_the_header_before_decoding() -> None:
    # No pixel data at all: only a header check can say "too many pixels" rather than "corrupt".
    with pytest.raises(ImageDecodeError) as err:
        decode(png_header_only(5000, 5000), max_pixels=1_000_000)
    assert err.value.code == "too_many_pixels" and "5000×5000" in err.value.message


def test_pillows_bomb_warning_is_a_refusal_even_under_a_higher_cap() -> None:
    side = 10_000  # 100 Mpx: over Pillow's warning threshold (~89 Mpx), under its hard limit
    with pytest.raises(ImageDecodeError) as err:
        decode(png_header_only(side, side), max_pixels=10**10)
    assert err.value.code == "too_many_pixels"


def test_concurrent_decoding_leaves_the_warning_filters_as_they_were() -> None:
    before = list(warnings.filters)
    data = [c.data for c in CORPUS] * 3
    errors: list[BaseException] = []

    def work(blobs: list[bytes]) -> None:
        for blob in blobs:
            try:
                decode(blob)
            except ImageDecodeError:
                pass
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(data[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and warnings.filters == before


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_allowed_format_decodes_to_rgb_with_its_content_type(fmt: str) -> None:
    data = encode(photo(), fmt)
    assert sniff_format(data) == fmt
    decoded = decode(data)
    assert decoded.format == fmt and decoded.content_type == ALLOWED_FORMATS[fmt]
    assert decoded.image.mode == "RGB" and (decoded.width, decoded.height) == (96, 64)


def test_a_grey_alpha_image_lands_on_white() -> None:
    la = Image.new("LA", (8, 8), (0, 0))  # fully transparent black
    assert np.asarray(decode_image(encode(la, "PNG"))).min() == 255


def test_wide_integer_grey_is_scaled_not_clipped() -> None:
    values = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.int32)
    img = decode_image(encode(Image.fromarray(values, "I"), "TIFF"))
    grey = np.asarray(img)[..., 0].astype(int)
    assert grey.min() == 0 and grey.max() == 255 and len(np.unique(grey)) > 200


def test_corrupt_exif_does_not_lose_the_image() -> None:
    data = bytearray(with_exif_orientation(photo()))
    at = data.index(b"Exif\x00\x00") + 6
    data[at : at + 8] = b"XX\x00\x2a\xff\xff\xff\xff"  # nonsense byte order and IFD offset
    assert decode_image(bytes(data)).size in ((96, 64), (64, 96))


def test_thumbnail_is_a_small_webp_with_the_aspect_ratio_kept() -> None:
    thumb = decode(make_thumbnail(photo(960, 640), size=128))
    assert thumb.format == "WEBP" and (thumb.width, thumb.height) == (128, 85)
