"""Recording household visits: one use case, shared by the app, the CLI and the API."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from governance.visits import VisitRecord
from store import governance as visit_store
from store.session import unit_of_work

__all__ = ["record_visit"]


def record_visit(bind: Engine | Connection, actor: Actor, record: VisitRecord) -> int:
    """Store a visit (validated by :func:`governance.visits.validate_visit`); returns its id."""
    require(actor.role, "record_visit")
    with unit_of_work(bind, actor) as db:
        return visit_store.record_visit(db, record)
