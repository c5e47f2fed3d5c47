"""街道总览 (the leader's home): a period preset, the counts and closure rate, where the unresolved
incidents are and who is responsible, what is overdue, and the assessment month.

Thin layer over :mod:`governance.overview` (definitions there); days counted in the local zone.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import common, folium_view, street_panels
from app_pages.i18n import label_of, t
from gis import clock
from gis.errors import GridGovError
from governance.assessment import assess_month
from governance.overview import (
    PRESETS,
    assessment_month,
    in_period,
    overdue_list,
    period_counts,
    preset_dates,
    unresolved_ranking,
)


def _period(today: dt.date) -> tuple[dt.date, dt.date]:
    preset = st.segmented_control(t("ov.period"), options=list(PRESETS), default="this_month", key="ov.preset",
                                  format_func=lambda p: t(f"ov.preset.{p}"), width="stretch") or "this_month"
    custom = None
    if preset == "custom":
        picked = st.date_input(t("ov.custom"), value=(today.replace(day=1), today), key="ov.custom")
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            custom = (picked[0], picked[1])
        else:
            st.info(t("ov.custom_hint"))
            st.stop()
    try:
        return preset_dates(preset, today=today, custom=custom)
    except GridGovError:
        st.error(t("ov.custom_bad"))
        st.stop()


def _person(name: object, phone: object) -> str:
    if not isinstance(name, str) or not name:
        return t("ov.nobody")
    return f"{name} {phone}" if isinstance(phone, str) and phone else name


def _bars(ranking: pd.DataFrame) -> None:
    from app_pages.charts import ranked_bars

    top = ranking[ranking["unresolved"] > 0].head(15)
    ranked_bars((top["name"].fillna(top["code"]) + " " + top["code"]).tolist(), top["unresolved"].tolist(),
                value_title=t("ov.unresolved"), label_title=t("field.grid"), color="#dc2626")


def _assessment(token: str, scope, now: dt.datetime) -> None:
    month = assessment_month(now)
    st.subheader(t("ov.assessment", month=month.month))
    st.caption(t("ov.assessment_note", days=month.days_covered, total=month.days_in_month))
    frames = common.load_governance_frames(token, month.month, scope)
    start, end = clock.month_bounds(month.month)
    try:
        result = assess_month(households=frames["households"], visits=frames["visits"],
                              assignments=frames["assignments"], incidents=frames["incidents"], grids=frames["grids"],
                              staff=frames["staff"], month=month.month, as_of=min(now, end - dt.timedelta(seconds=1)))
    except GridGovError as exc:
        st.error(t("ov.failed", error=exc))
        return
    workers = result.workers.sort_values(["score", "staff_id"], ascending=[False, True]).head(10)
    names = dict(zip(frames["staff"]["id"].astype(int), frames["staff"]["name"]))
    common.dataframe(pd.DataFrame({
        t("ov.rank"): range(1, len(workers) + 1),
        t("field.staff"): workers["staff_id"].map(lambda i: names.get(int(i), "")),
        t("assess.score"): workers["score"].round(1),
    }), hide_index=True, width="stretch")
    _ = start


def _special_households(token: str, scope, level: int) -> None:
    """Special households per grid of the chosen level: a choropleth, small counts suppressed (not points)."""
    from access.disclosure import SMALL_COUNT
    from app_pages import folium_view

    st.subheader(t("ov.special.title"))
    rendered, grids, suppressed = common.load_special_map(token, level, scope, common.current_basemap(),
                                                          common.current_language())
    folium_view.show(rendered, key=f"ov.special_map.{level}", height=420, use_container_width=True,
                     returned_objects=[])
    st.caption(t("ov.special.legend", n=SMALL_COUNT))
    st.caption(t("ov.special.summary", grids=grids, suppressed=suppressed, n=SMALL_COUNT))


def _heatmap(token: str, scope, first: dt.date, last: dt.date, now: dt.datetime) -> None:
    """The period's incidents as heatmaps, one layer at a time (all / unresolved / overdue)."""
    st.subheader(t("ov.heat_title"))
    st.caption(t("ov.heat_hint"))
    hour = now.astimezone(clock.zone()).strftime("%Y-%m-%dT%H")
    rendered = common.load_overview_heat_map(token, scope, first, last, hour, common.current_basemap(),
                                             common.current_language())
    folium_view.show(rendered, key="ov.heat", height=common.MAP_HEIGHT, use_container_width=True,
                     returned_objects=[])


