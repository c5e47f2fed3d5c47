"""The leader's street overview (街道总览), pure: periods, counts, rankings, who is responsible.

Definitions (the page says them in words too):

* **Period**: a preset — this month (its 1st to today), last month (whole), this quarter (its
  first day to today) — or custom dates; days are local (``GRIDGOV_TIMEZONE``), both ends
  inclusive. An incident belongs to the period by its report time.
* **Open (unresolved, 未办结)**: status neither ``closed`` nor ``rejected`` now. **Overdue**: open and
  past its deadline now. **Closed**: status ``closed``. **Closure rate**: closed ÷ (reported −
  rejected) of the period's incidents (NaN when none).
* **Ranking**: grids of one level by open incidents (then overdue, then code), each with the
  responsible grid head — the ``grid_head`` assigned, that day, to the grid itself or to the
  nearest grid above it — and, for the finest level, its ``micro_worker``.
* **Assessment month**: the last complete month, unless the current month is asked for, in which
  case the page says how many days it covers (on the 1st, one: no month of −10 ties).

Frames as :func:`store.governance.load_incidents` and :func:`store.governance.load_roster` give them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.clock import local_date, previous_month, quarter_bounds, require_aware, start_of_day
from gis.errors import ValidationError
from governance.deadlines import overdue_incidents, overdue_mask
from governance.vocab import TERMINAL_STATUSES

__all__ = [
    "PRESETS",
    "preset_dates",
    "in_period",
    "PeriodCounts",
    "period_counts",
    "unresolved_ranking",
    "overdue_list",
    "AssessmentMonth",
    "assessment_month",
]

#: The period presets, in the order the page offers them.
PRESETS = ("this_month", "last_month", "this_quarter", "custom")


def preset_dates(
    preset: str, *, today: dt.date, custom: tuple[dt.date, dt.date] | None = None
) -> tuple[dt.date, dt.date]:
    """First and last local day (inclusive) of a preset period as of ``today``.

    Raises
    ------
    ValidationError
        An unknown preset, or a custom period without dates or ending before it starts.
    """
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        first = previous_month(today)
        return first, today.replace(day=1) - dt.timedelta(days=1)
    if preset == "this_quarter":
        start, _end = quarter_bounds(today, "UTC")
        return start.date(), today
    if preset == "custom":
        if not custom or len(custom) != 2 or custom[0] is None or custom[1] is None:
            raise ValidationError("a custom period needs a first and a last day", code="period.custom_incomplete")
        first, last = custom
        if last < first:
            raise ValidationError(f"the period ends ({last}) before it starts ({first})",
                                  code="period.ends_before_start", params={"first": first, "last": last})
        return first, last
    raise ValidationError(f"period preset was {preset!r} but is expected to be one of {PRESETS}",
                          code="period.preset_unknown", params={"preset": preset})


def in_period(incidents: pd.DataFrame, first: dt.date, last: dt.date, *, timezone: str = "Asia/Shanghai") -> pd.DataFrame:
    """The incidents reported from local midnight of ``first`` to the end of ``last`` (a copy)."""
    lo = pd.Timestamp(start_of_day(first, timezone)).tz_convert("UTC")
    hi = pd.Timestamp(start_of_day(last + dt.timedelta(days=1), timezone)).tz_convert("UTC")
    reported = pd.to_datetime(incidents["reported_at"], utc=True)
    return incidents.loc[(reported >= lo) & (reported < hi)].copy()


@dataclass(frozen=True)
class PeriodCounts:
    """Counts of a period's incidents; ``closure_rate`` is a share in [0, 1] (NaN: nothing to close)."""

    reported: int
    open: int
    overdue: int
    closed: int
    rejected: int
    closure_rate: float


def _open(incidents: pd.DataFrame) -> pd.Series:
    return ~incidents["status"].isin(TERMINAL_STATUSES)


def period_counts(incidents: pd.DataFrame, *, now: dt.datetime) -> PeriodCounts:
    """Open, overdue (at ``now``), closed and rejected counts and the closure rate of ``incidents``."""
    closed = int((incidents["status"] == "closed").sum())
    rejected = int((incidents["status"] == "rejected").sum())
    reported = int(len(incidents))
    base = reported - rejected
    return PeriodCounts(
        reported=reported,
        open=int(_open(incidents).sum()),
        overdue=int(overdue_mask(incidents, now=now).sum()) if reported else 0,
        closed=closed,
        rejected=rejected,
        closure_rate=closed / base if base > 0 else float("nan"),
    )


