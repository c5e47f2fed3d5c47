"""Supervision spot checks (督查) in the database: draws, their items, outcomes and reminder talks.

A draw records everything :func:`governance.spotcheck.verify_sample` needs to re-draw it (seed,
per-worker count, the due households as decided then, the algorithm's name, the population's size
and SHA-256 fingerprint). Items, outcomes and talks carry the grid code of the visit for
row-level security; the inspector, the leader who holds a talk and its completion are stamped by
the database from the session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import text

from gis.errors import NotFoundError, StaleVersionError, ValidationError
from governance.spotcheck import CheckResult, DrawParameters, ReminderTask, SpotCheckSample
from store.sql import Executor, rows_frame

__all__ = [
    "month_visits",
    "special_households",
    "insert_draw",
    "draws",
    "draw_sample",
    "items",
    "item",
    "insert_outcome",
    "insert_talk",
    "talks",
    "talk_task",
    "complete_talk",
    "outcomes",
]


def month_visits(db: Executor, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Visits in ``[start, end)``: ``id``, ``household_id``, ``staff_id``, ``visited_at``, ``grid_code``."""
    frame = rows_frame(db, "SELECT v.id, v.household_id, v.staff_id, v.visited_at, coalesce(v.grid_code, h.grid_code) AS grid_code "
                           "FROM visits v JOIN households h ON h.id = v.household_id "
                           "WHERE v.visited_at >= :s AND v.visited_at < :e ORDER BY v.id", {"s": start, "e": end})
    frame["visited_at"] = pd.to_datetime(frame["visited_at"], utc=True)
    return frame


def special_households(db: Executor) -> pd.DataFrame:
    """``id``, ``special_kinds`` of the households with a special kind."""
    return rows_frame(db, "SELECT id, special_kinds FROM households WHERE cardinality(special_kinds) > 0 ORDER BY id")


def insert_draw(db: Executor, sample: SpotCheckSample) -> int:
    """Store a drawn sample (the draw and its items in work order); the draw's id."""
    p = sample.parameters
    draw_id = int(db.execute(text(
        "INSERT INTO spot_check_draws (month, per_worker, seed, due_rule, due_households, algorithm, population, fingerprint) "
        "VALUES (:month, :per, :seed, :rule, :due, :alg, :pop, :fp) RETURNING id"),
        {"month": p.month, "per": p.per_worker, "seed": int(p.seed), "rule": p.due_rule,
         "due": [int(h) for h in p.due_households], "alg": p.algorithm, "pop": int(sample.population),
         "fp": sample.fingerprint}).scalar_one())
    items = sample.visits
    if len(items):  # one statement (one audit entry) for the whole sample
        db.execute(text(
            "INSERT INTO spot_check_items (draw_id, visit_id, staff_id, household_id, grid_code, visited_at, reason, ord) "
            "SELECT :draw, v, s, h, g, a, r, o FROM unnest(CAST(:visits AS bigint[]), CAST(:staff AS bigint[]), "
            "CAST(:households AS bigint[]), CAST(:grids AS text[]), CAST(:ats AS timestamptz[]), "
            "CAST(:reasons AS text[]), CAST(:ords AS integer[])) AS t(v, s, h, g, a, r, o) ORDER BY o"),
            {"draw": draw_id, "visits": [int(v) for v in items["visit_id"]], "staff": [int(v) for v in items["staff_id"]],
             "households": [int(v) for v in items["household_id"]], "grids": [str(v) for v in items["grid_code"]],
             "ats": [v.to_pydatetime() if hasattr(v, "to_pydatetime") else v for v in items["visited_at"]],
             "reasons": [str(v) for v in items["reason"]], "ords": [int(v) for v in items["order"]]})
    return draw_id


