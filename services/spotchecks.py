"""Supervision spot checks (督查) as use cases: draw a month's sample, record outcomes, reminder talks.

The rules are :mod:`governance.spotcheck`: the stratified draw reproducible from its recorded seed,
outcome validation, the reminder talk a failed check gives to the worker's liaison leader or grid
head, repeated failures. Drawing and recording need ``spot_check`` (the discipline committee's
inspectors); marking a talk done needs ``hold_talks`` and is open only to the leader it names (or
an admin). Everything is audited (draws with their full audit record: seed, parameters,
fingerprint, the visits drawn).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import PermissionDenied, may, require
from gis import clock
from gis.clock import month_bounds, parse_month
from governance.spotcheck import (
    CheckResult,
    SpotCheckSample,
    complete_task,
    draw_sample,
    reminder_task,
    repeated_failures,
    responsible_leader,
    validate_result,
    verify_sample,
)
from store import audit, spotchecks
from store import governance as gov_store
from store.session import run_in_transaction, unit_of_work

__all__ = [
    "DrawResult",
    "draw",
    "list_draws",
    "draw_items",
    "verify_draw",
    "record_outcome",
    "list_talks",
    "complete_talk",
    "repeated",
]


def _tz() -> str:
    from gis.settings import get_settings

    return get_settings().timezone


@dataclass(frozen=True)
class DrawResult:
    draw_id: int
    sample: SpotCheckSample

    def to_dict(self) -> dict[str, object]:
        return {"draw_id": self.draw_id, **self.sample.audit_record()}


def draw(
    bind: Engine | Connection, actor: Actor, month: str | dt.date, *, per_worker: int = 2, seed: int | None = None,
) -> DrawResult:
    """Draw and store the spot-check sample of ``month``'s visits (``seed``: reproduce a recorded draw)."""
    require(actor.role, "spot_check")
    label = f"{parse_month(month):%Y-%m}"
    start, end = month_bounds(label, _tz())

    def work(db: Connection) -> DrawResult:
        visits = spotchecks.month_visits(db, start, end)
        sample = draw_sample(visits, spotchecks.special_households(db), month=label, per_worker=per_worker, seed=seed,
                             timezone=_tz())
        draw_id = spotchecks.insert_draw(db, sample)
        audit.record(db, "spot_check_draw", object_type="spot_check_draws", object_ids=[draw_id],
                     row_count=len(sample.visits), details=sample.audit_record())
        return DrawResult(draw_id, sample)

    return run_in_transaction(bind, actor, work)


def list_draws(bind: Engine | Connection, actor: Actor) -> pd.DataFrame:
    """Every draw with its counts (items, checked, failed)."""
    require(actor.role, "spot_check")
    with unit_of_work(bind, actor) as db:
        return spotchecks.draws(db)


def draw_items(bind: Engine | Connection, actor: Actor, draw_id: int) -> pd.DataFrame:
    """A draw's items in work order with their outcomes (the inspector's work list)."""
    require(actor.role, "spot_check")
    with unit_of_work(bind, actor) as db:
        return spotchecks.items(db, draw_id)


def verify_draw(bind: Engine | Connection, actor: Actor, draw_id: int) -> list[str]:
    """Re-draw a stored draw from its recorded seed and parameters over today's visits: the
    differences found (empty: reproduced; a changed month of visits is named)."""
    require(actor.role, "spot_check")
    with unit_of_work(bind, actor) as db:
        sample = spotchecks.draw_sample(db, draw_id)
        start, end = month_bounds(sample.parameters.month, _tz())
        visits = spotchecks.month_visits(db, start, end)
    return verify_sample(sample, visits, timezone=_tz())


