"""Photos of visits and incidents (table ``photos``, migration 0006).

Every function takes an open ``Connection`` (``db``) and runs inside the caller's transaction.
Rights follow the photo's parent: row-level security lets an account read and add a photo of a
visit or incident exactly as it may read and write that row. ``stored_at`` (server time) and
``stored_by`` (the session's account) are set by the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select

from gis.errors import NotFoundError
from governance.capture import PhotoFile
from store.models import Photo
from store.sql import Executor

__all__ = ["PhotoInfo", "add_photo", "photos_of", "photo_content"]

_photos = Photo.__table__


@dataclass(frozen=True)
class PhotoInfo:
    """A stored photo without its bytes: ids, type, size (bytes, pixels), times (aware), EXIF GPS (degrees)."""

    id: int
    visit_id: int | None
    incident_id: int | None
    media_type: str
    byte_size: int
    sha256: str
    width: int
    height: int
    stored_at: dt.datetime
    stored_by: str
    taken_at: dt.datetime | None
    exif_lon: float | None
    exif_lat: float | None


def add_photo(db: Executor, photo: PhotoFile, *, visit_id: int | None = None, incident_id: int | None = None) -> int:
    """Store ``photo`` (checked by :func:`etl.photos.read_photo`) for one visit or one incident; its id."""
    if (visit_id is None) == (incident_id is None):
        raise ValueError("a photo belongs to exactly one visit or one incident")
    return int(db.execute(
        insert(_photos).values(
            visit_id=visit_id, incident_id=incident_id, content=photo.content, media_type=photo.media_type,
            byte_size=photo.byte_size, sha256=photo.sha256, width=photo.width, height=photo.height,
            taken_at=photo.taken_at, exif_lon=photo.exif_lon, exif_lat=photo.exif_lat,
        ).returning(_photos.c.id)
    ).scalar_one())


_INFO = [c for c in _photos.c if c.name != "content"]


def photos_of(db: Executor, *, visit_id: int | None = None, incident_id: int | None = None) -> list[PhotoInfo]:
    """The photos of a visit or an incident the session may see, oldest first."""
    query = select(*_INFO).order_by(_photos.c.id)
    if visit_id is not None:
        query = query.where(_photos.c.visit_id == visit_id)
    if incident_id is not None:
        query = query.where(_photos.c.incident_id == incident_id)
    if visit_id is None and incident_id is None:
        raise ValueError("give a visit_id or an incident_id")
    return [PhotoInfo(**row._asdict()) for row in db.execute(query).all()]


def photo_content(db: Executor, photo_id: int) -> tuple[str, bytes]:
    """``(media_type, bytes)`` of a photo the session may see; NotFoundError otherwise."""
    row = db.execute(select(_photos.c.media_type, _photos.c.content).where(_photos.c.id == photo_id)).first()
    if row is None:
        raise NotFoundError(f"photo {photo_id} does not exist (or is not yours to see)", code="photo.not_found",
                            params={"id": photo_id})
    return str(row.media_type), bytes(row.content)
