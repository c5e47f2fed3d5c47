"""督查抽查 (supervision spot checks) for the discipline committee's inspectors: draw a month's sample
of visits (seed shown and recorded, visits per worker), work through it recording each outcome, the
reminder talks the failures gave, and workers with repeated failures.

Thin layer over :mod:`services.spotchecks` (the draw, validation, the reminder talk and the audit are
its rules).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from app_pages.i18n import label_of, t
from gis.errors import GridGovError
from gis.clock import recent_months
from governance.vocab import CHECK_METHOD_TERMS, SPOT_CHECK_OUTCOMES
from services import spotchecks as spot_service


def _flash() -> None:
    message = st.session_state.pop("spot.flash", None)
    if message:
        (st.success if message[0] == "ok" else st.error)(message[1])


def _draw_form() -> None:
    st.subheader(t("sp.spot.draw"))
    with st.form("spot.draw_form"):
        cols = st.columns(3)
        months = recent_months(12)
        month = cols[0].selectbox(t("field.month"), options=months, index=1 if len(months) > 1 else 0,
                                  key="spot.month")
        per_worker = cols[1].number_input(t("sp.spot.per_worker"), min_value=1, max_value=20, value=2, step=1,
                                          key="spot.per_worker")
        seed_text = cols[2].text_input(t("sp.spot.seed"), key="spot.seed", help=t("sp.spot.seed_help"))
        submitted = st.form_submit_button(t("sp.spot.draw_button"), type="primary")
    if not submitted:
        return
    seed_text = (seed_text or "").strip()
    if seed_text and not seed_text.isdigit():
        st.error(t("sp.spot.seed_bad", value=seed_text))
        return
    try:
        result = spot_service.draw(common.get_engine(), common.current_actor(), month, per_worker=int(per_worker),
                                   seed=int(seed_text) if seed_text else None)
    except GridGovError as exc:
        st.error(t("sp.refused", error=exc))
        return
    st.session_state["spot.flash"] = ("ok", t("sp.spot.drawn", id=result.draw_id, count=len(result.sample.visits),
                                              seed=str(result.sample.parameters.seed), month=month))
    st.session_state["spot.pick"] = int(result.draw_id)
    st.rerun()


def _draws() -> int | None:
    draws = spot_service.list_draws(common.get_engine(), common.current_actor())
    st.subheader(t("sp.spot.draws"))
    if draws.empty:
        st.info(t("sp.spot.no_draws"))
        return None
    common.dataframe(pd.DataFrame({
        "ID": draws["id"].astype(int),
        t("field.month"): draws["month"],
        t("sp.spot.per_worker"): draws["per_worker"].astype(int),
        t("sp.spot.seed"): draws["seed"].map(lambda v: str(int(v))),
        t("sp.spot.population"): draws["population"].astype(int),
        t("sp.spot.items"): draws["items"].astype(int),
        t("sp.spot.checked"): draws["checked"].astype(int),
        t("sp.spot.failed"): draws["failed"].astype(int),
        t("sp.spot.drawn_by"): draws["drawn_by"].fillna(""),
        t("sp.spot.drawn_at"): draws["drawn_at"].map(common.local_time),
    }), hide_index=True, width="stretch", height=200)
    ids = [int(v) for v in draws["id"]]
    picked = st.session_state.pop("spot.pick", None)
    if picked in ids:  # a new draw is shown at once (the chooser's own state would keep the old one)
        st.session_state["spot.chosen"] = picked
    return st.selectbox(t("sp.spot.pick"), options=ids, index=ids.index(picked) if picked in ids else 0,
                        key="spot.chosen", format_func=lambda i: t("sp.spot.draw_label", id=i, month=draws.set_index("id").loc[i, "month"]))


def _items(draw_id: int) -> None:
    actor = common.current_actor()
    items = spot_service.draw_items(common.get_engine(), actor, draw_id)
    done = items["outcome"].notna()
    st.markdown(f"**{t('sp.spot.work', done=int(done.sum()), total=len(items))}**")
    common.dataframe(pd.DataFrame({
        t("sp.spot.order"): items["ord"].astype(int),
        t("field.staff"): items["staff_name"].fillna(""),
        t("field.address"): items["address"].fillna(""),
        t("field.grid"): items["grid_code"].fillna(""),
        t("sp.spot.visited_at"): items["visited_at"].map(common.local_time),
        t("sp.spot.reason"): items["reason"].map(lambda v: label_of("spot_reason", v)),
        t("sp.spot.outcome"): items["outcome"].map(lambda v: label_of("spot_outcome", v) if isinstance(v, str) else ""),
        t("sp.spot.method"): items["method"].map(lambda v: label_of("check_method", v) if isinstance(v, str) else ""),
        t("sp.spot.note"): items["note"].fillna(""),
        t("sp.spot.checked_at"): items["checked_at"].map(common.local_time),
    }), hide_index=True, width="stretch", height=320, key="spot.items")
    if st.button(t("sp.spot.verify"), key="spot.verify"):
        differences = spot_service.verify_draw(common.get_engine(), actor, draw_id)
        if differences:
            st.warning(t("sp.spot.verify_differs", count=len(differences)))
        else:
            st.success(t("sp.spot.verify_ok"))
    todo = items.loc[~done]
    if todo.empty:
        st.success(t("sp.spot.all_checked"))
        return
    rows = todo.set_index("item_id")
    form = st.session_state.setdefault("spot.form", 0)
    with st.form(f"spot.record_form.{form}"):
        item_id = st.selectbox(t("sp.spot.item"), options=[int(i) for i in rows.index], key=f"spot.item.{form}",
                               format_func=lambda i: f"{int(rows.loc[i, 'ord'])}. {rows.loc[i, 'staff_name']} · "
                                                     f"{rows.loc[i, 'address'] or ''} · {common.local_time(rows.loc[i, 'visited_at'])}")
        cols = st.columns(2)
        outcome = cols[0].selectbox(t("sp.spot.outcome"), options=list(SPOT_CHECK_OUTCOMES), key=f"spot.outcome.{form}",
                                    format_func=lambda v: label_of("spot_outcome", v))
        method = cols[1].selectbox(t("sp.spot.method"), options=list(CHECK_METHOD_TERMS.codes), key=f"spot.method.{form}",
                                   format_func=lambda v: label_of("check_method", v))
        note = st.text_area(t("sp.spot.note"), key=f"spot.note.{form}")
        submitted = st.form_submit_button(t("sp.spot.record"), type="primary")
    if not submitted:
        return
    try:
        result = spot_service.record_outcome(common.get_engine(), actor, int(item_id), outcome=outcome, method=method,
                                             note=note)
    except GridGovError as exc:
        st.error(t("sp.refused", error=exc))
        return
    if result["failed"]:
        message = t("sp.spot.recorded_failed", leader=result.get("leader_name") or "")
    else:
        message = t("sp.spot.recorded", outcome=label_of("spot_outcome", outcome))
    st.session_state["spot.flash"] = ("ok", message)
    st.session_state["spot.form"] = form + 1
    st.rerun()


def talks_table(talks: pd.DataFrame, *, key: str) -> None:
    """The reminder talks as a table (staff, grid, leader, status, finding, done)."""
    common.dataframe(pd.DataFrame({
        "ID": talks["id"].astype(int),
        t("field.staff"): talks["staff_name"].fillna(""),
        t("field.grid"): talks["grid_code"].fillna(""),
        t("sp.talk.leader"): talks["leader_name"].fillna(""),
        t("sp.talk.status"): talks["status"].map(lambda v: label_of("task_status", v)),
        t("sp.spot.outcome"): talks["outcome"].map(lambda v: label_of("spot_outcome", v) if isinstance(v, str) else ""),
        t("sp.talk.finding"): talks["finding"].fillna(""),
        t("sp.talk.created_at"): talks["created_at"].map(common.local_time),
        t("sp.talk.done_at"): talks["done_at"].map(common.local_time),
        t("sp.talk.note"): talks["note"].fillna(""),
    }), hide_index=True, width="stretch", key=key)


def repeated_table() -> None:
    """Workers with repeated failed checks (the last three months)."""
    repeated = spot_service.repeated(common.get_engine(), common.current_actor())
    st.subheader(t("sp.spot.repeated"))
    if repeated.empty:
        st.info(t("sp.spot.no_repeated"))
        return
    common.dataframe(pd.DataFrame({
        t("field.staff"): repeated["name"].fillna(""),
        t("sp.spot.failures"): repeated["failures"].astype(int),
        t("sp.spot.first_at"): repeated["first_at"].map(common.local_time),
        t("sp.spot.last_at"): repeated["last_at"].map(common.local_time),
    }), hide_index=True, width="stretch", key="spot.repeated")


def render() -> None:
    st.title(t("sp.spot.page_title"))
    _flash()
    _draw_form()
    draw_id = _draws()
    if draw_id is not None:
        _items(int(draw_id))
    st.subheader(t("sp.talk.list"))
    talks = spot_service.list_talks(common.get_engine(), common.current_actor())
    if talks.empty:
        st.info(t("sp.talk.none"))
    else:
        talks_table(talks, key="spot.talks")
    repeated_table()
