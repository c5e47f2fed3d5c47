"""Monthly assessment figures per worker and per grid (pure; frames in, frames out).

Definitions for a calendar month ``[start, end)`` in Asia/Shanghai (``as_of`` caps "now"):

``visits_made``
    distinct households visited in the month (by the worker / in the grid, by anyone).
``visits_required``
    ``max(min(min_households, households), special_households)``: at least 10 households
    (or all of them if fewer) and every special household.
``special_covered``
    special households of the worker's grids / of the grid visited in the month by anyone.
``incidents_discovered``
    worker: incidents ``reported_by`` the worker in the month; grid: incidents reported in
    the month whose ``grid_code_at_report`` (or ``grid_code``) lies in the grid.
``incidents_closed``
    incidents with ``status = 'closed'`` and ``closed_at`` in the month (worker: assigned to
    them; grid: located in the grid).
``closure_rate``
    share of the scope's incidents reported in the month (rejected ones excluded) that were
    closed before the month ended (``NaN`` when there are none).
``median_hours_to_close``
    median of ``closed_at - reported_at`` in hours over ``incidents_closed`` (``NaN`` if none).
``overdue``
    scope incidents (not rejected) whose ``deadline`` fell in ``[start, min(end, as_of))`` and
    that were not closed by it.
``score``
    daily points: :class:`ScoreWeights` times the figures above.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from gis.clock import local_date
from governance._frames import has_special, match_prefix, require_columns, utc, within
from gis.clock import month_bounds, require_aware
from governance.visits import MIN_HOUSEHOLDS_PER_MONTH, worker_grids

__all__ = ["ScoreWeights", "Assessment", "assess_month", "rank"]

INCIDENT_COLUMNS = ("id", "grid_code", "reported_at", "reported_by", "assigned_to", "status", "deadline", "closed_at")
FIGURES = (
    "households",
    "special_households",
    "visits_made",
    "visits_required",
    "special_covered",
    "incidents_discovered",
    "incidents_closed",
    "closure_rate",
    "median_hours_to_close",
    "overdue",
    "score",
)


@dataclass(frozen=True)
class ScoreWeights:
    """Points per unit of each figure (configurable; overdue and missed visits are penalties)."""

    visit: float = 1.0
    special_covered: float = 2.0
    incident_discovered: float = 2.0
    incident_closed: float = 3.0
    overdue: float = -5.0
    missed_visit: float = -1.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Assessment:
    """Figures of one month: ``workers`` (one row per ``staff_id``) and ``grids`` (per ``grid_code``)."""

    month: str
    as_of: dt.datetime
    workers: pd.DataFrame
    grids: pd.DataFrame
    weights: ScoreWeights

    def to_json_dict(self) -> dict:
        """Plain-JSON form (NaN → None) for ``gridgov report assessment --json``."""

        def rows(frame: pd.DataFrame) -> list[dict]:
            clean = frame.astype(object).where(frame.notna(), None)
            return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in clean.to_dict("records")]

        return {
            "month": self.month,
            "as_of": self.as_of.isoformat(),
            "weights": self.weights.as_dict(),
            "workers": rows(self.workers),
            "grids": rows(self.grids),
        }


def _incident_figures(incidents: pd.DataFrame, key: pd.Series, keys: pd.Index, *, start, end, as_of) -> pd.DataFrame:
    """discovered/closed/closure/median/overdue per key; ``key`` maps incident rows → keys (NaN = none)."""
    frame = pd.DataFrame(index=keys)
    inc = incidents.assign(_key=key).dropna(subset=["_key"])
    reported = utc(inc["reported_at"])
    closed_at = utc(inc["closed_at"])
    deadline = utc(inc["deadline"])
    is_closed = inc["status"].eq("closed") & closed_at.notna()
    not_rejected = ~inc["status"].eq("rejected")
    hi = pd.Timestamp(end).tz_convert("UTC")
    now = min(pd.Timestamp(as_of).tz_convert("UTC"), hi)
    lo = pd.Timestamp(start).tz_convert("UTC")

    closed_in_month = is_closed & within(inc["closed_at"], start, end)
    hours = (closed_at - reported).dt.total_seconds() / 3600.0
    frame["incidents_closed"] = closed_in_month.groupby(inc["_key"]).sum()
    frame["median_hours_to_close"] = hours[closed_in_month].groupby(inc["_key"][closed_in_month]).median()

    of_month = within(inc["reported_at"], start, end) & not_rejected
    closed_by_end = is_closed & (closed_at < hi)
    denominator = of_month.groupby(inc["_key"]).sum()
    numerator = (of_month & closed_by_end).groupby(inc["_key"]).sum()
    frame["closure_rate"] = (numerator / denominator.where(denominator > 0)).astype(float)

    due_in_month = deadline.notna() & (deadline >= lo) & (deadline < now) & not_rejected
    missed = due_in_month & ~(is_closed & (closed_at <= deadline))
    frame["overdue"] = missed.groupby(inc["_key"]).sum()
    for col in ("incidents_closed", "overdue"):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["closure_rate"] = frame["closure_rate"].astype(float)
    frame["median_hours_to_close"] = frame["median_hours_to_close"].astype(float)
    return frame


def _score(frame: pd.DataFrame, weights: ScoreWeights) -> pd.Series:
    missed = (frame["visits_required"] - frame["visits_made"]).clip(lower=0)
    return (
        weights.visit * frame["visits_made"]
        + weights.special_covered * frame["special_covered"]
        + weights.incident_discovered * frame["incidents_discovered"]
        + weights.incident_closed * frame["incidents_closed"]
        + weights.overdue * frame["overdue"]
        + weights.missed_visit * missed
    ).astype(float)


def assess_month(
    *,
    households: pd.DataFrame,
    visits: pd.DataFrame,
    assignments: pd.DataFrame,
    incidents: pd.DataFrame,
    month: str | dt.date,
    grids: pd.DataFrame | None = None,
    staff: pd.DataFrame | None = None,
    as_of: dt.datetime | None = None,
    weights: ScoreWeights | None = None,
    min_households: int = MIN_HOUSEHOLDS_PER_MONTH,
    timezone: str = "Asia/Shanghai",
) -> Assessment:
    """Compute the month's figures (see the module docstring for every definition).

    Parameters
    ----------
    households, visits, assignments:
        As for :func:`governance.visits.visit_plan`.
    incidents:
        Columns ``id``, ``grid_code``, ``reported_at``, ``reported_by``, ``assigned_to``,
        ``status``, ``deadline``, ``closed_at`` (times aware); ``grid_code_at_report`` is used
        for the grid a report counts in when present.
    grids:
        Columns ``code`` and optionally ``name``/``level``: the grids to report on (default:
        every micro-grid code found in households and incidents).
    staff:
        Columns ``id`` and ``name`` to label workers (optional).
    as_of:
        Aware "now" (default: now); deadlines after it are not overdue yet.
    """
    require_columns(incidents, INCIDENT_COLUMNS, name="incidents")
    start, end = month_bounds(month, timezone)
    as_of = require_aware(as_of or dt.datetime.now(start.tzinfo), name="as_of")
    weights = weights or ScoreWeights()
    cut = min(as_of, end - dt.timedelta(microseconds=1))
    pairs = worker_grids(
        assignments, on=local_date(start, timezone), end=local_date(max(cut, start), timezone)
    )
    hh = households.reset_index(drop=True)
    hh_special = has_special(hh["special_kinds"]) if len(hh) else pd.Series([], dtype=bool)
    in_month = visits.loc[within(visits["visited_at"], start, end)]
    visited_any = set(in_month["household_id"].astype("int64"))
    hh_visited = hh["id"].isin(visited_any)

    # -- per worker -------------------------------------------------------------------
    staff_ids = pd.Index(sorted(pairs["staff_id"].unique()), name="staff_id")
    owned = match_prefix(hh["grid_code"], pairs["grid_code"]).merge(
        pairs, left_on="target", right_on="grid_code"
    )[["staff_id", "row"]].drop_duplicates()
    owned_special = hh_special.reindex(owned["row"]).to_numpy(dtype=bool)
    owned_visited = hh_visited.reindex(owned["row"]).to_numpy(dtype=bool)
    workers = pd.DataFrame(index=staff_ids)
    workers["grid_codes"] = pairs.groupby("staff_id")["grid_code"].agg(lambda s: ",".join(sorted(s)))
    workers["households"] = owned.groupby("staff_id")["row"].nunique()
    workers["special_households"] = owned[owned_special].groupby("staff_id")["row"].nunique()
    workers["special_covered"] = owned[owned_special & owned_visited].groupby("staff_id")["row"].nunique()
    workers["visits_made"] = in_month.groupby(in_month["staff_id"].astype("int64"))["household_id"].nunique()
    reported_by = pd.to_numeric(incidents["reported_by"], errors="coerce").astype("Int64")
    discovered = within(incidents["reported_at"], start, end) & reported_by.isin(staff_ids).fillna(False)
    workers["incidents_discovered"] = reported_by[discovered].astype("int64").value_counts()
    assigned = pd.to_numeric(incidents["assigned_to"], errors="coerce").astype("Int64")
    assigned = assigned.where(assigned.isin(staff_ids).fillna(False))
    workers = workers.join(_incident_figures(incidents, assigned, staff_ids, start=start, end=end, as_of=as_of))
    workers = _finish(workers, weights, min_households)
    if staff is not None and len(workers):
        names = staff.set_index("id")["name"]
        workers.insert(1, "name", workers["staff_id"].map(names))

    # -- per grid -------------------------------------------------------------------------
    if grids is not None:
        grid_frame = grids[["code"] + [c for c in ("name", "level") if c in grids.columns]].copy()
    else:
        codes = pd.concat([hh["grid_code"], incidents["grid_code"]]).dropna().astype(str).unique()
        grid_frame = pd.DataFrame({"code": sorted(codes)})
    grid_codes = pd.Index(grid_frame["code"].astype(str), name="grid_code")
    gmatch = match_prefix(hh["grid_code"], grid_codes)
    g_special = hh_special.reindex(gmatch["row"]).to_numpy(dtype=bool)
    g_visited = hh_visited.reindex(gmatch["row"]).to_numpy(dtype=bool)
    per_grid = pd.DataFrame(index=grid_codes)
    per_grid["households"] = gmatch.groupby("target")["row"].nunique()
    per_grid["special_households"] = gmatch[g_special].groupby("target")["row"].nunique()
    per_grid["special_covered"] = gmatch[g_special & g_visited].groupby("target")["row"].nunique()
    per_grid["visits_made"] = gmatch[g_visited].groupby("target")["row"].nunique()
    at_report = incidents["grid_code_at_report"] if "grid_code_at_report" in incidents else incidents["grid_code"]
    at_report = at_report.fillna(incidents["grid_code"]) if "grid_code_at_report" in incidents else at_report
    imatch = match_prefix(at_report, grid_codes)
    new_in_month = within(incidents["reported_at"], start, end)
    imatch = imatch[new_in_month.reindex(imatch["row"]).to_numpy(dtype=bool)]
    per_grid["incidents_discovered"] = imatch.groupby("target")["row"].nunique()
    # incident work is routed by the current grid_code; an incident lies in one micro-grid, so
    # mapping each incident to the deepest listed grid containing it keeps counts additive.
    cmatch = match_prefix(incidents["grid_code"], grid_codes)
    cmatch = cmatch.assign(_len=cmatch["target"].str.len()).sort_values("_len").drop_duplicates("row", keep="last")
    grid_key = pd.Series(cmatch["target"].to_numpy(), index=cmatch["row"].to_numpy()).reindex(incidents.index)
    per_grid = per_grid.join(_incident_figures(incidents, grid_key, grid_codes, start=start, end=end, as_of=as_of))
    per_grid = _finish(per_grid, weights, min_households)
    extra = grid_frame.drop(columns="code").set_axis(range(len(grid_frame)))
    per_grid = pd.concat([per_grid.iloc[:, :1], extra, per_grid.iloc[:, 1:]], axis=1)

    return Assessment(month=start.strftime("%Y-%m"), as_of=as_of, workers=workers, grids=per_grid, weights=weights)


def _finish(frame: pd.DataFrame, weights: ScoreWeights, min_households: int) -> pd.DataFrame:
    counts = ["households", "special_households", "special_covered", "visits_made", "incidents_discovered"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame["visits_required"] = np.maximum(
        frame["households"].clip(upper=min_households), frame["special_households"]
    ).astype("int64")
    frame["score"] = _score(frame, weights)
    ordered = [c for c in frame.columns if c not in FIGURES] + list(FIGURES)
    return frame[ordered].reset_index()


def rank(figures: pd.DataFrame, *, by: str = "score") -> pd.DataFrame:
    """Copy sorted best first by ``by`` (ties: fewer overdue, then key), with a 1-based ``rank``."""
    key = figures.columns[0]
    ordered = figures.sort_values([by, "overdue", key], ascending=[False, True, True], kind="stable")
    ordered = ordered.reset_index(drop=True)
    ordered.insert(0, "rank", ordered[by].rank(method="min", ascending=False).astype("int64"))
    return ordered
