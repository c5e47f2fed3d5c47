"""The monthly joint-meeting report as a use case: read the month's frames, compute the figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from access.scope import Scope
from boundaries.coding import default_scheme
from governance.report import MonthlyReport, build_monthly_report
from store.governance import load_frames, load_grids
from store.sql import Executor

__all__ = ["monthly_report"]


def monthly_report(
    db: Executor,
    *,
    month: str | dt.date,
    as_of: dt.datetime | None = None,
    timezone: str | None = None,
    scope: Scope | Sequence[str] | None = None,
) -> MonthlyReport:
    """The report of ``month`` (``YYYY-MM``, local zone) over ``scope`` (default: everything).

    ``as_of`` (aware; default now) decides what is open or overdue "now".
    """
    from gis.settings import get_settings

    timezone = timezone or get_settings().timezone
    frames = load_frames(db, month=month, timezone=timezone, scope=scope)
    grids = load_grids(db, level=default_scheme().finest_level, with_geometry=True, scope=scope)
    return build_monthly_report(frames, grids, month=month, as_of=as_of, timezone=timezone)
