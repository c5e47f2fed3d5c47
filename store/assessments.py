"""The three-in-one assessment's stored inputs and outputs: leaders' ratings and published results.

``leader_ratings`` hold a leader's overall rating (0–100) of a worker for a month, quarter or year
(the rater is stamped by the database from the session); ``assessment_results`` the published
result of a period per worker, with the breakdown the worker sees. Both carry the worker's
micro-grid code for row-level security; a worker also reads their own rows (policy on ``staff_id``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import text

from access.scope import Scope
from gis.errors import NotFoundError, StaleVersionError
from store.sql import Executor, rows_frame, scope_filter

__all__ = [
    "worker_grid",
    "upsert_rating",
    "ratings",
    "replace_results",
    "results",
    "ineligible_staff",
]


def worker_grid(db: Executor, staff_id: int) -> str:
    """The grid a worker's rows are filed under: their first micro-grid (else any grid) by assignment.

    Raises :class:`NotFoundError` when the person has no assignment.
    """
    code = db.execute(text(
        "SELECT grid_code FROM staff_assignments WHERE staff_id = :s "
        "ORDER BY (role = 'micro_worker') DESC, (end_date IS NULL) DESC, grid_code LIMIT 1"), {"s": int(staff_id)}).scalar()
    if code is None:
        raise NotFoundError(f"staff {staff_id} has no assignment to any grid; assign them before rating them",
                            code="assessment.no_assignment", params={"id": staff_id})
    return str(code)


def upsert_rating(db: Executor, staff_id: int, period: str, rating: float, *, note: str = "",
                  expected_version: int | None = None) -> int:
    """Store (or replace) the rating of ``staff_id`` for ``period``; returns its version.

    ``expected_version`` (the version the rater saw, ``0`` for "none yet") refuses the write when
    someone rated in between.
    """
    grid = worker_grid(db, staff_id)
    current = db.execute(text("SELECT id, version FROM leader_ratings WHERE staff_id = :s AND period = :p FOR UPDATE"),
                         {"s": int(staff_id), "p": period}).first()
    if expected_version is not None and (current.version if current else 0) != int(expected_version):
        raise StaleVersionError(f"the rating of staff {staff_id} for {period} was changed by someone else since you read "
                                f"it (version {expected_version}, now {current.version if current else 0}); nothing was saved",
                                code="assessment.rating_stale", params={"id": staff_id, "period": period})
    if current is None:
        db.execute(text("INSERT INTO leader_ratings (staff_id, period, rating, note, grid_code) VALUES (:s, :p, :r, :n, :g)"),
                   {"s": int(staff_id), "p": period, "r": float(rating), "n": note, "g": grid})
        return 1
    return int(db.execute(text(
        "UPDATE leader_ratings SET rating = :r, note = :n, rated_at = now(), version = version + 1 "
        "WHERE id = :id RETURNING version"), {"r": float(rating), "n": note, "id": current.id}).scalar_one())


def ratings(db: Executor, *, periods: Sequence[str] | None = None, scope: Scope | None = None) -> pd.DataFrame:
    """``staff_id``, ``period``, ``rating``, ``note``, ``rated_by``, ``rated_at``, ``version`` the reader may see."""
    params: dict[str, Any] = {"periods": list(periods) if periods is not None else None}
    where = "(CAST(:periods AS text[]) IS NULL OR period = ANY(:periods)) AND " + scope_filter("grid_code", scope, params)
    frame = rows_frame(db, "SELECT staff_id, period, CAST(rating AS double precision) AS rating, note, rated_by, rated_at, "
                           f"version FROM leader_ratings WHERE {where} ORDER BY staff_id, period", params)
    return frame


def replace_results(db: Executor, period: str, rows: Iterable[dict[str, Any]]) -> int:
    """Publish a period's results (one row per worker: ``staff_id``, ``rank``, ``total``, ``grade``,
    ``award_eligible``, ``pending``, ``breakdown``, ``config``); earlier results of the period for
    the same workers are replaced. Rows written."""
    written = 0
    for row in rows:
        grid = worker_grid(db, int(row["staff_id"]))
        db.execute(text(
            "INSERT INTO assessment_results (period, staff_id, grid_code, rank, total, grade, award_eligible, pending, "
            "breakdown, config) VALUES (:period, :staff, :grid, :rank, :total, :grade, :eligible, :pending, "
            "CAST(:breakdown AS jsonb), CAST(:config AS jsonb)) "
            "ON CONFLICT (period, staff_id) DO UPDATE SET grid_code = EXCLUDED.grid_code, rank = EXCLUDED.rank, "
            "total = EXCLUDED.total, grade = EXCLUDED.grade, award_eligible = EXCLUDED.award_eligible, "
            "pending = EXCLUDED.pending, breakdown = EXCLUDED.breakdown, config = EXCLUDED.config, computed_at = now()"),
            {"period": period, "staff": int(row["staff_id"]), "grid": grid, "rank": row.get("rank"),
             "total": row.get("total"), "grade": row.get("grade"), "eligible": row.get("award_eligible"),
             "pending": bool(row.get("pending")),
             "breakdown": json.dumps(row.get("breakdown") or {}, ensure_ascii=False, default=str),
             "config": json.dumps(row.get("config") or {}, ensure_ascii=False, default=str)})
        written += 1
    return written


def results(db: Executor, *, period: str | None = None, staff_id: int | None = None) -> pd.DataFrame:
    """Published results the reader may see: ``period``, ``staff_id``, ``name``, ``grid_code``, ``rank``,
    ``total``, ``grade``, ``award_eligible``, ``pending``, ``breakdown``, ``computed_at``, ``computed_by``."""
    frame = rows_frame(db, """
        SELECT r.period, r.staff_id, s.name, r.grid_code, r.rank, CAST(r.total AS double precision) AS total, r.grade,
               r.award_eligible, r.pending, r.breakdown, r.computed_at, r.computed_by
        FROM assessment_results r JOIN staff s ON s.id = r.staff_id
        WHERE (CAST(:period AS text) IS NULL OR r.period = :period) AND (CAST(:staff AS bigint) IS NULL OR r.staff_id = :staff)
        ORDER BY r.period DESC, r.rank NULLS LAST, r.staff_id""", {"period": period, "staff": staff_id})
    return frame


def ineligible_staff(db: Executor, years: Sequence[str]) -> dict[int, list[str]]:
    """Staff graded 不合格 in a published year result: staff id → the years."""
    out: dict[int, list[str]] = {}
    for staff, year in db.execute(text(
            "SELECT staff_id, period FROM assessment_results WHERE period = ANY(:y) AND grade = 'unqualified' "
            "ORDER BY staff_id, period"), {"y": list(years)}):
        out.setdefault(int(staff), []).append(str(year))
    return out

