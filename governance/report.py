"""The monthly joint-meeting report (月度联席会议, held on the 25th).

The report covers one calendar month in Asia/Shanghai: the month's incidents by category
and disposition, the open hard cases (research-and-assign, or past their deadline at
``as_of``), per-grid and per-worker figures (:mod:`governance.assessment`) and two maps
rendered with matplotlib: a heatmap of the month's incidents and a choropleth of incidents
per micro-grid. It is written as XLSX (tables, maps on a sheet) and as a self-contained HTML
page (maps embedded as PNG data URIs; print it to PDF from a browser).

Maps are drawn in metres in the CGCS2000 Gauss-Krüger zone of the grids (``gk_zone_epsg``);
geometries are loaded in EPSG:4490.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from gis.crs import STORAGE_EPSG, gk_zone_epsg
from governance.vocab import DISPOSITIONS

from governance.assessment import assess_month, rank
from gis.clock import month_bounds, require_aware
from governance.deadlines import overdue_mask

__all__ = [
    "CJK_FONT",
    "MonthlyReport",
    "build_monthly_report",
    "render_heatmap_png",
    "render_choropleth_png",
    "write_monthly_xlsx",
    "write_monthly_html",
]

logger = logging.getLogger(__name__)

#: Font with CJK glyphs for map titles and labels.
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
#: Column / row label of the sums in the category × disposition table.
TOTAL = "total"
UNCLASSIFIED = "unclassified"

_LABELS_ZH = {
    "solve_now": "即时解决",
    "research_assign": "研究交办",
    "explain_respond": "解释回应",
    UNCLASSIFIED: "未分类",
    TOTAL: "合计",
}


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
    db: Any,
    *,
    month: str | dt.date,
    as_of: dt.datetime | None = None,
    timezone: str = "Asia/Shanghai",
    scope: Sequence[str] | None = None,
) -> MonthlyReport:
    """Collect the month's figures from the database (``db``: Connection or Session).

    ``as_of`` (aware; default now) decides what is open or overdue "now"; ``scope`` limits
    the report to grid codes starting with one of the prefixes.
    """
    from boundaries.coding import default_scheme
    from store.governance import load_frames, load_grids

    start, end = month_bounds(month, timezone)
    as_of = require_aware(as_of or dt.datetime.now(dt.UTC), name="as_of")
    frames = load_frames(db, month=month, timezone=timezone, scope=scope)
    incidents = frames["incidents"]
    finest = default_scheme().finest_level
    grids = load_grids(db, level=finest, with_geometry=True, scope=scope)

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

    open_ = ~incidents["status"].isin(["closed", "rejected"])
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


# -- maps ----------------------------------------------------------------------------------------
def _font():  # noqa: ANN202 - matplotlib FontProperties
    from matplotlib import font_manager

    if CJK_FONT.is_file():
        return font_manager.FontProperties(fname=str(CJK_FONT))
    logger.warning("CJK font %s not found; Chinese labels may show as boxes", CJK_FONT)
    return font_manager.FontProperties()


def _figure():  # noqa: ANN202
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 6.0), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def _png(fig) -> bytes:  # noqa: ANN001
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _metric(grids, incidents: pd.DataFrame):  # noqa: ANN001, ANN202
    """Grids and incident points in the GK zone (metres)."""
    import geopandas as gpd

    if len(grids):
        minx, _, maxx, _ = grids.total_bounds
        lon = np.array([(minx + maxx) / 2.0])
    else:
        lon = incidents["lon"].to_numpy(dtype=float)
    epsg = gk_zone_epsg(lon) if len(lon) else 4547
    metric_grids = grids.to_crs(epsg) if len(grids) else grids
    points = gpd.GeoDataFrame(
        incidents, geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"]), crs=STORAGE_EPSG
    ).to_crs(epsg)
    return metric_grids, points


def _outline(ax, grids) -> None:  # noqa: ANN001
    """Level-1 outlines (micro-grids dissolved by their level-1 code prefix), drawn thick."""
    from boundaries.coding import default_scheme

    if not len(grids):
        return
    prefix = default_scheme().length(1)
    level1 = grids.assign(_level1=grids["code"].str.slice(0, prefix)).dissolve(by="_level1")
    level1.boundary.plot(ax=ax, color="#7f1d1d", linewidth=1.2)


def render_heatmap_png(report: MonthlyReport, *, title: str | None = None) -> bytes:
    """Heatmap (hexagonal bins, 150 m) of the month's incidents over the micro-grid outlines."""
    fig, ax = _figure()
    grids, points = _metric(report.grids, report.incidents)
    if len(grids):
        grids.boundary.plot(ax=ax, color="#777777", linewidth=0.4)
        _outline(ax, grids)
    if len(points):
        x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
        span = max(np.ptp(x) if len(x) else 0, np.ptp(y) if len(y) else 0, 300.0)
        hb = ax.hexbin(x, y, gridsize=max(int(span / 150.0), 5), cmap="YlOrRd", mincnt=1, alpha=0.85)
        cbar = fig.colorbar(hb, ax=ax, shrink=0.7)
        cbar.set_label("事件数 incidents", fontproperties=_font())
    ax.set_title(title or f"{report.month} 事件热力图 incident heatmap", fontproperties=_font())
    return _png(fig)


