"""EXIF metadata from files built here with Pillow's EXIF writer, and from the hostile corpus."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from imaging.metadata import MAX_TEXT_CHARS, NO_METADATA, PhotoMetadata, extract_metadata
from tests.support.bad_images import Case, corpus, encode, photo

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
ZERO_DENOMINATOR = (IFDRational(10, 0), IFDRational(0, 1), IFDRational(0, 1))


def _jpeg(
    ifd0: dict[int, object] | None = None,
    exif: dict[int, object] | None = None,
    gps: dict[int, object] | None = None,
    fmt: str = "JPEG",
) -> bytes:
    """A small picture whose EXIF holds exactly the given tags."""
    out = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        out[tag] = value
    for ifd, tags in ((EXIF_IFD, exif), (GPS_IFD, gps)):
        if tags:
            sub = out.get_ifd(ifd)
            sub.update(tags)
    return encode(photo(32, 24), fmt, exif=out.tobytes())


def _dms(degrees: int, minutes: int, seconds: float) -> tuple[IFDRational, ...]:
    return (IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(int(seconds * 100), 100))


def test_a_date_with_its_offset_becomes_utc_and_keeps_the_offset() -> None:
    meta = extract_metadata(_jpeg(exif={0x9003: "2023:07:14 10:20:30", 0x9291: "25", 0x9011: "+07:00"}))
    assert meta.taken_at == datetime(2023, 7, 14, 3, 20, 30, 250000, tzinfo=UTC)
    assert meta.taken_at.tzinfo is UTC
    assert meta.taken_tz_offset_min == 420


def test_a_negative_half_hour_offset_crosses_midnight() -> None:
    meta = extract_metadata(_jpeg(exif={0x9003: "2023:12:31 22:00:00", 0x9011: "-03:30"}))
    assert meta.taken_at == datetime(2024, 1, 1, 1, 30, tzinfo=UTC)
    assert meta.taken_tz_offset_min == -210


def test_a_date_without_its_own_offset_takes_the_one_the_camera_wrote_for_another() -> None:
    meta = extract_metadata(_jpeg(exif={0x9003: "2023:07:14 10:20:30", 0x9010: "+09:00"}))
    assert meta.taken_at == datetime(2023, 7, 14, 1, 20, 30, tzinfo=UTC)
    assert meta.taken_tz_offset_min == 540
    both = _jpeg(exif={0x9003: "2023:07:14 10:20:30", 0x9011: "+07:00", 0x9010: "+09:00"})
    assert extract_metadata(both).taken_tz_offset_min == 420  # its own offset first


def test_a_date_without_offset_stays_naive_local_time() -> None:
    meta = extract_metadata(_jpeg(exif={0x9003: "2023:07:14 10:20:30"}))
    assert meta.taken_at == datetime(2023, 7, 14, 10, 20, 30)
    assert meta.taken_at.tzinfo is None
    assert meta.taken_tz_offset_min is None


def test_dates_are_tried_original_then_digitized_then_modified() -> None:
    digitized = _jpeg(
        ifd0={0x0132: "2020:01:01 00:00:00"},
        exif={0x9003: "0000:00:00 00:00:00", 0x9004: "2021:02:03 04:05:06", 0x9012: "+01:00"},
    )
    assert extract_metadata(digitized).taken_at == datetime(2021, 2, 3, 3, 5, 6, tzinfo=UTC)
    modified = _jpeg(ifd0={0x0132: "2020:01:01 08:00:00", 0x9010: "+08:00"}, exif={0x9003: "    :  :  "})
    meta = extract_metadata(modified)
    assert meta.taken_at == datetime(2020, 1, 1, 0, 0, tzinfo=UTC) and meta.taken_tz_offset_min == 480


def test_gps_south_and_west_are_negative() -> None:
    meta = extract_metadata(_jpeg(gps={1: "S", 2: _dms(33, 51, 54.0), 3: "W", 4: _dms(151, 12, 36.0)}))
    assert meta.latitude == pytest.approx(-(33 + 51 / 60 + 54 / 3600))
    assert meta.longitude == pytest.approx(-(151 + 12 / 60 + 36 / 3600))
    north_east = extract_metadata(_jpeg(gps={1: "N", 2: _dms(21, 1, 30.0), 3: "E", 4: _dms(105, 51, 0.0)}))
    assert north_east.latitude == pytest.approx(21.025) and north_east.longitude == pytest.approx(105.85)


def test_camera_orientation_and_every_field_together() -> None:
    meta = extract_metadata(
        _jpeg(
            ifd0={0x010F: "  Canon ", 0x0110: "Canon EOS R6\x00\x00junk", 0x0112: 6},
            exif={0x9003: "2019:05:06 07:08:09"},
            gps={1: "N", 2: _dms(10, 46, 0.0), 3: "E", 4: _dms(106, 42, 0.0)},
        )
    )
    assert meta.camera_make == "Canon" and meta.camera_model == "Canon EOS R6"
    assert meta.orientation == 6
    assert meta.taken_at == datetime(2019, 5, 6, 7, 8, 9)
    assert meta.latitude is not None and meta.longitude is not None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_is_read_from_each_format_that_carries_it(fmt: str) -> None:
    meta = extract_metadata(_jpeg(ifd0={0x010F: "Fujifilm"}, exif={0x9003: "2022:02:02 02:02:02"}, fmt=fmt))
    assert meta.camera_make == "Fujifilm" and meta.taken_at == datetime(2022, 2, 2, 2, 2, 2)


def test_missing_everything_is_all_none() -> None:
    assert extract_metadata(encode(photo(), "JPEG")) == NO_METADATA
    assert extract_metadata(encode(photo(), "PNG")) == NO_METADATA
    assert extract_metadata(b"") == NO_METADATA
    assert extract_metadata(b"not an image at all") == NO_METADATA
    assert all(value is None for value in vars(NO_METADATA).values())


def test_the_pixels_are_never_decoded() -> None:
    """A file cut off right after its header still gives its EXIF: nothing past the header is read."""
    jpeg = _jpeg(ifd0={0x010F: "Sony", 0x0112: 3}, exif={0x9003: "2024:04:04 04:04:04"})
    cut = jpeg[: jpeg.index(b"\xff\xda") + 20]  # up to just inside the start of scan
    meta = extract_metadata(cut)
    assert meta.camera_make == "Sony" and meta.orientation == 3
    png = _jpeg(ifd0={0x010F: "Sony"}, fmt="PNG")
    assert extract_metadata(png[: png.index(b"IDAT") + 8]).camera_make == "Sony"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # Dates no camera took: zeros, an impossible day, a clock reset far away, not text at all.
        ({"exif": {0x9003: "0000:00:00 00:00:00"}}, {}),
        ({"exif": {0x9003: "2023:02:30 10:00:00"}}, {}),
        ({"exif": {0x9003: "9999:12:31 23:59:59"}}, {}),
        ({"exif": {0x9003: "2023:07:14 25:61:00"}}, {}),
        ({"exif": {0x9003: 20230714}}, {}),
        ({"exif": {0x9003: "\x00" * 20}}, {}),
        # An offset past ±14 h, or garbled, leaves the date naive rather than wrong.
        (
            {"exif": {0x9003: "2023:07:14 10:20:30", 0x9011: "+25:00"}},
            {"taken_at": datetime(2023, 7, 14, 10, 20, 30)},
        ),
        (
            {"exif": {0x9003: "2023:07:14 10:20:30", 0x9011: "+07:99"}},
            {"taken_at": datetime(2023, 7, 14, 10, 20, 30)},
        ),
        (
            {"exif": {0x9003: "2023:07:14 10:20:30", 0x9291: "abc", 0x9011: "local"}},
            {"taken_at": datetime(2023, 7, 14, 10, 20, 30)},
        ),
        # Rationals with zero denominators, absurd degrees, minutes of 60, half a position, null island.
        ({"gps": {1: "N", 2: ZERO_DENOMINATOR, 3: "E", 4: _dms(1, 0, 0)}}, {}),
        ({"gps": {1: "N", 2: _dms(95, 0, 0), 3: "E", 4: _dms(10, 0, 0)}}, {}),
        ({"gps": {1: "N", 2: _dms(10, 0, 0), 3: "E", 4: _dms(181, 0, 0)}}, {}),
        ({"gps": {1: "N", 2: _dms(10, 60, 0), 3: "E", 4: _dms(10, 0, 0)}}, {}),
        ({"gps": {1: "N", 2: _dms(10, 0, 0)}}, {}),
        ({"gps": {1: "N", 2: _dms(0, 0, 0), 3: "E", 4: _dms(0, 0, 0)}}, {}),
        ({"gps": {1: "N", 2: (IFDRational(1, 1),) * 4, 3: "E", 4: _dms(10, 0, 0)}}, {}),
        # Bytes (UTF-8, or Latin-1 when not), control characters, NULs, decomposed accents, endless text.
        ({"ifd0": {0x010F: b"Nikon\x00\x00\x00"}}, {"camera_make": "Nikon"}),
        ({"ifd0": {0x010F: "Ni\tk\x1bon\u200b  Z".encode()}}, {"camera_make": "Ni k on Z"}),
        ({"ifd0": {0x010F: "   \x00"}}, {}),
        ({"ifd0": {0x010F: b"Leica \xe9\xff"}}, {"camera_make": "Leica éÿ"}),
        ({"ifd0": {0x0110: "Nha\u0300 Trang".encode()}}, {"camera_model": "Nhà Trang"}),
        ({"ifd0": {0x0110: "x" * 5000}}, {"camera_model": "x" * MAX_TEXT_CHARS}),
        # Orientation outside 1–8.
        ({"ifd0": {0x0112: 0}}, {}),
        ({"ifd0": {0x0112: 9}}, {}),
        ({"ifd0": {0x0112: 65535}}, {}),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None,
)
def test_hostile_values_become_none_and_spare_the_other_fields(
    tags: dict[str, dict[int, object]], expected: dict[str, object]
) -> None:
    meta = extract_metadata(_jpeg(ifd0=tags.get("ifd0"), exif=tags.get("exif"), gps=tags.get("gps")))
    assert meta == replace(NO_METADATA, **expected)


@pytest.mark.parametrize("case", corpus(), ids=lambda c: c.name)
def test_the_hostile_image_corpus_never_raises(case: Case) -> None:
    meta = extract_metadata(case.data)
    assert isinstance(meta, PhotoMetadata)
    if case.name == "exif_rotated":
        assert meta.orientation == 6


def test_random_corruption_of_the_exif_block_never_raises() -> None:
    """Flipped bytes inside the EXIF segment: broken offsets, counts and types, all survived."""
    good = _jpeg(
        ifd0={0x010F: "Canon", 0x0110: "EOS", 0x0112: 1},
        exif={0x9003: "2023:07:14 10:20:30", 0x9011: "+07:00"},
        gps={1: "S", 2: _dms(1, 2, 3), 3: "W", 4: _dms(4, 5, 6)},
    )
    start = good.index(b"Exif\x00\x00")
    end = start + int.from_bytes(good[start - 2 : start], "big")
    rng = random.Random(15)
    for _ in range(400):
        bad = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            bad[rng.randrange(start, end)] = rng.randrange(256)
        assert isinstance(extract_metadata(bytes(bad)), PhotoMetadata)
