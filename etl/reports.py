"""Files of the monthly joint-meeting report: maps as PNG, the workbook (XLSX) and a printable HTML page.

The figures come from :class:`governance.report.MonthlyReport`. Two maps are rendered with
matplotlib: a heatmap of the month's incidents and a choropleth of incidents per micro-grid, drawn
in metres in the CGCS2000 Gauss-Krüger zone of the grids (``gk_zone_epsg``) from geometries in
EPSG:4490. The XLSX has the tables and a sheet of maps; the HTML page embeds the maps as PNG data
URIs (print it to PDF from a browser). Chinese labels need the CJK font (:mod:`gis.fonts`).

Every word of the files comes from :mod:`i18n.catalogue` in the language asked for (``lang``, ``zh``
by default): sheet names, column headers, headings, and the labels of categories, statuses and
dispositions; overdue time is written in days and hours (:func:`i18n.duration`).
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
from i18n.catalogue import duration, label, translate

__all__ = ["render_heatmap_png", "render_choropleth_png", "report_tables", "write_monthly_xlsx", "write_monthly_html"]

logger = logging.getLogger(__name__)

#: The report's tables in order (sheet ``report.sheet.<key>``, heading ``report.head.<key>``).
TABLES = ("summary", "by_category", "hard_cases", "per_grid", "workers")
#: Columns whose values are domain codes, shown by their label (catalogue prefix).
_CODED = {"category": "category", "status": "status", "disposition": "disposition"}


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


def render_heatmap_png(report: MonthlyReport, *, title: str | None = None, lang: str = "zh") -> bytes:
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
        cbar.set_label(translate("report.map.incidents", lang), fontproperties=cjk_font())
    ax.set_title(title or translate("report.map.heatmap", lang, month=report.month), fontproperties=cjk_font())
    return _png(fig)


def render_choropleth_png(report: MonthlyReport, *, column: str = "incidents_discovered", title: str | None = None,
                          lang: str = "zh") -> bytes:
    """Choropleth of a per-grid figure (default: incidents reported in the month) by micro-grid."""
    fig, ax = _figure()
    grids, _ = _metric(report.grids, report.incidents.iloc[:0])
    if len(grids):
        values = report.per_grid.set_index("grid_code")[column]
        shaded = grids.assign(value=grids["code"].map(values).fillna(0).astype(float))
        shaded.plot(ax=ax, column="value", cmap="Blues", edgecolor="#555555", linewidth=0.3, legend=True,
                    legend_kwds={"shrink": 0.7})
        _outline(ax, grids)
    ax.set_title(title or translate("report.map.choropleth", lang, month=report.month), fontproperties=cjk_font())
    return _png(fig)


# -- files ---------------------------------------------------------------------------------------
def _local_naive(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Copy with aware datetime columns as local wall-clock times (Excel has no time zones)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert(clock.zone(timezone)).dt.tz_localize(None)
    return out


def _summary_rows(report: MonthlyReport, lang: str) -> list[tuple[str, Any]]:
    t = report.totals
    rate = t["closure_rate"]
    values = {
        "month": report.month,
        "meeting_date": report.meeting_date.isoformat(),
        "as_of": report.as_of.astimezone(clock.zone(report.timezone)).strftime("%Y-%m-%d %H:%M"),
        "reported": t["reported"],
        "rejected": t["rejected"],
        "closed": t["closed"],
        "closure_rate": translate("report.no_rate", lang) if rate != rate else f"{rate:.1%}",
        "open_now": t["open_now"],
        "overdue_now": t["overdue_now"],
        "hard_cases": t["hard_cases"],
    }
    return [(translate(f"report.item.{key}", lang), value) for key, value in values.items()]


def _column_label(column: str, lang: str) -> str:
    return translate(f"report.col.{column}", lang)


def _figures(frame: pd.DataFrame, lang: str, *, names: str = "name") -> pd.DataFrame:
    """Per-grid / per-worker figures: rates in percent, hours and scores to one decimal, headers worded
    (the ``name`` column is headed as ``names``: a grid's or a person's)."""
    out = frame.rename(columns={"name": names}) if names != "name" else frame.copy()
    if "closure_rate" in out:
        out["closure_rate"] = (out["closure_rate"].astype(float) * 100).round(1)
    for column in ("median_hours_to_close", "score"):
        if column in out:
            out[column] = out[column].astype(float).round(1)
    return out.rename(columns=lambda c: _column_label(str(c), lang))


def _hard_cases(report: MonthlyReport, lang: str) -> pd.DataFrame:
    """Open hard cases with labels for codes, local times and the overdue time in days and hours."""
    out = _local_naive(report.hard_cases, report.timezone)
    for column, prefix in _CODED.items():
        out[column] = out[column].map(lambda v, p=prefix: label(p, v, lang))
    out["overdue_hours"] = out["overdue_hours"].map(lambda v: duration(v, lang))
    out["assigned_to"] = pd.to_numeric(out["assigned_to"], errors="coerce").astype("Int64")
    return out.rename(columns=lambda c: _column_label(str(c), lang))


def _by_category(report: MonthlyReport, lang: str) -> pd.DataFrame:
    """Category × disposition counts, with rows and columns by their labels."""
    special = {UNCLASSIFIED: translate("report.unclassified", lang), TOTAL: translate("report.total", lang)}
    out = report.by_category.rename(
        index=lambda v: special.get(v) or label("category", v, lang),
        columns=lambda v: special.get(v) or label("disposition", v, lang),
    )
    out.index.name = translate("report.category", lang)
    return out


def report_tables(report: MonthlyReport, *, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The report's tables (keys :data:`TABLES`) as a person reads them in ``lang``: every header and
    coded value worded by the catalogue, times in the report's local zone (naive), overdue time as text."""
    return {
        "summary": pd.DataFrame(_summary_rows(report, lang),
                                columns=[translate("report.item.item", lang), translate("report.item.value", lang)]),
        "by_category": _by_category(report, lang),
        "hard_cases": _hard_cases(report, lang),
        "per_grid": _figures(report.per_grid, lang, names="grid_name"),
        "workers": _figures(report.workers, lang),
    }


