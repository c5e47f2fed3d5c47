"""Recording household visits: one use case, shared by the app, the CLI and the API."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from governance.visits import VisitRecord
from store import governance as visit_store
from store.session import run_in_transaction

__all__ = ["record_visit"]


def record_visit(bind: Engine | Connection, actor: Actor, record: VisitRecord) -> int:
    """Store a visit (validated by :func:`governance.visits.validate_visit`: a plausible time, the
    visitor assigned to the household's grid that day, near the household when located); returns its id.

    A visit adds a row and changes none; the household and the visitor's assignments it is checked
    against are locked (``FOR SHARE``) until it commits, so a concurrent edit that moves the
    household or ends the assignment either waits for it or is seen by it.
    """
    require(actor.role, "record_visit")
    return run_in_transaction(bind, actor, lambda db: visit_store.record_visit(db, record))
