"""This month's visit plan per micro-grid worker (pure; frames in, frames out).

Rules (issue #7, item 3):

* every special household (``special_kinds`` non-empty) in a worker's grids is visited every
  month; those nobody has visited yet this month are *pending*;
* each worker visits at least ``min_households`` (10) distinct households a month (capped at
  the number of households in their grids); the plan says how many more are needed;
* households whose data were not refreshed within the last ``refresh_months`` (3: a quarter)
  before ``as_of`` are *due for update*.

Months are calendar months in ``timezone`` (Asia/Shanghai). A worker's grids are the grids of
their ``micro_worker`` assignments active on ``as_of``'s local date; a household belongs to a
grid when its ``grid_code`` equals or descends from the grid's code.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.errors import ValidationError

from gis.clock import local_date
from governance._frames import active_on, has_special, match_prefix, require_columns, utc, within
from gis.clock import month_bounds, require_aware
from gis.plausibility import Limits
from governance.vocab import VISIT_KIND_TERMS

__all__ = [
    "MIN_HOUSEHOLDS_PER_MONTH",
    "VisitPlan",
    "VisitRecord",
    "VisitContext",
    "OVERSEEING_ROLES",
    "may_visit",
    "visit_plan",
    "validate_visit",
    "worker_grids",
    "worker_households",
]

#: Minimum distinct households a worker visits per month.
MIN_HOUSEHOLDS_PER_MONTH = 10

HOUSEHOLD_COLUMNS = ("id", "grid_code", "special_kinds", "refreshed_at")
VISIT_COLUMNS = ("household_id", "staff_id", "visited_at")
ASSIGNMENT_COLUMNS = ("staff_id", "grid_code", "role", "start_date", "end_date")


@dataclass(frozen=True)
class VisitRecord:
    """A visit to record. ``lon``/``lat`` are EPSG:4490 degrees (optional)."""

    household_id: int
    staff_id: int
    visited_at: dt.datetime
    kind: str = "routine"
    note: str = ""
    lon: float | None = None
    lat: float | None = None


#: Roles whose holder may visit households in the grids under the grid they hold (a grid head of
#: a level-2 grid visits in its micro-grids); every other role visits in its own grid only.
OVERSEEING_ROLES: frozenset[str] = frozenset({"liaison_leader", "grid_head", "supervisor", "coordinator"})


@dataclass(frozen=True)
class VisitContext:
    """What a visit is checked against, read when it is recorded.

    ``household_grid`` is the household's micro-grid code (``None``: outside every grid);
    ``household_lon``/``household_lat`` where it is (EPSG:4490 degrees); ``assignments`` the
    visitor's assignments as ``(grid_code, role, start_date, end_date)`` (``end_date`` inclusive,
    ``None`` open).
    """

    household_grid: str | None
    household_lon: float | None
    household_lat: float | None
    assignments: tuple[tuple[str, str, dt.date, dt.date | None], ...] = ()


def may_visit(assignments: Sequence[tuple[str, str, dt.date, dt.date | None]], grid_code: str | None, *,
              on: dt.date) -> bool:
    """Whether someone with ``assignments`` may visit a household in ``grid_code`` on ``on``.

    Allowed: any role active that day in the household's grid itself, or a role of
    :data:`OVERSEEING_ROLES` in a grid above it (its code a prefix of the household's).
    """
    if not grid_code:
        return False
    for code, role, start, end in assignments:
        if start > on or (end is not None and end < on):
            continue
        if code == grid_code or (role in OVERSEEING_ROLES and grid_code.startswith(code)):
            return True
    return False


def validate_visit(
    record: VisitRecord,
    *,
    now: dt.datetime | None = None,
    context: VisitContext | None = None,
    limits: Limits | None = None,
    max_distance_m: float | None = None,
    timezone: str | None = None,
) -> VisitRecord:
    """Check a visit before it is stored; raise :class:`ValidationError` listing every problem.

    Rules: positive ids; an aware time between ``GRIDGOV_EARLIEST_DATE`` and ``now`` plus the
    clock skew (:func:`gis.plausibility.check_moment`); a kind of
    :data:`governance.vocab.VISIT_KIND_TERMS`; a note without control characters (5,000
    characters at most); both or neither of lon/lat, finite degrees. With ``context`` (read from
    the database when the visit is recorded): the visitor is assigned that day to the
    household's grid, or holds an overseeing role above it (:func:`may_visit`); a location is
    within ``max_distance_m`` (default ``GRIDGOV_VISIT_MAX_DISTANCE_M``, 500 m) of the household.
    """
    from gis.plausibility import check_moment, check_text

    problems: list[ValidationError] = []

    def problem(message: str, code: str, **params: object) -> None:
        problems.append(ValidationError(message, code=code, params=params))

    limits = limits or Limits.from_settings()
    if isinstance(record.household_id, bool) or not isinstance(record.household_id, int) or record.household_id <= 0:
        problem(f"household id {record.household_id!r} is expected to be a positive integer", "visit.household_id",
                value=str(record.household_id))
    if isinstance(record.staff_id, bool) or not isinstance(record.staff_id, int) or record.staff_id <= 0:
        problem(f"staff id {record.staff_id!r} is expected to be a positive integer", "visit.staff_id",
                value=str(record.staff_id))
    moment_ok = False
    try:
        require_aware(record.visited_at, name="visited_at")
        if now is not None:
            check_moment(record.visited_at, what="visit time", field="visit.time", limits=limits,
                         now=require_aware(now, name="now"))
        moment_ok = True
    except ValidationError as exc:
        problems.append(exc)
    kind = (record.kind or "").strip()
    if not kind:
        problem("visit kind is empty", "visit.kind_missing")
    elif VISIT_KIND_TERMS.parse(kind) is None:
        problem(f"visit kind {kind!r} is not one of {VISIT_KIND_TERMS.accepted()}", "visit.kind_unknown", kind=kind)
    try:
        check_text(record.note or "", what="visit note", field="visit.note", kind="text")
    except ValidationError as exc:
        problems.append(exc)
    located = False
    if (record.lon is None) != (record.lat is None):
        problem("give both lon and lat, or neither", "location.half")
    elif record.lon is not None:
        lon, lat = float(record.lon), float(record.lat)  # type: ignore[arg-type]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            problem(f"location ({record.lon}, {record.lat}) is not a finite lon/lat in degrees", "location.not_finite")
        elif not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problem(f"location ({record.lon}, {record.lat}) is not lon/lat in degrees (EPSG:4490)", "location.range",
                    lon=record.lon, lat=record.lat)
        else:
            located = True
    if context is not None:
        if moment_ok and not may_visit(context.assignments, context.household_grid,
                                       on=local_date(record.visited_at, timezone)):
            where = f"grid {context.household_grid}" if context.household_grid else "no grid (it is outside every grid)"
            day = local_date(record.visited_at, timezone)
            message = (f"staff {record.staff_id} is not assigned to the household's {where} on "
                       f"{day}: a visit is recorded by the grid's own staff "
                       f"(or a {', '.join(sorted(OVERSEEING_ROLES))} of a grid above it) on the day of the visit")
            if context.household_grid:
                problem(message, "visit.not_assigned", grid=context.household_grid, day=day)
            else:
                problem(message, "visit.household_outside", day=day)
        if located and context.household_lon is not None and context.household_lat is not None:
            limit = max_distance_m if max_distance_m is not None else _default_distance()
            import shapely

            from gis.measure import distance_m

            far = float(np.ravel(distance_m(np.array([shapely.Point(record.lon, record.lat)], dtype=object),
                                            np.array([shapely.Point(context.household_lon, context.household_lat)],
                                                     dtype=object)))[0])
            if not far <= limit:
                problem(
                    f"the visit's location is {far:,.0f} m from the household; at most {limit:,.0f} m are accepted "
                    "(GRIDGOV_VISIT_MAX_DISTANCE_M): was it recorded at the household?", "visit.too_far",
                    distance=far, limit=limit)
    if problems:
        findings = [str(p) for p in problems]
        raise ValidationError("visit is not valid: " + "; ".join(findings), findings=findings, code="visit.invalid",
                              params={"problems": problems})
    return record


def _default_distance() -> float:
    from gis.settings import get_settings

    return get_settings().visit_max_distance_m


@dataclass(frozen=True)
class VisitPlan:
    """A month's plan.

    Attributes
    ----------
    workers:
        One row per worker (``staff_id``): ``grid_codes`` (comma-separated), ``households``,
        ``visited`` (distinct households the worker visited this month), ``remaining``
        (visits still needed to reach the minimum), ``special_households``,
        ``special_pending`` and ``due_for_update`` counts.
    special_pending:
        One row per (worker, special household not yet visited this month by anyone):
        ``staff_id``, ``household_id``, ``grid_code`` and the household's other columns.
    due_for_update:
        One row per (worker, household not refreshed within ``refresh_months``), same shape.
    """

    month: str
    as_of: dt.datetime
    workers: pd.DataFrame
    special_pending: pd.DataFrame
    due_for_update: pd.DataFrame


def worker_grids(assignments: pd.DataFrame, *, on: dt.date, end: dt.date | None = None) -> pd.DataFrame:
    """``staff_id`` → ``grid_code`` pairs of ``micro_worker`` assignments active on ``[on, end]``."""
    require_columns(assignments, ASSIGNMENT_COLUMNS, name="assignments")
    mask = (assignments["role"] == "micro_worker") & active_on(assignments, on, end or on)
    pairs = assignments.loc[mask, ["staff_id", "grid_code"]].drop_duplicates()
    return pairs.astype({"staff_id": "int64"}).reset_index(drop=True)


def worker_households(
    households: pd.DataFrame, assignments: pd.DataFrame, staff_id: int, *, on: dt.date
) -> pd.DataFrame:
    """Households in the grids where ``staff_id`` is the micro-grid worker on ``on`` (a copy)."""
    pairs = worker_grids(assignments, on=on)
    codes = pairs.loc[pairs["staff_id"] == int(staff_id), "grid_code"]
    rows = match_prefix(households["grid_code"], codes)["row"].unique()
    return households.loc[households.index.isin(rows)].copy()


def _months_before(value: dt.datetime, months: int) -> dt.datetime:
    """Same wall-clock time ``months`` calendar months earlier (day clipped to month end)."""
    year, month0 = divmod(value.year * 12 + value.month - 1 - months, 12)
    day = min(value.day, calendar.monthrange(year, month0 + 1)[1])
    return value.replace(year=year, month=month0 + 1, day=day)


def visit_plan(
    households: pd.DataFrame,
    visits: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    month: str | dt.date,
    as_of: dt.datetime | None = None,
    min_households: int = MIN_HOUSEHOLDS_PER_MONTH,
    refresh_months: int = 3,
    timezone: str = "Asia/Shanghai",
) -> VisitPlan:
    """Build the visit plan of ``month`` (``YYYY-MM``) for every worker active on ``as_of``.

    Parameters
    ----------
    households:
        Columns ``id``, ``grid_code``, ``special_kinds`` (list of str), ``refreshed_at``
        (aware or NaT); extra columns (``address``...) are carried into the lists.
    visits:
        Columns ``household_id``, ``staff_id``, ``visited_at`` (aware).
    assignments:
        Columns ``staff_id``, ``grid_code``, ``role``, ``start_date``, ``end_date`` (NULL = open).
    as_of:
        Aware time the plan is made at (default: now, clipped into the month). Decides which
        assignments are active and the refresh cut-off.
    """
    require_columns(households, HOUSEHOLD_COLUMNS, name="households")
    require_columns(visits, VISIT_COLUMNS, name="visits")
    start, end = month_bounds(month, timezone)
    if as_of is None:
        as_of = min(max(dt.datetime.now(start.tzinfo), start), end - dt.timedelta(microseconds=1))
    require_aware(as_of, name="as_of")
    pairs = worker_grids(assignments, on=local_date(as_of, timezone))

    hh = households.reset_index(drop=True)
    match = match_prefix(hh["grid_code"], pairs["grid_code"])
    owned = match.merge(pairs, left_on="target", right_on="grid_code", how="inner")[["staff_id", "row"]]
    owned = owned.drop_duplicates().merge(hh, left_on="row", right_index=True).drop(columns="row")
    owned = owned.rename(columns={"id": "household_id"})

    in_month = visits.loc[within(visits["visited_at"], start, end)]
    visited_any = set(in_month["household_id"].astype("int64"))
    visited_by = in_month[["staff_id", "household_id"]].astype("int64").drop_duplicates()

    owned_special = has_special(owned["special_kinds"]) if len(owned) else pd.Series([], dtype=bool)
    pending = owned.loc[owned_special & ~owned["household_id"].isin(visited_any)]
    cutoff = pd.Timestamp(_months_before(as_of, refresh_months)).tz_convert("UTC")
    refreshed = utc(owned["refreshed_at"])
    due = owned.loc[refreshed.isna() | (refreshed < cutoff)]

    staff_ids = pd.Index(sorted(pairs["staff_id"].unique()), name="staff_id")
    workers = pd.DataFrame(index=staff_ids)
    workers["grid_codes"] = pairs.groupby("staff_id")["grid_code"].agg(lambda s: ",".join(sorted(s)))
    workers["households"] = owned.groupby("staff_id")["household_id"].nunique()
    workers["visited"] = visited_by.groupby("staff_id")["household_id"].nunique()
    workers["special_households"] = owned.loc[owned_special].groupby("staff_id")["household_id"].nunique()
    workers["special_pending"] = pending.groupby("staff_id")["household_id"].nunique()
    workers["due_for_update"] = due.groupby("staff_id")["household_id"].nunique()
    counts = ["households", "visited", "special_households", "special_pending", "due_for_update"]
    workers[counts] = workers[counts].fillna(0).astype("int64")
    target = workers["households"].clip(upper=min_households)
    workers["remaining"] = (target - workers["visited"]).clip(lower=0).astype("int64")
    workers = workers.reset_index()

    order = ["staff_id", "grid_code", "household_id"]
    return VisitPlan(
        month=start.strftime("%Y-%m"),
        as_of=as_of,
        workers=workers,
        special_pending=pending.sort_values(order, kind="stable").reset_index(drop=True),
        due_for_update=due.sort_values(order, kind="stable").reset_index(drop=True),
    )
