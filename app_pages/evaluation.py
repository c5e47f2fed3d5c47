"""民主测评 (resident evaluation rounds) for planners and admins: open a round (period, grids,
questions) and issue its one-time codes, download the codes with their public addresses, close a
round, and its results per grid and worker (response rate, averages; groups under the round's
minimum are suppressed by the service).

Thin layer over :mod:`services.evaluation`. The codes exist only in the answer of the issue step:
the page offers them for download once and keeps them nowhere else.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import streamlit as st

from access.permissions import may
from app_pages import common
from app_pages.i18n import label_of, t
from gis import clock
from gis.errors import GridGovError
from gis.settings import get_settings
from governance.evaluation import QUESTIONS, IssuedCodes
from governance.vocab import SCORED_QUESTIONS
from services import evaluation as evaluation_service


def _flash() -> None:
    message = st.session_state.pop("eval_admin.flash", None)
    if message:
        (st.success if message[0] == "ok" else st.error)(message[1])


def codes_csv(round_id: int, issued: IssuedCodes) -> bytes:
    """The issued codes as CSV (UTF-8 with BOM for spreadsheets): code, grid, number, valid until, the
    public page's address with the round and the code."""
    base = f"{get_settings().public_base_url}/public/evaluate?round={int(round_id)}"
    frame = pd.DataFrame({
        t("sp.eval.csv.code"): [s.code for s in issued.slips],
        t("sp.eval.csv.grid"): [s.grid_code for s in issued.slips],
        t("sp.eval.csv.number"): [f"{s.number}/{s.count}" for s in issued.slips],
        t("sp.eval.csv.expires"): [s.expires_on.isoformat() for s in issued.slips],
        t("sp.eval.csv.url"): [s.url(base) for s in issued.slips],
    })
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _issue(round_id: int, grids: list[str] | None = None) -> None:
    issued = evaluation_service.issue_codes(common.get_engine(), common.current_actor(), int(round_id), grids=grids)
    st.session_state["eval_admin.codes"] = (int(round_id), len(issued.slips), codes_csv(int(round_id), issued))


def _open_form(grids: pd.DataFrame) -> None:
    st.subheader(t("sp.eval.open"))
    names = dict(zip(grids["code"].astype(str), grids["name"].astype(str)))
    top = sorted(grids.loc[grids["level"] == grids["level"].min(), "code"].astype(str)) if len(grids) else []
    today = clock.today()
    period_default = clock.quarter_label(today)
    with st.form("eval_admin.open_form"):
        cols = st.columns(2)
        period = cols[0].text_input(t("sp.eval.period"), value=period_default, key="eval_admin.period",
                                    help=t("sp.eval.period_help"))
        title = cols[1].text_input(t("sp.eval.title_field"), value=t("sp.eval.default_title", period=period_default),
                                   key="eval_admin.title", max_chars=100)
        chosen = st.multiselect(t("sp.eval.grids"), options=list(names), default=top, key="eval_admin.grids",
                                format_func=lambda c: f"{c} {names.get(c, '')}")
        cols = st.columns(3)
        opens = cols[0].date_input(t("sp.eval.opens"), value=today, key="eval_admin.opens")
        closes = cols[1].date_input(t("sp.eval.closes"), value=today + dt.timedelta(days=14), key="eval_admin.closes")
        min_group = cols[2].number_input(t("sp.eval.min_group"), min_value=1, max_value=50, value=5, step=1,
                                         key="eval_admin.min_group")
        questions = st.multiselect(t("sp.eval.questions"), options=list(QUESTIONS), default=list(QUESTIONS),
                                   key="eval_admin.questions", format_func=lambda q: label_of("eval_question", q))
        issue_now = st.checkbox(t("sp.eval.issue_now"), value=True, key="eval_admin.issue_now")
        submitted = st.form_submit_button(t("sp.eval.open_button"), type="primary")
    if not submitted:
        return
    try:
        opened = evaluation_service.open_round(
            common.get_engine(), common.current_actor(), title=title, period=period, grid_codes=chosen,
            opens_at=clock.start_of_day(opens), closes_at=clock.start_of_day(closes + dt.timedelta(days=1)),
            questions=questions, min_group=int(min_group))
        if issue_now:
            _issue(opened.id)
    except GridGovError as exc:
        st.error(t("sp.refused", error=exc))
        return
    st.session_state["eval_admin.flash"] = ("ok", t("sp.eval.opened", id=opened.id, title=opened.title))
    st.session_state["eval_admin.pick"] = int(opened.id)
    st.rerun()


def _codes_download() -> None:
    made = st.session_state.get("eval_admin.codes")
    if not made:
        return
    round_id, count, data = made
    with st.container(border=True, key="eval-admin-codes"):
        st.markdown(f"**{t('sp.eval.codes_ready', id=round_id, count=count)}**")
        st.warning(t("sp.eval.codes_once"))
        st.download_button(t("sp.eval.download_codes"), data, file_name=f"evaluation-{round_id}-codes.csv",
                           mime="text/csv", key="eval_admin.download")


def _percent(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value) * 100:.1f}%"


def _number(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.2f}"


def results_table(frame: pd.DataFrame, labels: dict[str, str | pd.Series]) -> pd.DataFrame:
    """A results frame (workers or grids) in the reader's words; suppressed groups say so."""
    out = pd.DataFrame(labels)
    out[t("sp.eval.issued")] = frame["issued"].map(lambda v: "" if pd.isna(v) else int(v))
    out[t("sp.eval.responses")] = frame["responses"].map(lambda v: "" if pd.isna(v) else int(v))
    out[t("eval.response_rate")] = frame["response_rate"].map(_percent)
    for question in SCORED_QUESTIONS:
        out[label_of("eval_question", question)] = frame[question].map(_number)
    out[t("eval.awareness")] = frame["awareness"].map(_percent)
    out[t("eval.score")] = frame["score"].map(_number)
    out[t("sp.eval.suppressed")] = frame["suppressed"].map(lambda v: t("eval.suppressed") if bool(v) else "")
    return out


