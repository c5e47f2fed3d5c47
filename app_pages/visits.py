"""Household visits page: this month's plan per worker and recording a visit.

Thin layer over :mod:`governance.visits` and :mod:`store.governance`. Only household
addresses are shown (no resident personal data).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import common
from app_pages.i18n import label_of, t
from gis import clock
from gis.errors import GridGovError
from services import visits as visit_service
from services.overview import disclose_assessment, sees_special_households
from gis.clock import month_bounds, recent_months
from governance.visits import MIN_HOUSEHOLDS_PER_MONTH, VisitRecord, visit_plan, worker_households
from governance.vocab import VISIT_KINDS


def _special_labels(kinds: object) -> str:
    if kinds is None or isinstance(kinds, float):
        return ""
    return t("list.sep").join(label_of("special", k) for k in kinds)


def _as_of(month: str) -> dt.datetime:
    """Now, clipped into ``month`` (a past month is planned as of its last moment)."""
    start, end = month_bounds(month)
    now = dt.datetime.now(clock.zone())
    return min(max(now, start), end - dt.timedelta(seconds=1))


def _households_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": frame["household_id"] if "household_id" in frame else frame["id"],
            t("field.address"): frame["address"],
            t("field.special"): frame["special_kinds"].map(_special_labels),
            t("field.grid"): frame["grid_code"],
            t("visit.refreshed_at"): pd.to_datetime(frame["refreshed_at"], utc=True)
            .dt.tz_convert(clock.zone()).dt.strftime("%Y-%m-%d").fillna(""),
        }
    )


def _record_form(frames: dict, staff_id: int, as_of: dt.datetime) -> None:
    households = worker_households(frames["households"].set_index("id", drop=False), frames["assignments"], staff_id,
                                   on=as_of.date())
    st.subheader(t("visit.record"))
    if households.empty:
        st.info(t("visit.no_households"))
        return
    with st.form("visit.form"):
        labels = dict(zip(households["id"].astype(int), households["address"]))
        household = st.selectbox(t("visit.household"), options=list(labels), key="visit.household",
                                 format_func=lambda i: f"{labels[i]} (#{i})")
        cols = st.columns(3)
        day = cols[0].date_input(t("visit.date"), value=dt.datetime.now(clock.zone()).date(), key="visit.date")
        at = cols[1].time_input(t("visit.time"), value=dt.datetime.now(clock.zone()).time().replace(second=0, microsecond=0),
                                key="visit.time")
        kind = cols[2].selectbox(t("field.kind"), options=list(VISIT_KINDS), key="visit.kind",
                                 format_func=lambda k: label_of("visit_kind", k))
        note = st.text_area(t("visit.note"), key="visit.note")
        submitted = st.form_submit_button(t("visit.save"), type="primary")
    if submitted:
        when = dt.datetime.combine(day, at, tzinfo=clock.zone())
        try:
            visit_id = visit_service.record_visit(
                common.get_engine(), common.current_actor(),
                VisitRecord(household_id=int(household), staff_id=int(staff_id), visited_at=when, kind=kind, note=note),
            )
        except GridGovError as exc:
            st.error(t("visit.error", error=exc))
            return
        common.clear_caches()
        st.success(t("visit.saved", id=visit_id))


def render() -> None:
    st.title(t("visit.title"))
    scope = common.user_scope()
    months = recent_months(12)
    month = st.selectbox(t("field.month"), options=months, key="visit.month")
    as_of = _as_of(month)
    frames = common.load_governance_frames(common.data_token(), month, scope)
    plan = visit_plan(frames["households"], frames["visits"], frames["assignments"], month=month, as_of=as_of)
    names = dict(zip(frames["staff"]["id"].astype(int), frames["staff"]["name"]))
    # small special-household counts: exact for the grids' own workers and grid heads only (access.disclosure)
    workers = disclose_assessment(plan.workers, common.current_actor(), code_column="grid_codes")
    workers = common.shown_counts(workers.assign(name=workers["staff_id"].map(names)),
                                  ["special_households", "special_pending"])

    st.subheader(t("visit.overview", month=plan.month, minimum=MIN_HOUSEHOLDS_PER_MONTH))
    common.dataframe(
        pd.DataFrame(
            {
                t("field.staff"): workers["name"],
                t("field.grid"): workers["grid_codes"],
                t("card.households"): workers["households"],
                t("visit.visited"): workers["visited"],
                t("visit.remaining"): workers["remaining"],
                t("card.special"): workers["special_households"],
                t("visit.special_pending"): workers["special_pending"],
                t("visit.due_for_update"): workers["due_for_update"],
            }
        ),
        hide_index=True, width="stretch", height=280,
    )
    if workers.empty:
        st.info(t("visit.no_workers"))
        return
    staff_id = st.selectbox(t("visit.worker"), options=workers["staff_id"].astype(int).tolist(), key="visit.worker",
                            format_func=lambda i: f"{names.get(i, i)} · {workers.set_index('staff_id').loc[i, 'grid_codes']}")
    row = workers.set_index("staff_id").loc[staff_id]
    cols = st.columns(3)
    cols[0].metric(t("visit.visited"), int(row["visited"]))
    cols[1].metric(t("visit.remaining"), int(row["remaining"]))
    pending_count = row["special_pending"]  # text when suppressed (shown_counts)
    cols[2].metric(t("visit.special_pending"), pending_count if isinstance(pending_count, str) else int(pending_count))
    pending = plan.special_pending[plan.special_pending["staff_id"] == staff_id]
    due = plan.due_for_update[plan.due_for_update["staff_id"] == staff_id]
    # which families are special: only for the people of the worker's grids (services.overview)
    families = sees_special_households(common.current_actor(), str(row["grid_codes"] or "").split(","))
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('visit.special_pending')}**")
        if families:
            common.dataframe(_households_table(pending), hide_index=True, width="stretch")
        else:
            st.caption(t("visit.special_hidden"))
    with right:
        st.markdown(f"**{t('visit.due_for_update')}**")
        table = _households_table(due)
        common.dataframe(table if families else table.drop(columns=[t("field.special")]), hide_index=True,
                         width="stretch")
    _record_form(frames, staff_id, as_of)
