"""Field capture rules (pure): the idempotency key of a form, and what a photo may be.

A worker records a visit or reports an incident from a phone. Two things make that safe:

* **Request keys.** Every filled-in form carries a random key (:func:`new_request_key`), kept
  until its save succeeds. The row it creates stores the key under a UNIQUE constraint
  (``visits.request_key``, ``incidents.request_key``, migration 0006), so a double tap, a
  resubmitted form or a retried request records one visit or incident, not two: the second
  save finds the first's row and returns it.
* **Photos.** An optional photo (camera or gallery) of at most :data:`MAX_PHOTO_BYTES` bytes, in
  one of :data:`PHOTO_MEDIA_TYPES`; the file is kept as uploaded (its EXIF too) and its EXIF time
  and GPS position are read when present (:mod:`etl.photos`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from gis.errors import ValidationError

__all__ = [
    "REQUEST_KEY_PATTERN",
    "new_request_key",
    "check_request_key",
    "MAX_PHOTO_BYTES",
    "PHOTO_MEDIA_TYPES",
    "PhotoRefused",
    "PhotoFile",
]

#: What a request key looks like (the database checks the same form).
REQUEST_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

#: Largest photo accepted, in bytes (15 MB: a phone camera's JPEG is 2–8 MB).
MAX_PHOTO_BYTES = 15 * 1024 * 1024
#: Image formats accepted (Pillow format name → media type).
PHOTO_MEDIA_TYPES: dict[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def new_request_key() -> str:
    """A fresh random request key (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def check_request_key(key: str) -> str:
    """Return ``key`` if it has the form of a request key, else raise :class:`ValidationError`."""
    if not isinstance(key, str) or not REQUEST_KEY_PATTERN.match(key):
        raise ValidationError(
            f"request key {key!r} is expected to be 16 to 64 letters, digits, '-' or '_' (see governance.capture)",
            code="request.key_invalid",
        )
    return key


class PhotoRefused(ValidationError):
    """A photo cannot be stored. ``reason`` is a code the pages word from the catalogue:
    ``empty``, ``too_large`` (``size``/``limit`` in bytes), ``not_image`` or ``format`` (``format``)."""

    def __init__(self, reason: str, message: str, *, code: str | None = None,
                 params: Mapping[str, object] | None = None, **more: object) -> None:
        super().__init__(message, code=code, params={**(params or {}), **more})
        self.reason = reason


@dataclass(frozen=True)
class PhotoFile:
    """A checked photo (:func:`etl.photos.read_photo`): its bytes as uploaded and what was read from them.

    ``taken_at`` is aware (``None``: no readable EXIF time); ``exif_lon``/``exif_lat`` are
    degrees (``None``: no GPS in the EXIF); ``width``/``height`` in pixels.
    """

    content: bytes = field(repr=False)
    media_type: str
    width: int
    height: int
    sha256: str
    taken_at: dt.datetime | None = None
    exif_lon: float | None = None
    exif_lat: float | None = None

    @property
    def byte_size(self) -> int:
        return len(self.content)