def _active(roster: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    start = pd.to_datetime(roster["start_date"]).dt.date
    end = roster["end_date"].map(lambda v: v if isinstance(v, dt.date) else None)
    ok = (start <= on) & end.map(lambda e: e is None or e >= on)
    return roster.loc[ok.to_numpy(dtype=bool)]


def _nearest(codes: pd.Series, holders: pd.DataFrame) -> pd.DataFrame:
    """For each code, the holder whose ``grid_code`` is the longest prefix of it (the first by start, id)."""
    out = pd.DataFrame({"code": codes.to_numpy()})
    out["name"] = None
    out["phone"] = None
    if holders.empty or out.empty:
        return out
    holders = holders.assign(_len=holders["grid_code"].str.len()).sort_values(
        ["_len", "start_date", "staff_id"], ascending=[False, True, True], kind="stable")
    names, phones = [], []
    for code in out["code"]:
        hit = holders[[code.startswith(g) for g in holders["grid_code"]]]
        names.append(None if hit.empty else hit.iloc[0]["name"])
        phones.append(None if hit.empty else hit.iloc[0]["phone"])
    out["name"], out["phone"] = names, phones
    return out


def unresolved_ranking(
    incidents: pd.DataFrame, grids: pd.DataFrame, roster: pd.DataFrame, *, level: int, on: dt.date, now: dt.datetime
) -> pd.DataFrame:
    """Grids of ``level`` ranked by the open incidents among ``incidents`` (a new frame).

    ``grids``: ``code``, ``name``, ``level``; ``roster``: ``grid_code``, ``role``, ``name``, ``phone``,
    ``start_date``, ``end_date``, ``staff_id``. Columns: ``code``, ``name``, ``unresolved``,
    ``overdue``, ``head_name``, ``head_phone``, ``worker_name``, ``worker_phone`` (worker only for
    the finest level of ``grids``; ``None`` where nobody holds the role). Grids without an open
    incident are included with 0.
    """
    shown = grids.loc[grids["level"] == level, ["code", "name"]].reset_index(drop=True)
    open_rows = incidents.loc[_open(incidents) & incidents["grid_code"].notna()]
    late = overdue_mask(open_rows, now=now) if len(open_rows) else pd.Series([], dtype=bool)
    width = int(shown["code"].str.len().max()) if len(shown) else 0
    keys = open_rows["grid_code"].astype(str).str.slice(0, width)
    unresolved = keys.value_counts()
    overdue = keys[late.to_numpy(dtype=bool)].value_counts()
    shown["unresolved"] = shown["code"].map(unresolved).fillna(0).astype("int64")
    shown["overdue"] = shown["code"].map(overdue).fillna(0).astype("int64")
    active = _active(roster, on)
    heads = _nearest(shown["code"], active.loc[active["role"] == "grid_head"])
    shown["head_name"], shown["head_phone"] = heads["name"].to_numpy(), heads["phone"].to_numpy()
    finest = int(grids["level"].max()) if len(grids) else level
    if level == finest:
        workers = active.loc[active["role"] == "micro_worker"].sort_values(["start_date", "staff_id"], kind="stable")
        first = workers.drop_duplicates("grid_code").set_index("grid_code")
        shown["worker_name"] = shown["code"].map(first["name"])
        shown["worker_phone"] = shown["code"].map(first["phone"])
    else:
        shown["worker_name"] = None
        shown["worker_phone"] = None
    shown = shown.astype({"worker_name": object, "worker_phone": object})
    shown = shown.where(shown.notna(), None)
    return shown.sort_values(["unresolved", "overdue", "code"], ascending=[False, False, True], kind="stable").reset_index(
        drop=True)


def overdue_list(incidents: pd.DataFrame, *, now: dt.datetime) -> pd.DataFrame:
    """The overdue ones of ``incidents``, most overdue first, with ``overdue_days`` (whole days past the
    deadline) and ``overdue_hours`` (hours past it)."""
    late = overdue_incidents(incidents, now=now)
    late["overdue_days"] = np.floor(late["overdue_hours"] / 24.0).astype("int64") if len(late) else pd.Series(
        [], dtype="int64")
    return late.reset_index(drop=True)


@dataclass(frozen=True)
class AssessmentMonth:
    """The month an assessment ranking shows: ``YYYY-MM``; ``complete`` when it has ended;
    ``days_covered`` of ``days_in_month`` (local days up to and including today for the current month)."""

    month: str
    complete: bool
    days_covered: int
    days_in_month: int


def assessment_month(now: dt.datetime, *, current: bool = False, timezone: str = "Asia/Shanghai") -> AssessmentMonth:
    """The last complete month before ``now`` (local), or with ``current`` the month ``now`` is in."""
    today = local_date(require_aware(now, name="now"), timezone)
    if current:
        days = calendar.monthrange(today.year, today.month)[1]
        return AssessmentMonth(f"{today:%Y-%m}", False, today.day, days)
    first = previous_month(today)
    days = calendar.monthrange(first.year, first.month)[1]
    return AssessmentMonth(f"{first:%Y-%m}", True, days, days)