def record_outcome(
    bind: Engine | Connection, actor: Actor, item_id: int, *, outcome: str, method: str, note: str = "",
    checked_at: dt.datetime | None = None,
) -> dict[str, object]:
    """Record what the check of a sampled visit found; a failed check (resident says not visited,
    details wrong) also creates a reminder talk for the worker's liaison leader or grid head.

    Returns ``{"outcome_id", "failed", "talk_id", "leader_id", "leader_name"}``.
    """
    require(actor.role, "spot_check")
    now = clock.utc_now()

    def work(db: Connection) -> dict[str, object]:
        item = spotchecks.item(db, item_id)
        result = validate_result(CheckResult(
            visit_id=int(item["visit_id"]), staff_id=int(item["staff_id"]), outcome=outcome, method=method,
            checked_at=checked_at or now, inspector=actor.name, note=note or "",
        ), now=now)
        outcome_id = spotchecks.insert_outcome(db, item_id, str(item["grid_code"]), result)
        talk_id = leader_id = leader_name = None
        if result.failed:
            assignments = gov_store.load_assignments(db)
            on = clock.local_date(result.checked_at, _tz())
            leader_id = responsible_leader(str(item["grid_code"]), assignments, on=on)
            names = gov_store.load_staff(db).set_index("id")["name"]
            leader_name = None if leader_id is None else str(names.get(leader_id, ""))
            task = reminder_task(result, leader_id=leader_id, leader_name=leader_name, at=now)
            talk_id = spotchecks.insert_talk(db, outcome_id, str(item["grid_code"]), task)
        audit.record(db, "spot_check_outcome", object_type="spot_check_outcomes", object_ids=[outcome_id],
                     grid_code=str(item["grid_code"]),
                     details={"item_id": int(item_id), "visit_id": int(item["visit_id"]), "outcome": result.outcome,
                              "method": result.method, "talk_id": talk_id, "leader_id": leader_id})
        return {"outcome_id": outcome_id, "failed": result.failed, "talk_id": talk_id, "leader_id": leader_id,
                "leader_name": leader_name}

    return run_in_transaction(bind, actor, work)


def list_talks(bind: Engine | Connection, actor: Actor, *, status: str | None = None, mine: bool = False) -> pd.DataFrame:
    """Reminder talks the actor may see (``mine``: those they are to hold)."""
    if not (may(actor.role, "spot_check") or may(actor.role, "hold_talks")):
        raise PermissionDenied(actor.role, "hold_talks")
    with unit_of_work(bind, actor) as db:
        return spotchecks.talks(db, status=status, leader_id=actor.staff_id if mine else None)


def complete_talk(
    bind: Engine | Connection, actor: Actor, talk_id: int, *, note: str, at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> int:
    """Mark a reminder talk done with the leader's note; only the leader it names (or an admin)."""
    require(actor.role, "hold_talks")
    now = at or clock.utc_now()

    def work(db: Connection) -> int:
        task, version = spotchecks.talk_task(db, talk_id)
        if actor.role != "admin" and actor.staff_id != task.leader_id:
            raise PermissionDenied(actor.role, "hold_talks")
        if expected_version is not None and int(expected_version) != version:
            from gis.errors import StaleVersionError

            raise StaleVersionError(f"reminder talk {talk_id} was changed by someone else since you read it; "
                                    "nothing was saved", code="spotcheck.talk_stale", params={"id": talk_id})
        done = complete_task(task, note=note, at=now)
        new_version = spotchecks.complete_talk(db, talk_id, done, version=version)
        audit.record(db, "reminder_talk_done", object_type="reminder_talks", object_ids=[talk_id])
        return new_version

    return run_in_transaction(bind, actor, work)


def repeated(bind: Engine | Connection, actor: Actor, *, as_of: dt.datetime | None = None, months: int = 3,
             min_failures: int = 2) -> pd.DataFrame:
    """Workers with repeated failed checks (``min_failures`` in the last ``months`` months), with names."""
    if not (may(actor.role, "spot_check") or may(actor.role, "hold_talks")):
        raise PermissionDenied(actor.role, "spot_check")
    with unit_of_work(bind, actor) as db:
        results = spotchecks.outcomes(db)
        names = gov_store.load_staff(db).set_index("id")["name"]
    found = repeated_failures(results, as_of=as_of or clock.utc_now(), months=months, min_failures=min_failures,
                              timezone=_tz())
    return found.assign(name=found["staff_id"].map(names))