def _results(round_id: int, staff_names: dict[int, str], grid_names: dict[str, str]) -> None:
    actor = common.current_actor()
    if not may(actor.role, "view_evaluation"):
        return
    results = evaluation_service.round_results(common.get_engine(), actor, round_id)
    report = results.report
    st.caption(t("sp.eval.min_group_note", n=report.config.min_group))
    total = report.total.iloc[0] if len(report.total) else None
    if total is not None:
        cols = st.columns(3)
        cols[0].metric(t("sp.eval.issued"), int(total["issued"]) if pd.notna(total["issued"]) else 0)
        cols[1].metric(t("sp.eval.responses"), "" if pd.isna(total["responses"]) else int(total["responses"]))
        cols[2].metric(t("eval.response_rate"), _percent(total["response_rate"]) or t("eval.suppressed"))
    tab_grids, tab_workers, tab_comments = st.tabs([t("sp.eval.by_grid"), t("sp.eval.by_worker"), t("sp.eval.comments")])
    with tab_grids:
        grids = report.grids.reset_index(drop=True)
        common.dataframe(results_table(grids, {t("field.code"): grids["grid_code"].astype(str),
                                           t("field.name"): grids["grid_code"].astype(str).map(grid_names).fillna("")}),
                     hide_index=True, width="stretch", key="eval_admin.grids_table")
    with tab_workers:
        workers = report.workers.reset_index(drop=True)
        names = workers["staff_id"].map(lambda v: "" if pd.isna(v) else staff_names.get(int(v), f"#{int(v)}"))
        common.dataframe(results_table(workers, {t("field.staff"): names}), hide_index=True, width="stretch",
                     key="eval_admin.workers_table")
    with tab_comments:
        comments = report.grid_comments
        if comments.empty:
            st.caption(t("sp.eval.no_comments"))
        else:
            common.dataframe(pd.DataFrame({t("field.grid"): comments["grid_code"].astype(str),
                                       t("sp.eval.comment"): comments["comment"].astype(str)}),
                         hide_index=True, width="stretch")


def _rounds(staff_names: dict[int, str], grid_names: dict[str, str]) -> None:
    st.subheader(t("sp.eval.rounds"))
    actor = common.current_actor()
    rounds = evaluation_service.list_rounds(common.get_engine(), actor)
    if not rounds:
        st.info(t("sp.eval.no_rounds"))
        return
    issued = {}
    if may(actor.role, "view_evaluation"):
        for row in rounds:
            counts = evaluation_service.round_results(common.get_engine(), actor, row.id).issued
            issued[row.id] = (int(counts["issued"].sum()), int(counts["used"].sum()))
    common.dataframe(pd.DataFrame({
        "ID": [r.id for r in rounds],
        t("sp.eval.title_field"): [r.title for r in rounds],
        t("sp.eval.period"): [r.period for r in rounds],
        t("sp.eval.grids"): [t("list.sep").join(r.grid_codes) for r in rounds],
        t("sp.eval.window"): [f"{clock.local_date(r.opens_at):%Y-%m-%d} ~ "
                              f"{clock.local_date(r.closes_at - dt.timedelta(microseconds=1)):%Y-%m-%d}" for r in rounds],
        t("sp.eval.status"): [t(f"sp.eval.status.{r.status}") for r in rounds],
        t("sp.eval.codes"): [issued.get(r.id, (0, 0))[0] for r in rounds],
        t("sp.eval.responses"): [issued.get(r.id, (0, 0))[1] for r in rounds],
    }), hide_index=True, width="stretch", key="eval_admin.rounds_table")
    by_id = {r.id: r for r in rounds}
    ids = list(by_id)
    picked = st.session_state.get("eval_admin.pick")
    chosen = st.selectbox(t("sp.eval.pick"), options=ids, index=ids.index(picked) if picked in by_id else 0,
                          key="eval_admin.chosen", format_func=lambda i: f"#{i} {by_id[i].title}")
    row = by_id[int(chosen)]
    if row.status == "open":
        cols = st.columns(2)
        if cols[0].button(t("sp.eval.issue_button"), key="eval_admin.issue"):
            try:
                _issue(row.id)
            except GridGovError as exc:
                st.error(t("sp.refused", error=exc))
            else:
                st.rerun()
        if cols[1].button(t("sp.eval.close_button"), key="eval_admin.close"):
            try:
                evaluation_service.close_round(common.get_engine(), actor, row.id, expected_version=row.version)
            except GridGovError as exc:
                st.error(t("sp.refused", error=exc))
            else:
                st.session_state["eval_admin.flash"] = ("ok", t("sp.eval.closed", id=row.id))
                st.rerun()
    _results(row.id, staff_names, grid_names)


def render() -> None:
    st.title(t("sp.eval.page_title"))
    _flash()
    grids, roster = common.load_roster_tables(common.data_token(), common.user_scope())
    staff_names = {int(k): str(v) for k, v in zip(roster["staff_id"], roster["name"]) if pd.notna(k)}
    grid_names = dict(zip(grids["code"].astype(str), grids["name"].astype(str)))
    _open_form(grids)
    _codes_download()
    _rounds(staff_names, grid_names)
