"""Staff assignments that follow a boundary edit (SQL only; the rule is :mod:`governance.staff_moves`).

Runs inside the caller's transaction (the changeset's): :func:`open_assignments` reads the
assignments not yet ended on some grids, :func:`move_assignments` applies the planner's moves
(an assignment begun before ``on`` ends the day before and a new one starts on ``on``; one
begun on or after ``on`` is moved in place), and :func:`assignments_on_retired_codes` is the
check that no assignment still running points at a code that is no longer a grid. Dates are
local calendar days (Asia/Shanghai, :mod:`gis.clock`); end dates are inclusive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import text

from store.sql import Executor

__all__ = ["open_assignments", "move_assignments", "assignments_on_retired_codes"]

_COLUMNS = ["assignment_id", "staff_id", "staff_key", "name", "role", "grid_code", "start_date", "end_date",
            "building_no"]


def open_assignments(db: Executor, codes: Iterable[str], *, on: dt.date) -> pd.DataFrame:
    """Assignments on ``codes`` that have not ended before ``on`` (running or still to begin), by id."""
    rows = db.execute(
        text(
            "SELECT sa.id, sa.staff_id, s.staff_key, s.name, sa.role, sa.grid_code, sa.start_date, sa.end_date, "
            "sa.building_no FROM staff_assignments sa JOIN staff s ON s.id = sa.staff_id "
            "WHERE sa.grid_code = ANY(:codes) AND (sa.end_date IS NULL OR sa.end_date >= :d) ORDER BY sa.id"
        ),
        {"codes": sorted(set(codes)), "d": on},
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=_COLUMNS)


def move_assignments(db: Executor, moves: pd.DataFrame, *, on: dt.date) -> list[dict[str, object]]:
    """Apply ``moves`` (:data:`governance.staff_moves.MOVE_COLUMNS`; only rows that change) from ``on``.

    Each assignment goes to ``to_codes`` (the first in place of the old grid, the others as
    extra assignments of the same person and role). Returns one record per move
    (``assignment_id``, ``staff_key``, ``role``, ``from``, ``to``, ``new_ids``, ``staff_id``) for the
    audit log and the changeset. The accounts of the moved people are granted their new grids
    (``gridgov.follow_grants``, migration 0013) in the same transaction.
    """
    out: list[dict[str, object]] = []
    yesterday = on - dt.timedelta(days=1)
    for rec in moves.itertuples(index=False):
        to = [str(c) for c in rec.to_codes]
        row = db.execute(
            text("SELECT staff_id, role, start_date, end_date, building_no FROM staff_assignments WHERE id = :i "
                 "FOR UPDATE"), {"i": int(rec.assignment_id)},
        ).one()
        new_ids: list[int] = []
        if row.start_date >= on:  # not begun yet: move it in place
            db.execute(text("UPDATE staff_assignments SET grid_code = :c WHERE id = :i"),
                       {"c": to[0], "i": int(rec.assignment_id)})
            extra, start = to[1:], row.start_date
        else:
            db.execute(text("UPDATE staff_assignments SET end_date = :e WHERE id = :i"),
                       {"e": yesterday, "i": int(rec.assignment_id)})
            extra, start = to, on
        for code in extra:
            new_ids.append(int(db.execute(
                text("INSERT INTO staff_assignments (staff_id, grid_code, role, start_date, end_date, building_no) "
                     "VALUES (:s, :c, :r, :b, :e, :n) RETURNING id"),
                {"s": row.staff_id, "c": code, "r": row.role, "b": start, "e": row.end_date, "n": row.building_no},
            ).scalar_one()))
        out.append({"assignment_id": int(rec.assignment_id), "staff_key": str(rec.staff_key), "role": str(rec.role),
                    "from": str(rec.from_code), "to": to, "new_ids": new_ids, "staff_id": int(row.staff_id)})
    follow = [(m["staff_id"], m["from"], code) for m in out for code in m["to"] if code != m["from"]]
    if follow:  # the person's account grants follow (or row-level security locks her out of her grid)
        db.execute(text("SELECT gridgov.follow_grants(CAST(:s AS bigint[]), CAST(:o AS text[]), CAST(:n AS text[]))"),
                   {"s": [f[0] for f in follow], "o": [f[1] for f in follow], "n": [f[2] for f in follow]})
    return out


def assignments_on_retired_codes(db: Executor, *, on: dt.date,
                                 codes: Iterable[str] | None = None) -> list[tuple[int, str, str, str]]:
    """``(assignment_id, staff_key, role, grid_code)`` of assignments not ended before ``on`` whose code
    is no current grid (must be empty after any saved edit); ``codes`` limits the check to those codes."""
    only = "" if codes is None else "AND sa.grid_code = ANY(:codes) "
    rows = db.execute(
        text(
            "SELECT sa.id, s.staff_key, sa.role, sa.grid_code FROM staff_assignments sa JOIN staff s ON s.id = sa.staff_id "
            "WHERE (sa.end_date IS NULL OR sa.end_date >= :d) " + only +
            "AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = sa.grid_code) ORDER BY sa.id"
        ),
        {"d": on, "codes": sorted(set(codes or ()))},
    ).all()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
