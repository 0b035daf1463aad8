"""Photos as cameras write them: JPEGs with the EXIF a catalog reads (date, zone, camera, GPS)."""

from __future__ import annotations

from typing import TypedDict

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from tests.support.bad_images import encode, photo

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL, DATE_ORIGINAL, OFFSET_ORIGINAL = 0x010F, 0x0110, 0x9003, 0x9011


def _dms(value: float) -> tuple[IFDRational, ...]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 100)
    return (IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 100))


class PhotoExif(TypedDict, total=False):
    """`camera_photo`'s EXIF fields, for tables of photos."""

    taken: str
    offset: str
    make: str
    model: str
    gps: tuple[float, float]


def camera_photo(
    seed: int,
    *,
    taken: str | None = None,
    offset: str | None = None,
    make: str | None = None,
    model: str | None = None,
    gps: tuple[float, float] | None = None,
    size: tuple[int, int] = (48, 32),
) -> bytes:
    """A JPEG of its own pixels (`seed`), with `taken` as "YYYY:MM:DD HH:MM:SS" and `offset` "+07:00"."""
    exif = Image.Exif()
    if make:
        exif[MAKE] = make
    if model:
        exif[MODEL] = model
    sub = exif.get_ifd(EXIF_IFD)
    if taken:
        sub[DATE_ORIGINAL] = taken
    if offset:
        sub[OFFSET_ORIGINAL] = offset
    if gps is not None:
        lat, lon = gps
        exif.get_ifd(GPS_IFD).update(
            {1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)), 3: "E" if lon >= 0 else "W", 4: _dms(abs(lon))}
        )
    return encode(photo(*size, seed=seed), "JPEG", exif=exif.tobytes())