def render_choropleth_png(report: MonthlyReport, *, column: str = "incidents_discovered", title: str | None = None) -> bytes:
    """Choropleth of a per-grid figure (default: incidents reported in the month) by micro-grid."""
    fig, ax = _figure()
    grids, _ = _metric(report.grids, report.incidents.iloc[:0])
    if len(grids):
        values = report.per_grid.set_index("grid_code")[column]
        shaded = grids.assign(value=grids["code"].map(values).fillna(0).astype(float))
        shaded.plot(ax=ax, column="value", cmap="Blues", edgecolor="#555555", linewidth=0.3, legend=True,
                    legend_kwds={"shrink": 0.7})
        _outline(ax, grids)
    ax.set_title(title or f"{report.month} 各网格事件数 incidents per micro-grid", fontproperties=_font())
    return _png(fig)


# -- files ---------------------------------------------------------------------------------------
def _local_naive(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Copy with aware datetime columns as local wall-clock times (Excel has no time zones)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert(ZoneInfo(timezone)).dt.tz_localize(None)
    return out


def _summary_rows(report: MonthlyReport) -> list[tuple[str, Any]]:
    t = report.totals
    rate = t["closure_rate"]
    return [
        ("月份 month", report.month),
        ("联席会议日期 meeting date", report.meeting_date.isoformat()),
        ("统计截至 as of", report.as_of.astimezone(ZoneInfo(report.timezone)).strftime("%Y-%m-%d %H:%M")),
        ("本月上报 reported", t["reported"]),
        ("不予受理 rejected", t["rejected"]),
        ("本月办结 closed", t["closed"]),
        ("办结率 closure rate", None if rate != rate else f"{rate:.1%}"),
        ("当前在办 open now", t["open_now"]),
        ("当前超期 overdue now", t["overdue_now"]),
        ("疑难事项 hard cases", t["hard_cases"]),
    ]


def write_monthly_xlsx(report: MonthlyReport, path: str | Path, *, with_maps: bool = True) -> Path:
    """Write the report workbook: sheets summary, by_category, hard_cases, per_grid, workers (+ maps)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(_summary_rows(report), columns=["item", "value"]).to_excel(writer, sheet_name="summary", index=False)
        report.by_category.to_excel(writer, sheet_name="by_category")
        _local_naive(report.hard_cases, report.timezone).to_excel(writer, sheet_name="hard_cases", index=False)
        report.per_grid.to_excel(writer, sheet_name="per_grid", index=False)
        report.workers.to_excel(writer, sheet_name="workers", index=False)
        if with_maps:
            from openpyxl.drawing.image import Image

            sheet = writer.book.create_sheet("maps")
            for anchor, png in (("A1", render_heatmap_png(report)), ("A36", render_choropleth_png(report))):
                image = Image(io.BytesIO(png))
                sheet.add_image(image, anchor)
    return path


def _table_html(frame: pd.DataFrame, *, index: bool = False) -> str:
    return frame.to_html(index=index, escape=True, na_rep="", border=0, classes="t", float_format=lambda v: f"{v:.2f}")


def write_monthly_html(report: MonthlyReport, path: str | Path) -> Path:
    """Write a self-contained printable HTML report with both maps embedded as PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [
        ("事件热力图 Incident heatmap", render_heatmap_png(report)),
        ("各网格事件数 Incidents per micro-grid", render_choropleth_png(report)),
    ]
    figures = "\n".join(
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, png in images
    )
    summary = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape('' if v is None else str(v))}</td></tr>"
        for k, v in _summary_rows(report)
    )
    by_category = report.by_category.rename(columns=_LABELS_ZH, index=_LABELS_ZH)
    hard = _local_naive(report.hard_cases, report.timezone)
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{report.month} 月度联席会议报告 Monthly joint-meeting report</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 10.5pt; }}
table.t, table.s {{ border-collapse: collapse; margin: 6pt 0 14pt 0; }}
table.t th, table.t td, table.s th, table.s td {{ border: 1px solid #999; padding: 2pt 6pt; }}
figure {{ display: inline-block; margin: 0 8pt 8pt 0; }} img {{ max-width: 100%; }}
h2 {{ border-bottom: 2px solid #333; page-break-after: avoid; }}
</style></head><body>
<h1>{report.month} 月度联席会议报告 <small>Monthly joint-meeting report</small></h1>
<h2>概况 Summary</h2>
<table class="s">{summary}</table>
<h2>事件分类统计 Incidents by category and disposition</h2>
{_table_html(by_category, index=True)}
<h2>地图 Maps</h2>
{figures}
<h2>疑难及超期事项 Open hard cases</h2>
{_table_html(hard)}
<h2>各网格情况 Per-grid figures</h2>
{_table_html(report.per_grid)}
<h2>网格员考核排名 Worker ranking</h2>
{_table_html(report.workers)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
