"""What the public, login-free pages read: only through the SECURITY DEFINER doors of migration 0003.

A public request runs on the application role with **no account** bound to its transaction
(:func:`store.session.acting_as` ``None``): row-level security then shows it nothing of the
personal or operational tables, so it can read only what these functions return — the
whitelisted columns of one incident found by its reference code (``gridgov.public_incident``)
and the work contacts of a grid's public contact card (``gridgov.public_contacts``). Evaluation
codes and public notices have their own modules (:mod:`store.evaluations`, :mod:`store.notices`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import text

from governance.cards import StaffMember
from governance.feedback import READ_KEYS
from store.sql import Executor

__all__ = ["public_incident", "public_contacts"]


def public_incident(db: Executor, reference: str) -> dict[str, object] | None:
    """The public columns (:data:`governance.feedback.READ_KEYS`) of the incident with the canonical
    ``reference`` code, or ``None`` when there is none."""
    row = db.execute(text("SELECT * FROM gridgov.public_incident(:r)"), {"r": str(reference)}).mappings().first()
    if row is None:
        return None
    return {key: row[key] for key in READ_KEYS}


def public_contacts(db: Executor, code: str, ancestors: Sequence[str], day: dt.date) -> list[StaffMember]:
    """The people of grid ``code``'s public contact card on ``day``: its own team, and the liaison
    leaders and grid heads of its ``ancestors`` (work phones; no staff ids)."""
    rows = db.execute(text("SELECT * FROM gridgov.public_contacts(:c, :a, :d)"),
                      {"c": str(code), "a": [str(a) for a in ancestors], "d": day}).all()
    return [StaffMember(name=r.name, role=r.role, phone=r.phone, grid_code=r.grid_code, building_no=r.building_no)
            for r in rows]
