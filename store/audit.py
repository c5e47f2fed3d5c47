"""The audit trail: append-only, one row per write, export, login, unmasked read or permission change.

Writes to data tables are recorded by database triggers (migration 0002: who, when, which table,
which rows; before/after for grids and incidents). The application adds what only it knows:
exports (what, how many rows, the file's SHA-256), reads of unmasked personal data, and the
security events the ``gridgov.*`` login functions do not already record. The application role may
only INSERT into ``audit_log`` (and only rows of its own account); reading goes through
``gridgov.audit_entries``, which requires the ``view_audit`` permission.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import text

from store.sql import Executor

__all__ = ["record", "entries", "AUDIT_COLUMNS"]

AUDIT_COLUMNS = ["id", "at", "account_id", "account_name", "db_user", "action", "object_type", "object_ids",
                 "row_count", "grid_code", "details"]


def record(
    db: Executor, action: str, *, object_type: str = "", object_ids: Sequence[Any] = (), row_count: int = 0,
    grid_code: str | None = None, details: dict[str, Any] | None = None,
) -> None:
    """Append one entry for the account acting in this transaction."""
    db.execute(
        text(
            "INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids, row_count, grid_code, details) "
            "VALUES (gridgov.session_account(), gridgov.actor_name(), :action, :type, CAST(:ids AS text[]), :n, :grid, "
            "CAST(:details AS jsonb))"
        ),
        {"action": action, "type": object_type, "ids": [str(i) for i in list(object_ids)[:1000]], "n": int(row_count),
         "grid": grid_code, "details": json.dumps(details or {}, ensure_ascii=False, default=str)},
    )


def entries(
    db: Executor, *, since: dt.datetime | None = None, account: str | None = None, action: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """The newest entries first (requires the ``view_audit`` permission of the acting account)."""
    result = db.execute(
        text("SELECT * FROM gridgov.audit_entries(:since, :account, :action, :limit)"),
        {"since": since, "account": account, "action": action, "limit": int(limit)},
    )
    frame = pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))
    return frame.reindex(columns=AUDIT_COLUMNS)
