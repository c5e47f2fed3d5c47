"""Data completeness and the quarterly refresh (issue #17) as use cases: check a grid (the to-dos of its
workers), verify a household with its residents, the quarter's verification shares.

The rules are :mod:`governance.completeness` and :mod:`governance.verification`; the rows are
:mod:`store.completeness`. Checking and reading shares need ``check_completeness``, verifying
``verify_records``; row-level security limits each to the actor's grids. The check and each
verification are audited (the to-do rows name records by id and carry no personal data).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from gis import clock
from governance.completeness import assign_todos, check_completeness, completeness_counts
from governance.verification import VerificationReport, verification_report
from store import audit
from store import completeness as store
from store import governance as gov_store
from store.session import run_in_transaction, unit_of_work

__all__ = ["check_grid", "todos", "verify_household", "verification"]


def _tz() -> str:
    from gis.settings import get_settings

    return get_settings().timezone


def check_grid(bind: Engine | Connection, actor: Actor, grid: str | None = None, *,
               at: dt.datetime | None = None) -> pd.DataFrame:
    """Run every completeness rule over ``grid`` and below (default: the actor's grids), replace the
    stored to-dos there with the findings (each given to the grid's worker), and return the counts
    per grid and rule (:func:`governance.completeness.completeness_counts`)."""
    require(actor.role, "check_completeness")
    at = at or clock.utc_now()
    on = clock.local_date(at, _tz())

    def work(db: Connection) -> pd.DataFrame:
        frames = store.check_records(db, grid)
        houses = frames["houses"]
        findings = check_completeness(frames["households"], frames["residents"], as_of=on,
                                      addresses=houses if len(houses) else None)
        todo = assign_todos(findings, gov_store.load_assignments(db), on=on)
        written = store.replace_todos(db, todo, grid=grid, checked_at=at)
        audit.record(db, "completeness_check", object_type="completeness_todos", row_count=written, grid_code=grid,
                     details={"households": len(frames["households"]), "residents": len(frames["residents"])})
        return completeness_counts(findings)

    return run_in_transaction(bind, actor, work)


def todos(bind: Engine | Connection, actor: Actor, *, mine: bool = False, grid: str | None = None,
          limit: int | None = None) -> pd.DataFrame:
    """The stored to-dos the actor may see (``mine``: those given to the actor's staff record)."""
    require(actor.role, "check_completeness")
    with unit_of_work(bind, actor) as db:
        return store.todos(db, staff_id=actor.staff_id if mine else None, grid=grid, limit=limit)


def verify_household(bind: Engine | Connection, actor: Actor, household_id: int, *,
                     at: dt.datetime | None = None) -> int:
    """Mark a household and its residents verified now by the actor (quarterly refresh); residents stamped."""
    require(actor.role, "verify_records")
    at = at or clock.utc_now()

    def work(db: Connection) -> int:
        n = store.verify_household(db, household_id, staff_id=actor.staff_id, at=at)
        audit.record(db, "verify_household", object_type="households", object_ids=[household_id], row_count=n)
        return n

    return run_in_transaction(bind, actor, work)


def verification(bind: Engine | Connection, actor: Actor, grid: str | None = None, *,
                 at: dt.datetime | None = None) -> VerificationReport:
    """The quarter's verification shares per grid and worker in the actor's grids."""
    require(actor.role, "check_completeness")
    with unit_of_work(bind, actor) as db:
        households, residents = store.verification_records(db, grid)
        assignments = gov_store.load_assignments(db)
    return verification_report(households, residents, assignments, as_of=at or clock.utc_now(), timezone=_tz())
