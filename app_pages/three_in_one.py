"""The three-in-one assessment (三合一考核) tab of the assessment page: the weights, each worker's
breakdown (daily points, residents' evaluation, leader's rating → total and grade), the awards mark
of a 不合格 year, the leader's rating per worker and period, publishing; a worker sees their own
published breakdown and the formula.

Thin layer over :mod:`services.three_in_one` (the formula is :mod:`governance.three_in_one`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from access.permissions import may
from app_pages import common
from app_pages.i18n import current_language, label_of, t, translate
from gis import clock
from gis.clock import quarter_label, recent_months
from gis.errors import GridGovError, ValidationError
from governance.three_in_one import Component, ThreeInOneConfig, ThreeInOneWeights, WorkerBreakdown
from services import three_in_one as tio_service


def periods() -> list[str]:
    """Periods to choose: the last six months, this and last quarter, this and last year (newest first)."""
    today = clock.today()
    last_quarter = quarter_label(dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1) - dt.timedelta(days=1))
    return [*recent_months(6), quarter_label(today), last_quarter, str(today.year), str(today.year - 1)]


def ineligible_mark(years: list[str] | None) -> str:
    """The awards mark of a worker graded 不合格 in a year (``years``), else nothing."""
    return t("sp.tio.ineligible_years", years=years) if years else ""


def _formula_text(config: ThreeInOneConfig) -> None:
    w = config.weights
    st.caption(t("sp.tio.formula", daily=f"{w.daily_points * 100:g}", evaluation=f"{w.evaluation * 100:g}",
                 leader=f"{w.leader_rating * 100:g}", deduction=f"{config.spot_check_deduction:g}",
                 excellent=f"{config.thresholds.excellent:g}", qualified=f"{config.thresholds.qualified:g}",
                 basic=f"{config.thresholds.basic:g}"))
    st.caption(t("sp.tio.not_counted"))


def _failed_year(eligible: object) -> bool:
    """Whether a year's result made the worker ineligible for awards (``None``: not a year, or pending)."""
    return eligible is not None and not pd.isna(eligible) and not bool(eligible)


