"""What a photo's EXIF says about it: when it was taken, with which camera, where, which way up.

Read once at upload and import into the catalog's typed columns. Only the header is parsed, never
the pixels, so it costs microseconds beside a decode. Every value is untrusted: a field that is
missing, malformed or absurd becomes None and the rest are still read; nothing here raises.
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

from PIL import Image

from imaging.decoding import DEFAULT_MAX_PIXELS, open_header

# EXIF tags by number (the names are those of the EXIF 2.32 specification).
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_TIME, _OFFSET_TIME_ORIGINAL, _OFFSET_TIME_DIGITIZED = 0x9010, 0x9011, 0x9012
_SUBSEC_TIME, _SUBSEC_TIME_ORIGINAL, _SUBSEC_TIME_DIGITIZED = 0x9290, 0x9291, 0x9292
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4

# Each date in the order it is trusted, with the sub-second and offset tags that belong to it.
_DATE_TAGS = (
    (_DATETIME_ORIGINAL, _SUBSEC_TIME_ORIGINAL, _OFFSET_TIME_ORIGINAL),
    (_DATETIME_DIGITIZED, _SUBSEC_TIME_DIGITIZED, _OFFSET_TIME_DIGITIZED),
    (_DATETIME, _SUBSEC_TIME, _OFFSET_TIME),
)
_OFFSET_TAGS = (_OFFSET_TIME_ORIGINAL, _OFFSET_TIME_DIGITIZED, _OFFSET_TIME)
MAX_TEXT_CHARS = 128  # a camera name longer than this is not a camera name
_MAX_RAW_CHARS = 1024  # how much of a hostile string is looked at before cleaning it
# Years a camera clock may plausibly state; "0000:00:00" and a 9999 reset are not dates taken.
_YEARS = range(1800, 2201)
_MAX_OFFSET_MIN = 14 * 60  # UTC−12:00 … UTC+14:00 are the offsets the world uses
_DATE = re.compile(r"\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")
_OFFSET = re.compile(r"\s*(?:(Z)|([+\-])(\d{1,2}):?(\d{2}))\s*$")

T = TypeVar("T")


@dataclass(frozen=True)
class PhotoMetadata:
    # Timezone-aware UTC when the file states its offset (EXIF OffsetTimeOriginal), else the naive
    # local time exactly as the camera wrote it.
    taken_at: datetime | None = None
    taken_tz_offset_min: int | None = None  # the offset from UTC the camera was set to, in minutes
    camera_make: str | None = None
    camera_model: str | None = None
    latitude: float | None = None  # degrees, south negative
    longitude: float | None = None  # degrees, west negative
    orientation: int | None = None  # EXIF 1–8: how the stored pixels turn to display upright


NO_METADATA = PhotoMetadata()


def extract_metadata(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> PhotoMetadata:
    """The EXIF facts of an image file; all None for a file without EXIF or one the decoder refuses."""
    try:
        img = open_header(data, max_pixels)
        # Pillow's PNG reader decodes the whole image to look for EXIF after the pixels; the base
        # class reads only what the header already holds (where every writer puts eXIf in practice).
        exif = Image.Image.getexif(img)
    except Exception:  # whatever the header parser trips on: no metadata, never an error
        return NO_METADATA
    ifd0: dict[int, Any] = _safe(dict, exif) or {}
    exif_ifd: dict[int, Any] = _safe(lambda: dict(exif.get_ifd(_EXIF_IFD))) or {}
    gps: dict[int, Any] = _safe(lambda: dict(exif.get_ifd(_GPS_IFD))) or {}
    taken_at, offset = _taken(exif_ifd, ifd0)
    latitude = _safe(lambda: _coordinate(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), 90.0, "S"))
    longitude = _safe(lambda: _coordinate(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), 180.0, "W"))
    if latitude is None or longitude is None or (latitude == 0.0 and longitude == 0.0):
        # Half a position is no position, and 0°,0° is what cameras write when they had no fix.
        latitude = longitude = None
    return PhotoMetadata(
        taken_at=taken_at,
        taken_tz_offset_min=offset,
        camera_make=_safe(lambda: _text(ifd0.get(_MAKE))),
        camera_model=_safe(lambda: _text(ifd0.get(_MODEL))),
        latitude=latitude,
        longitude=longitude,
        orientation=_safe(lambda: _orientation(ifd0.get(_ORIENTATION))),
    )


def _safe(read: Callable[..., T | None], *args: object) -> T | None:
    """One field's reader; a malformed value costs that field only (it reads as None)."""
    try:
        return read(*args)
    except Exception:
        return None


