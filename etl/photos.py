"""Photo files in: a phone's photo as stored, with what its EXIF says (Pillow).

:func:`read_photo` checks an uploaded file (size, an image Pillow can open, JPEG/PNG/WebP:
:mod:`governance.capture`) and reads, when present, the EXIF time the photo was taken
(``DateTimeOriginal`` with ``OffsetTimeOriginal``; without an offset the camera's wall-clock time
is taken to be local, ``GRIDGOV_TIMEZONE``) and its GPS position (decimal degrees, north and east
positive; cameras record WGS 84, which is EPSG:4490 within centimetres). The file's bytes are
kept unchanged, EXIF included: the photo is evidence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
from zoneinfo import ZoneInfo

from gis.clock import zone
from governance.capture import MAX_PHOTO_BYTES, PHOTO_MEDIA_TYPES, PhotoFile, PhotoRefused

__all__ = ["read_photo"]

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011


def read_photo(content: bytes, *, timezone: str | ZoneInfo | None = None, max_bytes: int = MAX_PHOTO_BYTES) -> PhotoFile:
    """Check ``content`` as a photo and read its EXIF time and GPS position.

    Raises
    ------
    governance.capture.PhotoRefused
        Empty, larger than ``max_bytes``, not an image, or not JPEG/PNG/WebP (``reason`` says which).
    """
    from PIL import Image, UnidentifiedImageError

    data = bytes(content or b"")
    if not data:
        raise PhotoRefused("empty", "the photo file is empty", code="photo.empty")
    if len(data) > max_bytes:
        raise PhotoRefused("too_large", f"the photo has {len(data):,} bytes; at most {max_bytes:,} are accepted",
                           code="photo.too_large", params={"size": len(data), "limit": max_bytes})
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # a truncated or corrupt file fails here
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            exif = image.getexif()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRefused("not_image", f"the file is not an image that can be read ({type(exc).__name__})",
                           code="photo.not_image") from None
    if fmt not in PHOTO_MEDIA_TYPES:
        raise PhotoRefused("format", f"photos are accepted as JPEG, PNG or WebP, not {fmt or 'this format'}",
                           code="photo.format", params={"format": fmt or "?"})
    lon, lat = _gps(exif)
    return PhotoFile(
        content=data, media_type=PHOTO_MEDIA_TYPES[fmt], width=int(width), height=int(height),
        sha256=hashlib.sha256(data).hexdigest(), taken_at=_taken_at(exif, timezone), exif_lon=lon, exif_lat=lat,
    )


def _taken_at(exif, timezone: str | ZoneInfo | None) -> dt.datetime | None:  # noqa: ANN001 - PIL.Image.Exif
    if not exif:
        return None
    sub = exif.get_ifd(_EXIF_IFD)
    raw = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        naive = dt.datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other cameras' placeholders
    if not 1990 <= naive.year <= 2100:
        return None
    offset = sub.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        try:
            return dt.datetime.strptime(f"{naive:%Y-%m-%dT%H:%M:%S}{offset.strip()}", "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            pass
    tz = timezone if isinstance(timezone, ZoneInfo) else zone(timezone)
    return naive.replace(tzinfo=tz)


def _degrees(value, ref: object) -> float | None:  # noqa: ANN001 - a tuple of IFDRationals
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    number = d + m / 60.0 + s / 3600.0
    if not math.isfinite(number):
        return None
    return -number if str(ref).strip().upper() in ("S", "W") else number


def _gps(exif) -> tuple[float | None, float | None]:  # noqa: ANN001 - PIL.Image.Exif
    if not exif:
        return None, None
    gps = exif.get_ifd(_GPS_IFD)
    if not gps or 2 not in gps or 4 not in gps:
        return None, None
    lat = _degrees(gps.get(2), gps.get(1, "N"))
    lon = _degrees(gps.get(4), gps.get(3, "E"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return lon, lat
