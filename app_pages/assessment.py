"""Assessment page for leaders: per-worker and per-grid figures of a month, ranked, and
the monthly joint-meeting report (XLSX / HTML with maps) for download.

Thin layer over :mod:`governance.assessment` and :mod:`governance.report`; the same figures
come from ``gridgov report assessment --month YYYY-MM --json``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from access.permissions import may
from app_pages import common, three_in_one
from app_pages.charts import ranked_bars
from app_pages.i18n import current_language, t
from app_pages.three_in_one import ineligible_mark
from gis.settings import get_settings
from governance.assessment import ScoreWeights, assess_month, rank
from gis.clock import recent_months
from services.overview import SPECIAL_COUNT_COLUMNS, disclose_assessment
from services.report import write_monthly_report
from services.three_in_one import ineligible

FIGURE_KEYS = (
    ("visits_made", "assess.visits_made"),
    ("visits_required", "assess.visits_required"),
    ("special_covered", "assess.special_covered"),
    ("incidents_discovered", "assess.discovered"),
    ("incidents_closed", "assess.closed"),
    ("closure_rate", "field.closure_rate"),
    ("median_hours_to_close", "assess.median_hours"),
    ("overdue", "assess.overdue"),
    ("score", "assess.score"),
)


def _weights() -> ScoreWeights:
    defaults = ScoreWeights()
    with st.expander(t("assess.weights")):
        cols = st.columns(6)
        values = {
            name: cols[i].number_input(t(f"assess.weight.{name}"), value=float(getattr(defaults, name)), step=0.5,
                                       key=f"assess.weight.{name}")
            for i, name in enumerate(defaults.as_dict())
        }
    return ScoreWeights(**values)


def _figures(frame: pd.DataFrame, key_column: str, labels: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame({t("assess.rank"): frame["rank"]})
    for column, label in labels.items():
        out[label] = frame[column]
    for column, key in FIGURE_KEYS:
        values = frame[column]
        if column in SPECIAL_COUNT_COLUMNS and values.isna().any():  # suppressed small counts (access.disclosure)
            values = values.map(lambda v: str(common.shown_count(v)))
        elif column == "closure_rate":
            values = (values * 100).round(1)
        elif column == "median_hours_to_close":
            values = values.round(1)
        out[t(key)] = values
    return out


def _report_downloads(month: str) -> None:
    """The monthly report's files, for roles that make reports (``make_report``; audited as an export)."""
    actor = common.current_actor()
    if not may(actor.role, "make_report"):
        return
    st.subheader(t("assess.monthly"))
    st.caption(t("assess.monthly_hint"))
    if st.button(t("assess.make_report"), key="assess.make_report"):
        with st.spinner(t("assess.making")), tempfile.TemporaryDirectory() as tmp:
            files = write_monthly_report(common.get_engine(), actor, month=month, xlsx=Path(tmp) / f"monthly-{month}.xlsx",
                                         html=Path(tmp) / f"monthly-{month}.html", as_of=dt.datetime.now(dt.UTC),
                                         timezone=get_settings().timezone, lang=current_language())
            xlsx, html = files.xlsx.read_bytes(), files.html.read_bytes()
        st.session_state["assess.report"] = (month, xlsx, html, current_language())
    made = st.session_state.get("assess.report")
    if made and made[0] == month and made[3] == current_language():
        cols = st.columns(2)
        cols[0].download_button(t("assess.download_xlsx"), made[1], file_name=f"monthly-{month}.xlsx",
                                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                key="assess.download_xlsx")
        cols[1].download_button(t("assess.download_html"), made[2], file_name=f"monthly-{month}.html",
                                mime="text/html", key="assess.download_html")


def render() -> None:
    st.title(t("assess.title"))
    scope = common.user_scope()
    settings = get_settings()
    cols = st.columns([1, 1])
    month = cols[0].selectbox(t("field.month"), options=recent_months(12, tz=settings.timezone),
                              key="assess.month")
    weights = _weights()
    frames = common.load_governance_frames(common.data_token(), month, scope)
    grids = frames["grids"]
    levels = sorted(int(v) for v in grids["level"].unique()) if len(grids) else [1]
    level = cols[1].selectbox(t("inc.level"), options=levels, index=len(levels) - 1, key="assess.level",
                              format_func=lambda v: t(f"level.{v}") if v <= 3 else t("level.n", level=v))
    result = assess_month(
        households=frames["households"], visits=frames["visits"], assignments=frames["assignments"],
        incidents=frames["incidents"], grids=grids[grids["level"] == level], staff=frames["staff"], month=month,
        as_of=dt.datetime.now(dt.UTC), weights=weights, timezone=settings.timezone,
    )
    tab_workers, tab_grids, tab_tio = st.tabs([t("assess.tab_workers"), t("assess.tab_grids"), t("sp.tio.tab")])
    actor = common.current_actor()
    with tab_workers:
        ranked = disclose_assessment(rank(result.workers), actor, code_column="grid_codes")
        figures = _figures(ranked, "staff_id", {"name": t("field.staff"), "grid_codes": t("field.grid")})
        years = ineligible(common.get_engine(), actor)  # a 不合格 year: not eligible for awards
        figures[t("sp.tio.awards")] = ranked["staff_id"].map(lambda s: ineligible_mark(years.get(int(s)))).to_numpy()
        common.dataframe(figures, hide_index=True, width="stretch", height=420)
        top = ranked.head(20)
        ranked_bars((top["name"].fillna("") + " #" + top["staff_id"].astype(str)).tolist(), top["score"].tolist(),
                    value_title=t("assess.score"), label_title=t("field.staff"))
    with tab_grids:
        ranked = disclose_assessment(rank(result.grids), actor, code_column="grid_code")
        common.dataframe(
            _figures(ranked, "grid_code", {"grid_code": t("field.code"), "name": t("field.name")}),
            hide_index=True, width="stretch", height=420,
        )
    with tab_tio:
        three_in_one.render_tab()
    _report_downloads(month)