def render() -> None:
    st.title(t("ov.title"))
    now = clock.utc_now()
    today = clock.local_date(now)
    token = common.data_token()
    scope = common.user_scope()
    incidents, grids, roster = common.load_overview_tables(token, scope)
    first, last = _period(today)
    shown = in_period(incidents, first, last)
    counts = period_counts(shown, now=now)
    st.caption(t("ov.period_is", first=first.isoformat(), last=last.isoformat()))
    cols = st.columns(4)
    cols[0].metric(t("ov.reported"), counts.reported)
    cols[1].metric(t("ov.open"), counts.open)
    cols[2].metric(t("ov.overdue"), counts.overdue)
    rate = "-" if pd.isna(counts.closure_rate) else f"{counts.closure_rate * 100:.1f}%"
    cols[3].metric(t("ov.closure_rate"), rate, help=t("ov.closure_help", closed=counts.closed))

    levels = sorted(int(v) for v in grids["level"].unique())
    level = st.radio(t("ov.level"), options=levels, horizontal=True, key="ov.level",
                     format_func=lambda v: t(f"ov.level.{min(v, 3)}"))
    ranking = unresolved_ranking(shown, grids, roster, level=level, on=today, now=now)
    if len(ranking) and ranking.iloc[0]["unresolved"] > 0:
        top = ranking.iloc[0]
        st.success(t("ov.answer", name=top["name"], code=top["code"], count=int(top["unresolved"]),
                     head=_person(top["head_name"], top["head_phone"])), icon=None)
    else:
        st.info(t("ov.none_open"))
    _bars(ranking)
    table = pd.DataFrame({
        t("field.code"): ranking["code"], t("field.name"): ranking["name"],
        t("ov.unresolved"): ranking["unresolved"], t("ov.overdue"): ranking["overdue"],
        t("ov.head"): [_person(n, p) for n, p in zip(ranking["head_name"], ranking["head_phone"])],
    })
    if ranking["worker_name"].notna().any():
        table[t("ov.worker")] = [_person(n, p) for n, p in zip(ranking["worker_name"], ranking["worker_phone"])]
    common.dataframe(table, hide_index=True, width="stretch", height=260, key="ov.ranking")
    codes = ranking.loc[ranking["unresolved"] > 0, "code"].tolist()
    if codes:
        names = dict(zip(ranking["code"], ranking["name"]))
        code = st.selectbox(t("ov.drill"), options=codes, key="ov.drill", format_func=lambda c: f"{names[c]} {c}")
        mine = shown[shown["grid_code"].fillna("").str.startswith(code) & ~shown["status"].isin(("closed", "rejected"))]
        common.dataframe(pd.DataFrame({
            "ID": mine["id"], t("field.reported_at"): mine["reported_at"].dt.tz_convert(clock.zone()).dt.strftime(
                "%Y-%m-%d %H:%M"),
            t("field.category"): mine["category"].map(lambda c: label_of("category", c)),
            t("field.status"): mine["status"].map(lambda s: label_of("status", s)),
            t("field.grid"): mine["grid_code"],
        }), hide_index=True, width="stretch")

    _special_households(token, scope, level)

    late = overdue_list(shown, now=now)
    st.subheader(t("ov.overdue_title", count=len(late)))
    if len(late):
        common.dataframe(pd.DataFrame({
            "ID": late["id"], t("field.category"): late["category"].map(lambda c: label_of("category", c)),
            t("field.grid"): late["grid_code"], t("ov.days_overdue"): late["overdue_days"],
        }).head(50), hide_index=True, width="stretch")
    _heatmap(token, scope, first, last, now)
    _assessment(token, scope, now)
    street_panels.overview_completeness()  # the quarter's verification and the completeness to-dos
