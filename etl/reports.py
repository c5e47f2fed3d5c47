"""Files of the monthly joint-meeting report: maps as PNG, the workbook (XLSX) and a printable HTML page.

The figures come from :class:`governance.report.MonthlyReport`. Two maps are rendered with
matplotlib: a heatmap of the month's incidents and a choropleth of incidents per micro-grid, drawn
in metres in the CGCS2000 Gauss-Krüger zone of the grids (``gk_zone_epsg``) from geometries in
EPSG:4490. The XLSX has the tables and a sheet of maps; the HTML page embeds the maps as PNG data
URIs (print it to PDF from a browser). Chinese labels need the CJK font (:mod:`gis.fonts`).
"""

from __future__ import annotations

import base64
import html
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from etl.sheets import write_xlsx
from gis import clock
from gis.crs import STORAGE_EPSG, gk_zone_epsg
from gis.fonts import cjk_font
from governance.report import TOTAL, UNCLASSIFIED, MonthlyReport
from governance.vocab import DISPOSITION_TERMS

__all__ = ["render_heatmap_png", "render_choropleth_png", "write_monthly_xlsx", "write_monthly_html"]

logger = logging.getLogger(__name__)

_LABELS_ZH = {**DISPOSITION_TERMS.labels("zh"), UNCLASSIFIED: "未分类", TOTAL: "合计"}


# -- maps ----------------------------------------------------------------------------------------
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
        cbar.set_label("事件数 incidents", fontproperties=cjk_font())
    ax.set_title(title or f"{report.month} 事件热力图 incident heatmap", fontproperties=cjk_font())
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
    ax.set_title(title or f"{report.month} 各网格事件数 incidents per micro-grid", fontproperties=cjk_font())
    return _png(fig)


# -- files ---------------------------------------------------------------------------------------
def _local_naive(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Copy with aware datetime columns as local wall-clock times (Excel has no time zones)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert(clock.zone(timezone)).dt.tz_localize(None)
    return out


def _summary_rows(report: MonthlyReport) -> list[tuple[str, Any]]:
    t = report.totals
    rate = t["closure_rate"]
    return [
        ("月份 month", report.month),
        ("联席会议日期 meeting date", report.meeting_date.isoformat()),
        ("统计截至 as of", report.as_of.astimezone(clock.zone(report.timezone)).strftime("%Y-%m-%d %H:%M")),
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
    sheets = {
        "summary": pd.DataFrame(_summary_rows(report), columns=["item", "value"]),
        "by_category": report.by_category,
        "hard_cases": _local_naive(report.hard_cases, report.timezone),
        "per_grid": report.per_grid,
        "workers": report.workers,
    }

    def add_maps(book) -> None:  # noqa: ANN001 - openpyxl Workbook
        from openpyxl.drawing.image import Image

        sheet = book.create_sheet("maps")
        for anchor, png in (("A1", render_heatmap_png(report)), ("A36", render_choropleth_png(report))):
            sheet.add_image(Image(io.BytesIO(png)), anchor)

    write_xlsx(sheets, path, index={"by_category": True}, before_save=add_maps if with_maps else None)
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