def draws(db: Executor) -> pd.DataFrame:
    """Every draw with its item and outcome counts (newest first)."""
    return rows_frame(db, """
        SELECT d.id, d.month, d.per_worker, d.seed, d.population, d.drawn_by, d.drawn_at,
               (SELECT count(*) FROM spot_check_items i WHERE i.draw_id = d.id) AS items,
               (SELECT count(*) FROM spot_check_outcomes o JOIN spot_check_items i ON i.id = o.item_id
                 WHERE i.draw_id = d.id) AS checked,
               (SELECT count(*) FROM spot_check_outcomes o JOIN spot_check_items i ON i.id = o.item_id
                 WHERE i.draw_id = d.id AND o.outcome IN ('not_visited', 'details_wrong')) AS failed
        FROM spot_check_draws d ORDER BY d.id DESC""")


def draw_sample(db: Executor, draw_id: int) -> SpotCheckSample:
    """A stored draw as the :class:`~governance.spotcheck.SpotCheckSample` it was (for re-drawing)."""
    row = db.execute(text("SELECT * FROM spot_check_draws WHERE id = :id"), {"id": int(draw_id)}).first()
    if row is None:
        raise NotFoundError(f"spot-check draw {draw_id} does not exist", code="spotcheck.draw_not_found",
                            params={"id": draw_id})
    visits = rows_frame(db, "SELECT visit_id, staff_id, household_id, grid_code, visited_at, reason, ord AS \"order\" "
                            "FROM spot_check_items WHERE draw_id = :id ORDER BY ord", {"id": int(draw_id)})
    visits["visited_at"] = pd.to_datetime(visits["visited_at"], utc=True)
    params = DrawParameters(month=row.month, per_worker=int(row.per_worker), seed=int(row.seed),
                            due_households=tuple(int(h) for h in row.due_households), due_rule=row.due_rule,
                            algorithm=row.algorithm)
    return SpotCheckSample(parameters=params, visits=visits, population=int(row.population), fingerprint=row.fingerprint)


_ITEM_SQL = """
    SELECT i.id AS item_id, i.draw_id, i.ord, i.visit_id, i.staff_id, s.name AS staff_name, i.household_id,
           h.address, i.grid_code, i.visited_at, i.reason, v.kind AS visit_kind, v.note AS visit_note,
           o.id AS outcome_id, o.outcome, o.method, o.note, o.inspector, o.checked_at
    FROM spot_check_items i JOIN staff s ON s.id = i.staff_id
    LEFT JOIN households h ON h.id = i.household_id
    LEFT JOIN visits v ON v.id = i.visit_id
    LEFT JOIN spot_check_outcomes o ON o.item_id = i.id
"""