def _number(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _show_breakdown(breakdown: WorkerBreakdown) -> None:
    st.code(breakdown.formula(translate, current_language()), language=None)
    common.dataframe(pd.DataFrame({
        t("sp.tio.component"): [label_of("assess_component", c.code) for c in breakdown.components],
        t("sp.tio.raw"): [_number(c.raw) for c in breakdown.components],
        t("sp.tio.scaled"): [_number(c.scaled) for c in breakdown.components],
        t("sp.tio.weight"): [f"{c.weight * 100:.1f}%" for c in breakdown.components],
        t("sp.tio.contribution"): [_number(c.contribution) if c.present else "" for c in breakdown.components],
    }), hide_index=True, width="stretch")


def _breakdown_of(data: dict) -> WorkerBreakdown:
    """A published breakdown (stored as JSON) as the :class:`WorkerBreakdown` it was."""
    fields = dict(data)
    fields["components"] = tuple(Component(**c) for c in data.get("components") or ())
    fields["pending"] = tuple(data.get("pending") or ())
    fields["notes"] = tuple(data.get("notes") or ())
    return WorkerBreakdown(**fields)


def _weights() -> ThreeInOneConfig | None:
    defaults = ThreeInOneWeights()
    with st.expander(t("sp.tio.weights")):
        cols = st.columns(3)
        values = [cols[i].number_input(t(f"sp.tio.weight.{name}"), min_value=0.0, max_value=100.0, step=5.0,
                                       value=float(getattr(defaults, name)) * 100, key=f"tio.weight.{name}")
                  for i, name in enumerate(defaults.as_dict())]
    try:
        return ThreeInOneConfig(weights=ThreeInOneWeights(*(v / 100 for v in values)))
    except ValidationError:
        st.error(t("sp.tio.weights_bad", total=f"{sum(values):g}"))
        return None


def _own(period: str) -> None:
    """A worker's own published result of ``period`` and the formula."""
    actor = common.current_actor()
    _formula_text(ThreeInOneConfig())
    mine = tio_service.my_result(common.get_engine(), actor, period)
    if mine is None:
        st.info(t("sp.tio.not_published", period=period))
        return
    cols = st.columns(3)
    cols[0].metric(t("tio.total"), _number(mine.get("total")) or t("sp.tio.pending"))
    cols[1].metric(t("sp.tio.grade"), label_of("grade", mine.get("grade")) if mine.get("grade") else t("sp.tio.pending"))
    cols[2].metric(t("assess.rank"), "-" if pd.isna(mine.get("rank")) else int(mine["rank"]))
    if _failed_year(mine.get("award_eligible")):
        st.warning(t("tio.note.award_ineligible"))
    _show_breakdown(_breakdown_of(mine["breakdown"]))


def _rate(period: str, workers: pd.DataFrame) -> None:
    actor = common.current_actor()
    st.markdown(f"**{t('sp.tio.rate', period=period)}**")
    current = tio_service.ratings(common.get_engine(), actor, period).set_index("staff_id")
    names = dict(zip(workers["staff_id"].astype(int), workers["name"].fillna("")))
    form = st.session_state.setdefault("tio.rate_form", 0)
    with st.form(f"tio.rate_form.{form}"):
        staff_id = st.selectbox(t("field.staff"), options=list(names), key=f"tio.rate_staff.{form}",
                                format_func=lambda i: f"{names[i]} #{i}")
        rating = st.number_input(t("sp.tio.rating"), min_value=0.0, max_value=100.0, value=80.0, step=1.0,
                                 key=f"tio.rating.{form}")
        note = st.text_input(t("sp.tio.rating_note"), key=f"tio.rating_note.{form}")
        submitted = st.form_submit_button(t("sp.tio.rate_button"), type="primary")
    if not submitted:
        return
    version = int(current.loc[int(staff_id), "version"]) if int(staff_id) in current.index else 0
    try:
        tio_service.rate_worker(common.get_engine(), actor, int(staff_id), period, float(rating), note=note,
                                expected_version=version)
    except GridGovError as exc:
        st.error(t("sp.refused", error=exc))
        return
    st.session_state["tio.flash"] = t("sp.tio.rated", name=names[int(staff_id)], rating=f"{rating:g}", period=period)
    st.session_state["tio.rate_form"] = form + 1
    common.clear_caches()
    st.rerun()


def render_tab() -> None:
    """The three-in-one tab: the ranking for those who may compute it, else the worker's own result."""
    actor = common.current_actor()
    message = st.session_state.pop("tio.flash", None)
    if message:
        st.success(message)
    options = periods()
    period = st.selectbox(t("sp.tio.period"), options=options, key="tio.period")
    if not may(actor.role, "view_evaluation"):
        _own(period)
        return
    config = _weights()
    if config is None:
        return
    _formula_text(config)
    result, inputs = common.load_three_in_one(common.data_token(), period, tuple(config.weights.as_dict().values()),
                                              common.user_scope())
    st.caption(t("sp.tio.inputs", months=t("list.sep").join(inputs.months) or "-", ratings=inputs.ratings,
                 checks=inputs.checks, rounds=inputs.rounds))
    workers = result.workers
    if workers.empty:
        st.info(t("sp.tio.no_workers"))
        return
    years = tio_service.ineligible(common.get_engine(), actor)
    marks = [t("tio.ineligible") if _failed_year(row.award_eligible) else ineligible_mark(years.get(int(row.staff_id)))
             for row in workers.itertuples()]
    common.dataframe(pd.DataFrame({
        t("assess.rank"): workers["rank"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        "ID": workers["staff_id"].astype(int),
        t("field.staff"): workers["name"].fillna(""),
        t("sp.tio.daily_raw"): workers["daily_points"].map(_number),
        label_of("assess_component", "daily_points"): workers["daily_scaled"].map(_number),
        label_of("assess_component", "evaluation"): workers["evaluation"].map(_number),
        label_of("assess_component", "leader_rating"): workers["leader_rating"].map(_number),
        t("sp.tio.failed_checks"): workers["failed_checks"].astype(int),
        t("tio.total"): workers["total"].map(lambda v: _number(v) or t("sp.tio.pending")),
        t("sp.tio.grade"): workers["grade"].map(lambda g: label_of("grade", g) if isinstance(g, str) else ""),
        t("sp.tio.awards"): marks,
    }), hide_index=True, width="stretch", height=420, key="tio.table")
    names = dict(zip(workers["staff_id"].astype(int), workers["name"].fillna("")))
    shown = st.selectbox(t("sp.tio.show"), options=list(names), key="tio.show", format_func=lambda i: f"{names[i]} #{i}")
    _show_breakdown(result.breakdown(int(shown)))
    if may(actor.role, "rate_workers"):
        _rate(period, workers)
        if actor.scope.everything and st.button(t("sp.tio.publish"), key="tio.publish"):
            try:
                written = tio_service.publish(common.get_engine(), actor, period, config=config)
            except GridGovError as exc:
                st.error(t("sp.refused", error=exc))
            else:
                st.success(t("sp.tio.published", count=written, period=period))
