"""Recording household visits: one use case, shared by the app, the CLI and the API."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from governance.capture import PhotoFile
from governance.visits import VisitRecord
from store import governance as visit_store
from store import photos as photo_store
from store.session import run_in_transaction

__all__ = ["record_visit"]


def record_visit(
    bind: Engine | Connection, actor: Actor, record: VisitRecord, *, request_key: str | None = None,
    photo: PhotoFile | None = None,
) -> int:
    """Store a visit (validated by :func:`governance.visits.validate_visit`: a plausible time, the
    visitor assigned to the household's grid that day, near the household when located); returns its id.

    A visit adds a row and changes none; the household and the visitor's assignments it is checked
    against are locked (``FOR SHARE``) until it commits, so a concurrent edit that moves the
    household or ends the assignment either waits for it or is seen by it.

    ``request_key`` is the form's idempotency key (:mod:`governance.capture`): saving the same form
    twice (a double tap, a resubmission) records one visit and returns its id both times.
    ``photo`` (checked by :func:`etl.photos.read_photo`) is stored with the visit in the same
    transaction, with the server's time and its EXIF time and position.
    """
    require(actor.role, "record_visit")

    def work(db: Connection) -> int:
        visit_id, created = visit_store.record_visit_once(db, record, request_key=request_key)
        if created and photo is not None:
            photo_store.add_photo(db, photo, visit_id=visit_id)
        return visit_id

    return run_in_transaction(bind, actor, work)
