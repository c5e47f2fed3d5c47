"""提醒谈话 (reminder talks) for the leaders and grid heads a failed spot check names: the talks in
their grids, marking their own done with a note, and the workers with repeated failures.

Thin layer over :mod:`services.spotchecks` (only the leader a talk names, or an admin, may close it;
the version read is checked so a talk closed meanwhile is not overwritten).
"""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.i18n import t
from app_pages.spotchecks import repeated_table, talks_table
from gis.errors import GridGovError
from services import spotchecks as spot_service


def render() -> None:
    st.title(t("sp.talk.page_title"))
    message = st.session_state.pop("talks.flash", None)
    if message:
        st.success(message)
    actor = common.current_actor()
    talks = spot_service.list_talks(common.get_engine(), actor)
    if talks.empty:
        st.info(t("sp.talk.none"))
    else:
        talks_table(talks, key="talks.table")
    mine = talks.loc[(talks["status"] == "open") & ((talks["leader_id"] == actor.staff_id) if actor.role != "admin"
                                                    else True)] if len(talks) else talks
    st.subheader(t("sp.talk.mine", count=len(mine)))
    if mine.empty:
        st.caption(t("sp.talk.mine_none"))
    else:
        rows = mine.set_index("id")
        form = st.session_state.setdefault("talks.form", 0)
        with st.form(f"talks.form.{form}"):
            talk_id = st.selectbox(t("sp.talk.pick"), options=[int(i) for i in rows.index], key=f"talks.pick.{form}",
                                   format_func=lambda i: f"#{i} {rows.loc[i, 'staff_name']} · {rows.loc[i, 'grid_code']} · "
                                                         f"{common.local_time(rows.loc[i, 'created_at'])}")
            note = st.text_area(t("sp.talk.note"), key=f"talks.note.{form}")
            submitted = st.form_submit_button(t("sp.talk.done_button"), type="primary")
        if submitted:
            try:
                spot_service.complete_talk(common.get_engine(), actor, int(talk_id), note=note,
                                           expected_version=int(rows.loc[talk_id, "version"]))
            except GridGovError as exc:
                st.error(t("sp.refused", error=exc))
            else:
                st.session_state["talks.flash"] = t("sp.talk.done", id=talk_id)
                st.session_state["talks.form"] = form + 1
                st.rerun()
    repeated_table()
