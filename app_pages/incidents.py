"""Incident map for leaders: heatmap, monthly animation, clusters, choropleths, ranking, trend.

Every figure on the page comes from the same filter (dates, categories, statuses) and
agrees with a SQL count over it (``store.queries.incident_total``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common, folium_view
from app_pages.charts import ranked_bars
from app_pages.i18n import label_of, t


def _filters(token: str, scope) -> tuple:
    options = common.load_incident_options(token, scope)
    first, last = options["first"], options["last"]
    cols = st.columns([2, 2, 2, 1])
    dates = cols[0].date_input(
        t("inc.dates"), value=(first, last) if first and last else (), key="inc.dates",
        min_value=first, max_value=last,
    )
    categories = cols[1].multiselect(
        t("inc.categories"), options=options["categories"], key="inc.categories", placeholder=t("inc.all"),
        format_func=lambda c: label_of("category", c),
    )
    statuses = cols[2].multiselect(
        t("inc.statuses"), options=options["statuses"], key="inc.statuses", placeholder=t("inc.all"),
        format_func=lambda s: label_of("status", s),
    )
    level = cols[3].selectbox(t("inc.level"), options=[1, 2, 3], index=2, key="inc.level",
                              format_func=lambda v: t(f"level.{v}"))
    start = dates[0] if isinstance(dates, (tuple, list)) and len(dates) >= 1 else None
    end = dates[1] if isinstance(dates, (tuple, list)) and len(dates) == 2 else None
    return start, end, tuple(sorted(categories)), tuple(sorted(statuses)), int(level)


def render() -> None:
    st.title(t("inc.title"))
    scope = common.user_scope()
    token = common.data_token()
    basemap = common.current_basemap()
    start, end, categories, statuses, level = _filters(token, scope)

    total = common.load_incident_total(token, start, end, categories, statuses, scope)
    counts = common.load_counts_by_grid(token, start, end, categories, statuses, level, scope)
    trend = common.load_trend(token, start, end, categories, statuses, scope)
    st.markdown(f"**{t('inc.total', count=total['incidents'])}**")
    if total["unassigned"]:
        st.caption(t("inc.unassigned", count=total["unassigned"]))
    if total["incidents"] == 0:
        st.info(t("inc.none"))

    # One view at a time (not st.tabs): Leaflet cannot size a map inside a hidden tab, and
    # only the chosen map is built and sent.
    view = st.radio(
        t("inc.view"), options=("map", "time"), key="inc.view", horizontal=True, label_visibility="collapsed",
        format_func=lambda v: {"map": t("inc.tab_map"), "time": t("inc.tab_time")}[v],
    )
    if view == "map":
        rendered, edges = common.load_incident_map(
            token, start, end, categories, statuses, level, scope, basemap, common.current_language()
        )
        folium_view.show(rendered, key="inc.map", height=600, use_container_width=True, returned_objects=[])
        if edges:
            st.caption(t("inc.legend", edges=" / ".join(f"{e:g}" for e in edges)))
    else:
        rendered = common.load_incident_time_map(token, start, end, categories, statuses, scope, basemap)
        folium_view.show(rendered, key="inc.time_map", height=560, use_container_width=True, returned_objects=[])
    top = counts.head(10)
    table = pd.DataFrame(
        {
            t("field.code"): top["code"],
            t("field.name"): top["name"],
            t("field.incidents"): top["incidents"],
            t("field.closed"): top["closed"],
            t("field.closure_rate"): (top["closure_rate"] * 100).round(1),
        }
    )
    st.subheader(t("inc.top"))
    common.dataframe(table, hide_index=True, width="stretch")
    ranked_bars((top["name"].fillna("") + " " + top["code"]).tolist(), top["incidents"].tolist(),
                value_title=t("field.incidents"), label_title=t("field.grid"))
    st.subheader(t("inc.trend"))
    if len(trend):
        st.line_chart(
            trend.rename(columns={"incidents": t("field.incidents"), "closed": t("field.closed")}).set_index("month")
        )
        common.dataframe(
            trend.rename(columns={"month": t("field.month"), "incidents": t("field.incidents"), "closed": t("field.closed")}),
            hide_index=True, width="stretch",
        )
