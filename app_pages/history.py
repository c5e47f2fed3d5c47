"""Change history (变更历史): changesets per grid and for the whole subdistrict, the map on any
date, two versions side by side with the changed areas highlighted, and rollback.

Reads through the cached loaders of :mod:`app_pages.common`; the rollback goes through
:func:`services.editing.rollback_changeset` (a new changeset, validated like any edit).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import common, folium_view
from app_pages.i18n import t
from services.editing import rollback_changeset
from gis import webmap
from gis.errors import GridGovError, StaleVersionError
from gis import clock

MAP_HEIGHT = 480
NOW = "now"

def _moments(history: pd.DataFrame) -> dict[str, dt.datetime | None]:
    """Selectable moments: now, and the state right after each changeset (newest first)."""
    out: dict[str, dt.datetime | None] = {NOW: None}
    for cid, at, reason in zip(history["id"], history["at"], history["reason"]):
        out[f"cs{int(cid)}"] = pd.Timestamp(at).to_pydatetime()
    return out


def _moment_label(history: pd.DataFrame):
    by_id = {f"cs{int(c)}": (int(c), a, r) for c, a, r in zip(history["id"], history["at"], history["reason"])}

    def label(key: str) -> str:
        if key == NOW:
            return t("history.now")
        cid, at, reason = by_id[key]
        local = pd.Timestamp(at).tz_convert(clock.zone())
        return t("history.after_changeset", id=cid, at=f"{local:%Y-%m-%d %H:%M:%S}", reason=reason or "")

    return label


def _timeline(token: str) -> pd.DataFrame:
    st.subheader(t("history.timeline"))
    code = st.text_input(t("history.code_filter"), key="history.code").strip() or None
    history = common.load_history(token, code, common.user_scope())
    if not len(history):
        st.info(t("history.empty"))
        return history
    shown = history.assign(
        at=[f"{pd.Timestamp(a).tz_convert(clock.zone()):%Y-%m-%d %H:%M:%S}" for a in history["at"]],
        kind=[t(f"history.kind.{k}") if f"history.kind.{k}" in _kinds() else k for k in history["kind"]],
    )
    common.dataframe(shown.rename(columns={c: t(f"history.col.{c}") for c in shown.columns}), hide_index=True,
                 width="stretch")
    return history


def _kinds() -> set[str]:
    from app_pages.i18n import CATALOGUE

    return {k for k in CATALOGUE if k.startswith("history.kind.")}


def _as_of_map(token: str, history: pd.DataFrame, basemap: webmap.Basemap) -> None:
    st.subheader(t("history.as_of_title"))
    cols = st.columns(2)
    mode = cols[0].radio(t("history.as_of_mode"), options=["changeset", "date"],
                         format_func=lambda m: t(f"history.mode.{m}"), horizontal=True, key="history.mode")
    if mode == "date":
        day = cols[1].date_input(t("history.date"), value=dt.datetime.now(clock.zone()).date(), key="history.date")
        as_of: dt.datetime | None = clock.end_of_day(day)
        caption = t("history.as_of_date", date=f"{day:%Y-%m-%d}")
    else:
        moments = _moments(history)
        key = cols[1].selectbox(t("history.moment"), options=list(moments), format_func=_moment_label(history),
                                key="history.moment")
        as_of = moments[key]
        caption = _moment_label(history)(key)
    plan = common.load_plan_as_of(token, as_of)
    st.caption(t("history.as_of_caption", label=caption, grids=len(plan)))
    if not len(plan):
        st.info(t("history.no_grids"))
        return
    rendered = common.load_history_map(token, as_of, basemap, common.current_language())
    folium_view.show(rendered, key="history.as_of_map", height=MAP_HEIGHT, use_container_width=True,
                     returned_objects=[])


def _compare(token: str, history: pd.DataFrame, basemap: webmap.Basemap) -> None:
    st.subheader(t("history.compare_title"))
    moments = _moments(history)
    options = list(moments)
    label = _moment_label(history)
    cols = st.columns(2)
    first = cols[0].selectbox(t("history.version_a"), options=options, format_func=label,
                              index=min(2, len(options) - 1), key="history.version_a")  # before the latest change
    second = cols[1].selectbox(t("history.version_b"), options=options, format_func=label, index=0,
                               key="history.version_b")
    old = common.load_plan_as_of(token, moments[first])
    new = common.load_plan_as_of(token, moments[second])
    if not len(old) or not len(new):
        st.info(t("history.no_grids"))
        return
    diff, changes = common.load_changed_areas(token, moments[first], moments[second])
    st.markdown(t("history.diff_summary", added=len(diff.added), retired=len(diff.retired),
                  reshaped=len(diff.reshaped), renamed=len(diff.renamed)))
    lang = common.current_language()
    left, right = st.columns(2)
    for column, moment, other, side, key in (
        (left, first, second, "a", "history.compare_a"),
        (right, second, first, "b", "history.compare_b"),
    ):
        with column:
            st.caption(label(moment))
            rendered = common.load_history_map(
                token, moments[moment], basemap, lang, other=moments[other], side=side
            )
            folium_view.show(rendered, key=key, height=MAP_HEIGHT, use_container_width=True, returned_objects=[])
    if len(changes):
        table = pd.DataFrame(changes.drop(columns="geometry")).assign(
            change=lambda f: f["change"].map(lambda k: t(f"history.change.{k}")), area_m2=lambda f: f["area_m2"].round(1))
        common.dataframe(table.rename(columns={"code": t("field.code"), "change": t("history.change"),
                                           "level": t("history.level"), "area_m2": t("history.area_m2")}),
                     hide_index=True, width="stretch")


def _rollback(history: pd.DataFrame) -> None:
    st.subheader(t("history.rollback_title"))
    candidates = history[history["kind"].isin(["edit", "rollback"])] if len(history) else history
    if not len(candidates):
        st.info(t("history.nothing_to_roll_back"))
        return
    labels = {int(c): f"#{int(c)} · {k} · {r}" for c, k, r in zip(candidates["id"], candidates["kind"],
                                                                   candidates["reason"])}
    cols = st.columns([2, 3])
    cid = cols[0].selectbox(t("history.rollback_pick"), options=list(labels), format_func=labels.get,
                            key="history.rollback_id")
    reason = cols[1].text_input(t("history.rollback_reason"), key="history.rollback_reason")
    if st.button(t("history.rollback_button"), key="history.rollback_button"):
        try:
            applied = rollback_changeset(common.get_engine(), int(cid), actor=common.current_actor(),
                                         reason=reason.strip() or None)
        except StaleVersionError as exc:
            st.error(t("history.rollback_conflict", error=exc))
        except GridGovError as exc:
            st.error(t("history.rollback_failed", error=exc))
        else:
            common.clear_caches()
            st.session_state["editor.draft"] = None  # the editor's draft is stale now
            st.session_state["history.flash"] = t("history.rolled_back", id=cid, new_id=applied.changeset_id,
                                                  moved=sum(applied.households_moved.values()))
            st.rerun()


def render() -> None:
    st.title(t("history.title"))
    flash = st.session_state.pop("history.flash", None)
    if flash:
        st.success(flash)
    token = common.data_token()
    basemap = common.current_basemap()
    history = _timeline(token)
    if not len(history):
        return
    everything = (history if st.session_state.get("history.code") in (None, "")
                  else common.load_history(token, None, common.user_scope()))
    _as_of_map(token, everything, basemap)
    _compare(token, everything, basemap)
    _rollback(everything)