def _raw_text(value: object) -> str | None:
    """A string, or bytes taken as UTF-8 (Latin-1 when they are not), cut at the first NUL.

    Pillow reads EXIF's ASCII fields as Latin-1, but phones and editors write UTF-8 in them; text that
    is valid UTF-8 once turned back into its bytes is read as UTF-8 ("Nhà", not "NhÃ ").
    """
    if isinstance(value, str):
        with contextlib.suppress(UnicodeEncodeError):
            value = value[:_MAX_RAW_CHARS].encode("latin-1")
    if isinstance(value, bytes | bytearray):
        raw = bytes(value[:_MAX_RAW_CHARS])
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("latin-1")
    if not isinstance(value, str):
        return None
    return value[:_MAX_RAW_CHARS].split("\x00", 1)[0]


def _text(value: object) -> str | None:
    """A printable, NFC-normalised, stripped string of at most MAX_TEXT_CHARS, or None when empty."""
    text = _raw_text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if unicodedata.category(ch)[0] not in "CZ" else " " for ch in text)
    text = " ".join(text.split())[:MAX_TEXT_CHARS].strip()
    return text or None


def _orientation(value: object) -> int | None:
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8:
        return value
    return None


def _taken(exif_ifd: dict[int, Any], ifd0: dict[int, Any]) -> tuple[datetime | None, int | None]:
    """The first readable of DateTimeOriginal, DateTimeDigitized and DateTime, in UTC when it has an offset.

    Some writers put the EXIF tags in the first IFD instead of the EXIF one; both are looked in.
    """

    def tag(number: int) -> object:
        return exif_ifd.get(number, ifd0.get(number))

    for date_tag, subsec_tag, offset_tag in _DATE_TAGS:
        local = _safe(_local_time, tag(date_tag), tag(subsec_tag))
        if local is None:
            continue
        # The date's own offset; else another the camera wrote, all set by the same clock.
        offsets = (_safe(_offset_minutes, tag(t)) for t in (offset_tag, *_OFFSET_TAGS))
        offset = next((o for o in offsets if o is not None), None)
        if offset is None:
            return local, None
        aware = local.replace(tzinfo=timezone(timedelta(minutes=offset)))
        return aware.astimezone(UTC), offset
    return None, None


def _local_time(value: object, subsec: object) -> datetime | None:
    """A naive datetime from EXIF's "YYYY:MM:DD HH:MM:SS" (or the dash and slash spellings of some tools)."""
    text = _raw_text(value)
    match = _DATE.match(text) if text else None
    if match is None:
        return None
    year, month, day = (int(g) for g in match.group(1, 2, 3))
    hour, minute, second = (int(g) if g else 0 for g in match.group(4, 5, 6))
    if year not in _YEARS:
        return None
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:  # month 0, day 31 of a 30-day month, hour 24...
        return None
    digits = re.match(r"\s*(\d{1,9})", _raw_text(subsec) or "")
    if digits is not None:
        local = local.replace(microsecond=int(digits.group(1).ljust(6, "0")[:6]))
    return local


def _offset_minutes(value: object) -> int | None:
    """Minutes east of UTC from "+07:00", "-0530" or "Z"; None for anything else or beyond ±14 h."""
    match = _OFFSET.match(_raw_text(value) or "")
    if match is None:
        return None
    if match.group(1):
        return 0
    hours, minutes = int(match.group(3)), int(match.group(4))
    if minutes >= 60:
        return None
    total = (hours * 60 + minutes) * (-1 if match.group(2) == "-" else 1)
    return total if abs(total) <= _MAX_OFFSET_MIN else None


def _coordinate(value: object, ref: object, bound: float, negative_ref: str) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals and a hemisphere letter.

    A zero denominator reads as NaN in Pillow; a NaN, a negative part, minutes or seconds of 60 or
    more, or a result past `bound` make the coordinate unknown rather than wrong.
    """
    parts = value if isinstance(value, tuple | list) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    numbers = [float(p) for p in parts]
    if any(not math.isfinite(n) or n < 0 for n in numbers) or any(n >= 60 for n in numbers[1:]):
        return None
    degrees = sum(n / 60**i for i, n in enumerate(numbers))
    if degrees > bound:
        return None
    hemisphere = (_raw_text(ref) or "").strip().upper()[:1]
    return -degrees if hemisphere == negative_ref else degrees