def write_monthly_xlsx(report: MonthlyReport, path: str | Path, *, with_maps: bool = True, lang: str = "zh") -> Path:
    """Write the report workbook in ``lang``: sheets summary, by category, hard cases, per grid, workers (+ maps).

    Sheet names and headers come from the catalogue (``report.sheet.*``, ``report.col.*``); text cells
    that look like formulas are written as text (:func:`etl.sheets.write_xlsx`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = report_tables(report, lang=lang)
    sheets = {translate(f"report.sheet.{key}", lang): tables[key] for key in TABLES}

    def add_maps(book) -> None:  # noqa: ANN001 - openpyxl Workbook
        from openpyxl.drawing.image import Image

        sheet = book.create_sheet(translate("report.sheet.maps", lang))
        for anchor, png in (("A1", render_heatmap_png(report, lang=lang)),
                            ("A36", render_choropleth_png(report, lang=lang))):
            sheet.add_image(Image(io.BytesIO(png)), anchor)

    write_xlsx(sheets, path, index={translate("report.sheet.by_category", lang): True},
               before_save=add_maps if with_maps else None)
    return path


def _table_html(frame: pd.DataFrame, lang: str, *, index: bool = False) -> str:
    if frame.empty:
        return f"<p>{html.escape(translate('report.none', lang))}</p>"
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M")
    return shown.to_html(index=index, escape=True, na_rep="", border=0, classes="t",
                         float_format=lambda v: f"{v:.1f}")


def write_monthly_html(report: MonthlyReport, path: str | Path, *, lang: str = "zh") -> Path:
    """Write a self-contained printable HTML report in ``lang`` with both maps embedded as PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = report_tables(report, lang=lang)
    images = [
        (translate("report.map.heatmap", lang, month=report.month), render_heatmap_png(report, lang=lang)),
        (translate("report.map.choropleth", lang, month=report.month), render_choropleth_png(report, lang=lang)),
    ]
    figures = "\n".join(
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, png in images
    )
    summary = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape('' if v is None else str(v))}</td></tr>"
        for k, v in _summary_rows(report, lang)
    )
    title = html.escape(translate("report.title", lang, month=report.month))

    def head(key: str) -> str:
        return html.escape(translate(f"report.head.{key}", lang))

    page = f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else lang}"><head><meta charset="utf-8">
<title>{title}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 10.5pt; }}
table.t, table.s {{ border-collapse: collapse; margin: 6pt 0 14pt 0; }}
table.t th, table.t td, table.s th, table.s td {{ border: 1px solid #999; padding: 2pt 6pt; }}
figure {{ display: inline-block; margin: 0 8pt 8pt 0; }} img {{ max-width: 100%; }}
h2 {{ border-bottom: 2px solid #333; page-break-after: avoid; }}
</style></head><body>
<h1>{title}</h1>
<h2>{head("summary")}</h2>
<table class="s">{summary}</table>
<h2>{head("by_category")}</h2>
{_table_html(tables["by_category"], lang, index=True)}
<h2>{head("maps")}</h2>
{figures}
<h2>{head("hard_cases")}</h2>
{_table_html(tables["hard_cases"], lang)}
<h2>{head("per_grid")}</h2>
{_table_html(tables["per_grid"], lang)}
<h2>{head("workers")}</h2>
{_table_html(tables["workers"], lang)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
