"""The monthly joint-meeting report (月度联席会议, held on the 25th): its figures, computed from frames.

The report covers one calendar month in the local zone (Asia/Shanghai): the month's incidents by
category and disposition, the open hard cases (research-and-assign, or past their deadline at
``as_of``), per-grid and per-worker figures (:mod:`governance.assessment`). Pure: the frames come
from :func:`services.report.monthly_report` (which reads them from the database), and the files
(XLSX, HTML with maps) are written by :mod:`etl.reports`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from governance.vocab import DISPOSITIONS

from governance.assessment import assess_month, rank
from gis.clock import month_bounds, require_aware
from governance.deadlines import overdue_mask
from governance.vocab import TERMINAL_STATUSES

__all__ = ["MonthlyReport", "build_monthly_report", "TOTAL", "UNCLASSIFIED"]

logger = logging.getLogger(__name__)

#: Column / row label of the sums in the category × disposition table.
TOTAL = "total"
UNCLASSIFIED = "unclassified"

@dataclass(frozen=True)
class MonthlyReport:
    """Everything in the monthly report; frames are plain (times as aware UTC in the data)."""

    month: str
    meeting_date: dt.date
    as_of: dt.datetime
    timezone: str
    #: category × disposition counts of incidents reported in the month, with ``total`` row/column.
    by_category: pd.DataFrame
    #: headline numbers: reported, rejected, closed (in month), open_now, overdue_now, hard_cases, closure_rate.
    totals: dict[str, Any]
    #: open research-and-assign or overdue incidents (any month), most overdue first.
    hard_cases: pd.DataFrame
    #: per micro-grid figures (assessment) with ``grid_name``.
    per_grid: pd.DataFrame
    #: per worker figures, ranked.
    workers: pd.DataFrame
    #: the month's incidents (id, category, disposition, status, grid_code, lon, lat, reported_at).
    incidents: pd.DataFrame
    #: micro-grids (GeoDataFrame, EPSG:4490) for the maps.
    grids: Any = field(repr=False, default=None)


def build_monthly_report(
    frames: Mapping[str, pd.DataFrame],
    grids: Any,
    *,
    month: str | dt.date,
    as_of: dt.datetime | None = None,
    timezone: str = "Asia/Shanghai",
) -> MonthlyReport:
    """The month's figures from ``frames`` (households, visits, assignments, incidents, staff,
    grids — as :func:`store.governance.load_frames` returns them for the month) and the
    micro-grids ``grids`` (GeoDataFrame, EPSG:4490, for the maps).

    ``as_of`` (aware; default now) decides what is open or overdue "now".
    """
    start, end = month_bounds(month, timezone)
    as_of = require_aware(as_of or dt.datetime.now(dt.UTC), name="as_of")
    incidents = frames["incidents"]

    reported = incidents["reported_at"]
    in_month = incidents.loc[(reported >= pd.Timestamp(start)) & (reported < pd.Timestamp(end))].copy()
    in_month["disposition"] = in_month["disposition"].fillna(UNCLASSIFIED)
    columns = [*DISPOSITIONS, UNCLASSIFIED]
    table = pd.crosstab(in_month["category"], in_month["disposition"]).reindex(columns=columns, fill_value=0)
    table = table.sort_index()
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    table = table.astype("int64")
    table.index.name = "category"
    table.columns.name = None

    open_ = ~incidents["status"].isin(TERMINAL_STATUSES)
    overdue = overdue_mask(incidents, now=as_of)
    hard = incidents.loc[open_ & (incidents["disposition"].eq("research_assign") | overdue)].copy()
    deadline = hard["deadline"]
    hard["overdue_hours"] = ((pd.Timestamp(as_of).tz_convert("UTC") - deadline).dt.total_seconds() / 3600.0).where(
        deadline < pd.Timestamp(as_of)
    )
    names = frames["staff"].set_index("id")["name"] if len(frames["staff"]) else pd.Series(dtype=object)
    grid_names = dict(zip(frames["grids"]["code"], frames["grids"]["name"]))
    hard["assigned_to_name"] = hard["assigned_to"].map(lambda v: None if pd.isna(v) else names.get(int(v)))
    hard["grid_name"] = hard["grid_code"].map(grid_names)
    hard = hard.sort_values(["overdue_hours", "id"], ascending=[False, True], na_position="last", kind="stable")
    hard = hard[["id", "category", "grid_code", "grid_name", "status", "disposition", "reported_at", "deadline",
                 "overdue_hours", "assigned_to", "assigned_to_name", "description"]].reset_index(drop=True)

    assessment = assess_month(
        households=frames["households"],
        visits=frames["visits"],
        assignments=frames["assignments"],
        incidents=incidents,
        grids=pd.DataFrame({"code": grids["code"], "name": grids["name"]}),
        staff=frames["staff"],
        month=month,
        as_of=as_of,
        timezone=timezone,
    )
    closed_in_month = int(
        (incidents["status"].eq("closed") & (incidents["closed_at"] >= pd.Timestamp(start))
         & (incidents["closed_at"] < pd.Timestamp(end))).sum()
    )
    considered = in_month.loc[in_month["status"] != "rejected"]
    closure = float((considered["status"] == "closed").mean()) if len(considered) else float("nan")
    totals = {
        "reported": int(len(in_month)),
        "rejected": int((in_month["status"] == "rejected").sum()),
        "closed": closed_in_month,
        "closure_rate": closure,
        "open_now": int(open_.sum()),
        "overdue_now": int(overdue.sum()),
        "hard_cases": int(len(hard)),
    }
    first = start.date()
    return MonthlyReport(
        month=start.strftime("%Y-%m"),
        meeting_date=first.replace(day=25),
        as_of=as_of,
        timezone=timezone,
        by_category=table,
        totals=totals,
        hard_cases=hard,
        per_grid=assessment.grids,
        workers=rank(assessment.workers),
        incidents=in_month[["id", "category", "disposition", "status", "grid_code", "lon", "lat", "reported_at"]]
        .reset_index(drop=True),
        grids=grids,
    )