def items(db: Executor, draw_id: int) -> pd.DataFrame:
    """The items of a draw in work order, with the visit, the household's address and any outcome."""
    frame = rows_frame(db, _ITEM_SQL + " WHERE i.draw_id = :id ORDER BY i.ord", {"id": int(draw_id)})
    for column in ("visited_at", "checked_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def item(db: Executor, item_id: int) -> dict[str, Any]:
    """One item (locked until the transaction ends); :class:`NotFoundError` when there is none."""
    row = db.execute(text(_ITEM_SQL + " WHERE i.id = :id FOR UPDATE OF i"), {"id": int(item_id)}).first()
    if row is None:
        raise NotFoundError(f"spot-check item {item_id} does not exist (or is outside your grids)",
                            code="spotcheck.item_not_found", params={"id": item_id})
    return dict(row._mapping)


def insert_outcome(db: Executor, item_id: int, grid_code: str, result: CheckResult) -> int:
    """Record the outcome of one item (once: a second outcome is refused); its id."""
    row = db.execute(text(
        "INSERT INTO spot_check_outcomes (item_id, visit_id, staff_id, grid_code, outcome, method, note, inspector, checked_at) "
        "VALUES (:item, :visit, :staff, :grid, :outcome, :method, :note, :inspector, :at) "
        "ON CONFLICT (item_id) DO NOTHING RETURNING id"),
        {"item": int(item_id), "visit": int(result.visit_id), "staff": int(result.staff_id), "grid": grid_code,
         "outcome": result.outcome, "method": result.method, "note": result.note, "inspector": result.inspector,
         "at": result.checked_at}).first()
    if row is None:
        raise ValidationError(f"spot-check item {item_id} already has an outcome; outcomes are not overwritten",
                              code="spotcheck.outcome_exists", params={"id": item_id})
    return int(row.id)


def insert_talk(db: Executor, outcome_id: int, grid_code: str, task: ReminderTask) -> int:
    """Create the reminder talk a failed check gives; its id."""
    return int(db.execute(text(
        "INSERT INTO reminder_talks (outcome_id, visit_id, staff_id, leader_id, leader_name, grid_code, status, created_at) "
        "VALUES (:o, :visit, :staff, :leader, :name, :grid, 'open', :at) RETURNING id"),
        {"o": int(outcome_id), "visit": int(task.visit_id), "staff": int(task.staff_id), "leader": int(task.leader_id),
         "name": task.leader_name, "grid": grid_code, "at": task.created_at}).scalar_one())


def talks(db: Executor, *, status: str | None = None, leader_id: int | None = None) -> pd.DataFrame:
    """Reminder talks the reader may see (open first, oldest first)."""
    frame = rows_frame(db, """
        SELECT t.id, t.staff_id, s.name AS staff_name, t.leader_id, t.leader_name, t.grid_code, t.visit_id, t.status,
               t.created_at, t.done_at, t.note, t.done_by, t.version, o.outcome, o.note AS finding, o.checked_at
        FROM reminder_talks t JOIN staff s ON s.id = t.staff_id LEFT JOIN spot_check_outcomes o ON o.id = t.outcome_id
        WHERE (CAST(:status AS text) IS NULL OR t.status = :status) AND (CAST(:leader AS bigint) IS NULL OR t.leader_id = :leader)
        ORDER BY t.status DESC, t.created_at, t.id""", {"status": status, "leader": leader_id})
    for column in ("created_at", "done_at", "checked_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def talk_task(db: Executor, talk_id: int) -> tuple[ReminderTask, int]:
    """A talk as the pure :class:`~governance.spotcheck.ReminderTask` and its version (row locked)."""
    row = db.execute(text("SELECT * FROM reminder_talks WHERE id = :id FOR UPDATE"), {"id": int(talk_id)}).first()
    if row is None:
        raise NotFoundError(f"reminder talk {talk_id} does not exist (or is outside your grids)",
                            code="spotcheck.talk_not_found", params={"id": talk_id})
    task = ReminderTask(visit_id=int(row.visit_id), staff_id=int(row.staff_id), leader_id=int(row.leader_id),
                        leader_name=row.leader_name, created_at=row.created_at, status=row.status, done_at=row.done_at,
                        note=row.note)
    return task, int(row.version)


def complete_talk(db: Executor, talk_id: int, task: ReminderTask, *, version: int) -> int:
    """Write a talk marked done (``task`` from :func:`governance.spotcheck.complete_task`); the new version."""
    row = db.execute(text(
        "UPDATE reminder_talks SET status = 'done', done_at = :at, note = :note, version = version + 1 "
        "WHERE id = :id AND version = :v RETURNING version"),
        {"at": task.done_at, "note": task.note, "id": int(talk_id), "v": int(version)}).first()
    if row is None:
        raise StaleVersionError(f"reminder talk {talk_id} was changed by someone else since you read it; nothing was saved",
                                code="spotcheck.talk_stale", params={"id": talk_id})
    return int(row.version)


def outcomes(db: Executor) -> pd.DataFrame:
    """Every outcome the reader may see: ``staff_id``, ``visit_id``, ``outcome``, ``checked_at``, ``grid_code``."""
    frame = rows_frame(db, "SELECT staff_id, visit_id, outcome, method, checked_at, grid_code FROM spot_check_outcomes ORDER BY id")
    frame["checked_at"] = pd.to_datetime(frame["checked_at"], utc=True)
    return frame
