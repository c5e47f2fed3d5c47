"""Panels of the street's practices shown inside other pages: the completeness to-dos and the share
verified this quarter (a worker's home, the leader's overview), and the cameras of a grid (雪亮工程,
the grid card; stream addresses only for roles that may see them).

Thin layer over :mod:`services.completeness` and :mod:`services.cameras`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from access.permissions import may
from app_pages import common
from app_pages.i18n import label_of, t
from gis.errors import GridGovError
from services import cameras as camera_service
from services import completeness as completeness_service


def _share(value: object) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value) * 100:.0f}%"


def _todo_text(row: pd.Series) -> str:
    params = row["params"] if isinstance(row["params"], dict) else {}
    key = str(row["message_key"] or "")
    try:
        return t(key, **params)
    except KeyError:
        return label_of("completeness", row["rule"])


def _check_button(key: str) -> None:
    if st.button(t("sp.todo.check"), key=key):
        try:
            completeness_service.check_grid(common.get_engine(), common.current_actor())
        except GridGovError as exc:
            st.error(t("sp.refused", error=exc))
            return
        common.clear_caches()
        st.rerun()


def worker_completeness() -> None:
    """The worker's home: the share of their records verified this quarter, their to-dos."""
    actor = common.current_actor()
    if not may(actor.role, "check_completeness"):
        return
    todos, report = common.load_completeness(common.data_token(), common.user_scope(), True)
    mine = report.workers.loc[report.workers["staff_id"] == actor.staff_id] if actor.staff_id is not None else report.workers.iloc[0:0]
    with st.container(border=True, key="home-completeness"):
        st.markdown(f"**{t('sp.todo.title', quarter=report.quarter)}**")
        cols = st.columns(3)
        row = mine.iloc[0] if len(mine) else None
        cols[0].metric(t("sp.todo.verified_share"), _share(row["households_share"]) if row is not None else "-")
        cols[1].metric(t("sp.todo.overdue"), int(row["households_overdue"]) if row is not None else 0)
        cols[2].metric(t("sp.todo.count"), len(todos))
        if len(todos):
            with st.expander(t("sp.todo.list", count=len(todos))):
                common.dataframe(pd.DataFrame({
                    t("field.address"): todos["address"].fillna(""),
                    t("sp.todo.rule"): todos["rule"].map(lambda r: label_of("completeness", r)),
                    t("sp.todo.what"): [_todo_text(r) for _, r in todos.iterrows()],
                }), hide_index=True, width="stretch")
        _check_button("home.completeness_check")


def overview_completeness() -> None:
    """The leader's overview: per grid the share verified this quarter, overdue records and to-dos."""
    actor = common.current_actor()
    if not may(actor.role, "check_completeness"):
        return
    todos, report = common.load_completeness(common.data_token(), common.user_scope(), False)
    st.subheader(t("sp.todo.overview", quarter=report.quarter))
    grids = report.grids
    if grids.empty:
        st.info(t("sp.todo.no_records"))
        return
    counts = todos.groupby("grid_code").size() if len(todos) else pd.Series(dtype="int64")
    level = grids["grid_code"].astype(str)
    common.dataframe(pd.DataFrame({
        t("field.grid"): level,
        t("sp.todo.households"): grids["households"].astype(int),
        t("sp.todo.verified_share"): grids["households_share"].map(_share),
        t("sp.todo.overdue"): grids["households_overdue"].astype(int),
        t("sp.todo.count"): level.map(counts).fillna(0).astype(int),
    }).sort_values(t("sp.todo.overdue"), ascending=False), hide_index=True, width="stretch", height=300)
    _check_button("overview.completeness_check")


def grid_cameras(code: str) -> None:
    """The cameras of grid ``code`` (and below) on its card: count and list."""
    actor = common.current_actor()
    cameras = camera_service.grid_camera_list(common.get_engine(), actor, code)
    label = t("sp.camera.title", count=len(cameras))
    if not cameras:
        st.caption(label)
        return
    with st.expander(label):
        streams = may(actor.role, "view_camera_streams")
        table = {
            t("sp.camera.key"): [c["camera_key"] for c in cameras],
            t("field.name"): [c["name"] or "" for c in cameras],
            t("sp.camera.type"): [label_of("camera_type", c["type"]) for c in cameras],
            t("sp.camera.status"): [label_of("camera_status", c["status"]) for c in cameras],
            t("field.grid"): [c["grid_code"] for c in cameras],
        }
        if streams:
            table[t("sp.camera.stream")] = [c.get("stream_url") or "" for c in cameras]
        common.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
