"""信息推送 (notices) for leaders and grid heads: publish a notice to grids or levels, the list of
notices with their read receipts (who has not read it yet), and the text to paste into a WeChat group.

Thin layer over :mod:`services.notices` (validation, reach, receipts and the WeChat text are its
rules; publishing and every receipt are audited there).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import common
from app_pages.i18n import current_language, label_of, t
from gis import clock
from gis.errors import GridGovError
from governance.notices import Notice
from governance.vocab import NOTICE_KINDS
from services import notices as notice_service


def _day(value: dt.datetime) -> str:
    return f"{clock.local_date(value):%Y-%m-%d}"


def _last_day(notice: Notice) -> str:
    return _day(notice.valid_to - dt.timedelta(microseconds=1))


def _level_label(level: int) -> str:
    return t(f"level.{level}") if level <= 3 else t("level.n", level=level)


def _flash() -> None:
    message = st.session_state.pop("notices.flash", None)
    if message:
        (st.success if message[0] == "ok" else st.error)(message[1])


def _publish_form(grids: pd.DataFrame) -> None:
    st.subheader(t("sp.notice.publish"))
    names = dict(zip(grids["code"].astype(str), grids["name"].astype(str)))
    levels = sorted(int(v) for v in grids["level"].unique()) if len(grids) else []
    form = st.session_state.setdefault("notices.form", 0)
    today = clock.today()
    with st.form(f"notices.form.{form}"):
        kind = st.selectbox(t("sp.notice.kind"), options=list(NOTICE_KINDS), key=f"notices.kind.{form}",
                            format_func=lambda k: label_of("notice_kind", k))
        title = st.text_input(t("sp.notice.title_field"), key=f"notices.title.{form}", max_chars=60)
        body = st.text_area(t("sp.notice.body"), key=f"notices.body.{form}", max_chars=2000)
        cols = st.columns(2)
        start = cols[0].date_input(t("sp.notice.valid_from"), value=today, key=f"notices.from.{form}")
        end = cols[1].date_input(t("sp.notice.valid_to"), value=today + dt.timedelta(days=7), key=f"notices.to.{form}")
        targets = st.multiselect(t("sp.notice.grids"), options=list(names), key=f"notices.grids.{form}",
                                 format_func=lambda c: f"{c} {names.get(c, '')}")
        chosen_levels = st.multiselect(t("sp.notice.levels"), options=levels, key=f"notices.levels.{form}",
                                       format_func=_level_label)
        st.caption(t("sp.notice.reach_hint"))
        public = st.checkbox(t("sp.notice.public"), value=True, key=f"notices.public.{form}")
        submitted = st.form_submit_button(t("sp.notice.publish_button"), type="primary")
    if not submitted:
        return
    notice = Notice(id=None, kind=kind, title=title, body=body, valid_from=clock.start_of_day(start),
                    valid_to=clock.start_of_day(end + dt.timedelta(days=1)), grid_codes=tuple(targets),
                    levels=tuple(int(v) for v in chosen_levels), public=bool(public))
    try:
        notice_id = notice_service.publish(common.get_engine(), common.current_actor(), notice)
    except GridGovError as exc:
        st.error(t("sp.refused", error=exc))
        return
    st.session_state["notices.flash"] = ("ok", t("sp.notice.published", id=notice_id, title=title.strip()))
    st.session_state["notices.form"] = form + 1
    st.session_state["notices.pick"] = int(notice_id)
    common.clear_caches()
    st.rerun()


def _targets(notice: Notice, names: dict[str, str]) -> str:
    parts = [f"{c} {names.get(c, '')}".strip() for c in notice.grid_codes]
    parts += [_level_label(level) for level in notice.levels]
    return t("list.sep").join(parts) if parts else t("sp.notice.street_wide")


def _receipts(notice: Notice, names: dict[str, str]) -> None:
    actor = common.current_actor()
    receipts = notice_service.receipts(common.get_engine(), actor, int(notice.id))
    read = int(receipts["read"].sum()) if len(receipts) else 0
    st.markdown(f"**{t('sp.notice.receipts', read=read, total=len(receipts))}**")
    unread = receipts.loc[~receipts["read"].astype(bool)]
    if len(unread):
        st.caption(t("sp.notice.not_read", count=len(unread)))
        common.dataframe(pd.DataFrame({
            t("field.staff"): unread["name"].fillna(""),
            t("field.grid"): unread["grid_codes"].fillna("").map(lambda codes: t("list.sep").join(codes.split(","))),
            t("field.role"): unread["roles"].fillna("").map(
                lambda roles: t("list.sep").join(label_of("role", r) for r in roles.split(",") if r)),
        }), hide_index=True, width="stretch", key="notices.unread")
    elif len(receipts):
        st.success(t("sp.notice.all_read"))
    done = receipts.loc[receipts["read"].astype(bool)]
    if len(done):
        with st.expander(t("sp.notice.have_read", count=len(done))):
            common.dataframe(pd.DataFrame({
                t("field.staff"): done["name"].fillna(""),
                t("sp.notice.read_time"): done["read_at"].map(common.local_time),
            }), hide_index=True, width="stretch")


def _list(names: dict[str, str]) -> None:
    st.subheader(t("sp.notice.list"))
    items = notice_service.list_notices(common.get_engine(), common.current_actor())
    if not items:
        st.info(t("sp.notice.none"))
        return
    now = clock.utc_now()
    common.dataframe(pd.DataFrame({
        "ID": [n.id for n in items],
        t("sp.notice.kind"): [label_of("notice_kind", n.kind) for n in items],
        t("sp.notice.title_field"): [n.title for n in items],
        t("sp.notice.valid"): [f"{_day(n.valid_from)} ~ {_last_day(n)}" for n in items],
        t("sp.notice.current"): [t("sp.yes") if n.valid_from <= now < n.valid_to else t("sp.no") for n in items],
        t("sp.notice.targets"): [_targets(n, names) for n in items],
        t("sp.notice.author"): [n.author for n in items],
    }), hide_index=True, width="stretch", height=260)
    by_id = {int(n.id): n for n in items}
    ids = list(by_id)
    picked = st.session_state.pop("notices.pick", None)
    if picked in by_id:  # a notice just published is shown at once (the chooser's own state keeps the old one)
        st.session_state["notices.chosen"] = picked
    index = ids.index(picked) if picked in by_id else 0
    chosen = st.selectbox(t("sp.notice.pick"), options=ids, index=index, key="notices.chosen",
                          format_func=lambda i: f"#{i} {by_id[i].title}")
    notice = by_id[int(chosen)]
    st.markdown(f"**{t('sp.notice.heading', kind=label_of('notice_kind', notice.kind), title=common._md_text(notice.title))}**")
    st.text(notice.body)
    _receipts(notice, names)
    st.markdown(f"**{t('sp.notice.wechat')}**")
    st.code(notice_service.wechat(notice, lang=current_language(), grid_names=names), language=None)


def render() -> None:
    st.title(t("sp.notice.page_title"))
    _flash()
    grids, _roster = common.load_roster_tables(common.data_token(), common.user_scope())
    names = dict(zip(grids["code"].astype(str), grids["name"].astype(str)))
    _publish_form(grids)
    _list(names)
