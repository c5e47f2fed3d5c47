"""Data completeness and the quarterly refresh in the database: the records the checks read, the
to-dos the last check left, and verification stamps.

``completeness_todos`` is replaced per grid by every check (on demand or the nightly run): a to-do
names records by id and carries no personal data. ``last_verified_at`` / ``verified_by`` on
households and residents are set when a worker confirms a household with its members; the
database stamps ``verified_account`` from the session.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import text

from gis.errors import NotFoundError
from store.sql import Executor, rows_frame

__all__ = ["check_records", "replace_todos", "todos", "verification_records", "verify_household"]


def _prefix(grid: str | None) -> str:
    return "%" if not grid else str(grid) + "%"


def check_records(db: Executor, grid: str | None = None) -> dict[str, pd.DataFrame]:
    """The frames :func:`governance.completeness.check_completeness` reads, for ``grid`` and below
    (default: everything the reader may see): ``households``, ``residents``, ``houses``."""
    p = {"p": _prefix(grid)}
    households = rows_frame(db, "SELECT id, grid_code, special_kinds, address FROM households "
                                "WHERE coalesce(grid_code, '') LIKE :p ORDER BY id", p)
    residents = rows_frame(db, "SELECT id, household_id, name, relation, id_number, phone, birth_date, gender "
                               "FROM residents WHERE coalesce(grid_code, '') LIKE :p ORDER BY id", p)
    houses = rows_frame(db, "SELECT id AS house_id, address, grid_code FROM houses "
                            "WHERE coalesce(grid_code, '') LIKE :p ORDER BY id", p)
    households["special_kinds"] = households["special_kinds"].map(lambda v: list(v or []))
    return {"households": households, "residents": residents, "houses": houses}


def replace_todos(db: Executor, todos_frame: pd.DataFrame, *, grid: str | None, checked_at: dt.datetime) -> int:
    """Replace the stored to-dos of ``grid`` (and below; everything in the writer's grids when
    ``None``) with ``todos_frame`` (rule, household_id, resident_id, house_id, grid_code, staff_id,
    message_key, params); rows written."""
    db.execute(text("DELETE FROM completeness_todos WHERE grid_code LIKE :p"), {"p": _prefix(grid)})
    rows = [
        {"rule": r["rule"], "hh": _int(r.get("household_id")), "res": _int(r.get("resident_id")),
         "house": _int(r.get("house_id")), "grid": r["grid_code"], "staff": _int(r.get("staff_id")),
         "key": r["message_key"], "params": json.dumps(r.get("params") or {}, ensure_ascii=False, default=str),
         "at": checked_at}
        for r in todos_frame.to_dict("records") if r.get("grid_code")
    ]
    if rows:
        db.execute(text(
            "INSERT INTO completeness_todos (rule, household_id, resident_id, house_id, grid_code, staff_id, message_key, "
            "params, checked_at) VALUES (:rule, :hh, :res, :house, :grid, :staff, :key, CAST(:params AS jsonb), :at)"), rows)
    return len(rows)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def todos(db: Executor, *, staff_id: int | None = None, grid: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Stored to-dos the reader may see (of one worker, or of ``grid`` and below), with the household's
    address: ``id``, ``rule``, ``household_id``, ``resident_id``, ``house_id``, ``grid_code``,
    ``staff_id``, ``message_key``, ``params``, ``checked_at``, ``address``."""
    frame = rows_frame(db, """
        SELECT t.id, t.rule, t.household_id, t.resident_id, t.house_id, t.grid_code, t.staff_id, t.message_key, t.params,
               t.checked_at, coalesce(h.address, ho.address, '') AS address
        FROM completeness_todos t LEFT JOIN households h ON h.id = t.household_id LEFT JOIN houses ho ON ho.id = t.house_id
        WHERE (CAST(:staff AS bigint) IS NULL OR t.staff_id = :staff) AND t.grid_code LIKE :p
        ORDER BY t.grid_code, t.household_id NULLS LAST, t.resident_id NULLS LAST, t.id
        LIMIT CAST(:limit AS bigint)""", {"staff": staff_id, "p": _prefix(grid), "limit": limit})
    return frame


def verification_records(db: Executor, grid: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households (``id``, ``grid_code``, ``address``, ``last_verified_at``, ``verified_by``) and
    residents (``id``, ``household_id``, ``last_verified_at``, ``verified_by``) the reader may see."""
    p = {"p": _prefix(grid)}
    households = rows_frame(db, "SELECT id, grid_code, address, last_verified_at, verified_by FROM households "
                                "WHERE coalesce(grid_code, '') LIKE :p ORDER BY id", p)
    residents = rows_frame(db, "SELECT id, household_id, last_verified_at, verified_by FROM residents "
                               "WHERE coalesce(grid_code, '') LIKE :p ORDER BY id", p)
    for frame in (households, residents):
        frame["last_verified_at"] = pd.to_datetime(frame["last_verified_at"], utc=True)
    return households, residents


def verify_household(db: Executor, household_id: int, *, staff_id: int | None, at: dt.datetime,
                     resident_ids: Sequence[int] | None = None) -> int:
    """Stamp a household and its residents (or ``resident_ids`` of them) verified at ``at`` by
    ``staff_id`` (also the household's ``refreshed_at``); residents stamped."""
    row = db.execute(text(
        "UPDATE households SET last_verified_at = :at, verified_by = :staff, refreshed_at = :at, updated_at = now() "
        "WHERE id = :id RETURNING id"), {"at": at, "staff": staff_id, "id": int(household_id)}).first()
    if row is None:
        raise NotFoundError(f"household {household_id} does not exist (or is outside the grids you may change)",
                            code="household.not_found", params={"id": household_id})
    ids = None if resident_ids is None else [int(i) for i in resident_ids]
    return int(db.execute(text(
        "UPDATE residents SET last_verified_at = :at, verified_by = :staff "
        "WHERE household_id = :id AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(:ids))"),
        {"at": at, "staff": staff_id, "id": int(household_id), "ids": ids}).rowcount or 0)
