"""A person's task list on their home page (pure; frames in, frames out).

* **My tasks**: incidents dispatched to the person (``assigned_to``) that still wait for their
  handling (status ``dispatched``) — overdue ones first (most overdue first), then by deadline
  (soonest first), then oldest report first.
* **My reports**: incidents the person reported (``reported_by``) that are still open, newest first.
* **Overdue wording**: hours past a deadline as whole days and hours (``3 天 5 小时``), never a
  fraction of hours.
* **My day** (:func:`worker_day`): the above, the person's grids and roles today, this month's visits
  (distinct households they visited, towards :data:`governance.visits.MIN_HOUSEHOLDS_PER_MONTH`
  for a micro-grid worker, capped at the households of their grids as the visit plan caps it),
  the special households of their grids nobody visited this month, and their latest visits.

Deadlines are aware moments (counted in the local zone by :mod:`governance.deadlines`); ``now``
is aware.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from gis.clock import local_date, month_bounds, require_aware
from governance._frames import active_on, has_special, match_prefix, within
from governance.deadlines import overdue_mask
from governance.visits import MIN_HOUSEHOLDS_PER_MONTH
from governance.vocab import TERMINAL_STATUSES

__all__ = ["TASK_STATUSES", "task_list", "my_reports", "hours_as_days_hours", "WorkerDay", "worker_day"]

#: Statuses in which a dispatched incident waits for its assignee.
TASK_STATUSES = ("dispatched",)


def hours_as_days_hours(hours: float) -> tuple[int, int]:
    """Whole ``(days, hours)`` of a duration in hours (rounded down to the hour; negative → (0, 0)).

    >>> hours_as_days_hours(53.9)
    (2, 5)
    """
    if hours is None or not math.isfinite(float(hours)) or hours <= 0:
        return 0, 0
    whole = int(math.floor(float(hours)))
    return whole // 24, whole % 24


def _hours_from(now: dt.datetime, moments: pd.Series) -> pd.Series:
    stamp = pd.Timestamp(require_aware(now, name="now")).tz_convert("UTC")
    return ((stamp - pd.to_datetime(moments, utc=True)).dt.total_seconds() / 3600.0).astype(float)


def task_list(incidents: pd.DataFrame, staff_id: int | None, *, now: dt.datetime) -> pd.DataFrame:
    """The incidents waiting for ``staff_id``'s handling, overdue first (a copy).

    ``incidents`` needs ``id``, ``status``, ``assigned_to``, ``deadline``, ``reported_at``. Adds
    ``overdue`` (bool), ``overdue_hours`` (hours past the deadline, NaN when not overdue) and
    ``due_in_hours`` (hours left, NaN when overdue or without a deadline).
    """
    if staff_id is None or incidents.empty:
        mine = incidents.iloc[0:0].copy()
    else:
        assigned = pd.to_numeric(incidents["assigned_to"], errors="coerce")
        mine = incidents.loc[(assigned == int(staff_id)) & incidents["status"].isin(TASK_STATUSES)].copy()
    late = overdue_mask(mine, now=now) if len(mine) else pd.Series([], dtype=bool, index=mine.index)
    past = _hours_from(now, mine["deadline"]) if len(mine) else pd.Series([], dtype=float, index=mine.index)
    mine["overdue"] = late.to_numpy(dtype=bool)
    mine["overdue_hours"] = past.where(late)
    mine["due_in_hours"] = (-past).where(~late & mine["deadline"].notna())
    order = pd.DataFrame({
        "late": ~mine["overdue"],  # False (overdue) sorts first
        "past": -mine["overdue_hours"].fillna(0.0),
        "deadline": pd.to_datetime(mine["deadline"], utc=True),
        "reported": pd.to_datetime(mine["reported_at"], utc=True),
        "id": mine["id"],
    }, index=mine.index)
    ranked = order.sort_values(["late", "past", "deadline", "reported", "id"], na_position="last", kind="stable").index
    return mine.loc[ranked].reset_index(drop=True)


def my_reports(incidents: pd.DataFrame, staff_id: int | None, *, limit: int | None = None) -> pd.DataFrame:
    """The still-open incidents ``staff_id`` reported, newest first (a copy; at most ``limit``)."""
    if staff_id is None or incidents.empty:
        return incidents.iloc[0:0].copy()
    reporter = pd.to_numeric(incidents["reported_by"], errors="coerce")
    mine = incidents.loc[(reporter == int(staff_id)) & ~incidents["status"].isin(TERMINAL_STATUSES)]
    mine = mine.sort_values(["reported_at", "id"], ascending=False, kind="stable").reset_index(drop=True)
    return mine.head(limit) if limit is not None else mine


@dataclass(frozen=True)
class WorkerDay:
    """What a person's home shows (frames are copies; times aware UTC).

    ``grids``: ``code``, ``name``, ``level`` of the grids they hold today (their grants when they
    hold none); ``roles``: their staff roles today; ``tasks``/``reports``: :func:`task_list` and
    :func:`my_reports`; ``households``: the households of their grids (``id``, ``address``,
    ``special_kinds``, ``grid_code``, ``special`` bool); ``visited``: distinct households they visited
    in ``month``; ``target``: the month's minimum for a micro-grid worker (``None`` for other roles);
    ``special_due``: special households of their grids with no visit by anyone in ``month``;
    ``recent_visits``: their visits of the month, newest first (``id``, ``household_id``, ``address``,
    ``visited_at``, ``kind``, ``note``).
    """

    month: str
    grids: pd.DataFrame
    roles: tuple[str, ...]
    tasks: pd.DataFrame
    reports: pd.DataFrame
    households: pd.DataFrame
    visited: int
    target: int | None
    special_due: pd.DataFrame
    recent_visits: pd.DataFrame


def worker_day(
    frames: dict[str, pd.DataFrame], staff_id: int | None, *, now: dt.datetime, grants: Sequence[str] = (),
    timezone: str = "Asia/Shanghai", min_households: int = MIN_HOUSEHOLDS_PER_MONTH,
) -> WorkerDay:
    """A person's day from the frames of :func:`store.governance.load_frames` for the month of ``now``.

    ``grants``: the grid-code prefixes of the person's account (used when they hold no grid today).
    """
    today = local_date(require_aware(now, name="now"), timezone)
    month = f"{today:%Y-%m}"
    start, end = month_bounds(month, timezone)
    assignments = frames["assignments"]
    mine = assignments.iloc[0:0]
    if staff_id is not None and len(assignments):
        mask = (pd.to_numeric(assignments["staff_id"], errors="coerce") == int(staff_id)) & active_on(
            assignments, today, today)
        mine = assignments.loc[mask.to_numpy(dtype=bool)]
    codes = list(dict.fromkeys(mine["grid_code"].astype(str))) or [str(g) for g in grants]
    roles = tuple(dict.fromkeys(mine["role"].astype(str)))
    grids = frames["grids"]
    held = grids.loc[grids["code"].isin(codes), ["code", "name", "level"]]
    held = held.set_index("code").reindex([c for c in codes if c in set(held["code"])]).reset_index()

    households = frames["households"]
    rows = match_prefix(households["grid_code"], codes)["row"].unique() if codes else []
    owned = households.loc[households.index.isin(rows)].copy()
    owned["special"] = has_special(owned["special_kinds"]) if len(owned) else pd.Series([], dtype=bool)
    owned = owned.sort_values(["grid_code", "id"], kind="stable").reset_index(drop=True)

    visits = frames["visits"]
    in_month = visits.loc[within(visits["visited_at"], start, end)] if len(visits) else visits
    visited_any = set(pd.to_numeric(in_month["household_id"], errors="coerce").dropna().astype("int64"))
    by_me = in_month.iloc[0:0]
    if staff_id is not None and len(in_month):
        by_me = in_month.loc[pd.to_numeric(in_month["staff_id"], errors="coerce") == int(staff_id)]
    visited = int(by_me["household_id"].nunique())
    target = min(min_households, len(owned)) if "micro_worker" in roles else None
    special_due = owned.loc[owned["special"] & ~owned["id"].isin(visited_any)].reset_index(drop=True)
    addresses = households.set_index("id")["address"] if len(households) else pd.Series(dtype=object)
    recent = by_me.sort_values(["visited_at", "id"], ascending=False, kind="stable")
    recent = recent.assign(address=recent["household_id"].map(addresses))[
        ["id", "household_id", "address", "visited_at", "kind", "note"]].reset_index(drop=True)

    incidents = frames["incidents"]
    return WorkerDay(
        month=month, grids=held, roles=roles, tasks=task_list(incidents, staff_id, now=now),
        reports=my_reports(incidents, staff_id), households=owned, visited=visited, target=target,
        special_due=special_due, recent_visits=recent,
    )
