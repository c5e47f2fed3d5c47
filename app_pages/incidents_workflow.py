"""Incident closed-loop page: report on the map, act on an incident, overdue list.

Every transition goes through :func:`store.governance.transition_incident` with the
version the user saw, so two people acting at once cannot both succeed: the second sees
the stale-version message naming the newer event and reloads.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages import common, field_map, maps
from app_pages.i18n import current_language, label_of, t
from i18n import duration
from gis import clock
from gis import webmap
from gis.errors import GridGovError, StaleVersionError
from services import incidents as incident_service
from store import governance as repository
from governance.deadlines import DeadlinePolicy, overdue_incidents, overdue_mask
from governance.roster import active_assignments
from governance.workflow import allowed_actions

OPEN_STATUSES = ("reported", "accepted", "classified", "dispatched", "handled")
DISPOSITION_KEYS = ("solve_now", "research_assign", "explain_respond")


def _defaults() -> None:
    st.session_state.setdefault("wf.selected", None)
    st.session_state.setdefault("wf.point", None)
    st.session_state.setdefault("wf.flash", None)


def _overdue_by(deadline: object, now: dt.datetime) -> str:
    """How long past ``deadline`` ``now`` is, in days and hours of the session language ("超期 2 天 3 小时")."""
    stamp = pd.Timestamp(deadline) if deadline is not None else pd.NaT
    if pd.isna(stamp):
        return t("wf.yes")
    return duration((pd.Timestamp(now) - stamp).total_seconds() / 3600.0, current_language())


def _load(scope) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, str]]:
    return common.load_workflow_tables(common.data_token(), scope)


def _flash() -> None:
    message = st.session_state.get("wf.flash")
    if message:
        kind, text = message
        (st.success if kind == "ok" else st.error)(text)
        st.session_state["wf.flash"] = None


def _incident_table(incidents: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    now = dt.datetime.now(dt.UTC)
    late = overdue_mask(incidents, now=now)
    return pd.DataFrame(
        {
            "ID": incidents["id"],
            t("field.reported_at"): incidents["reported_at"].map(common.local_time),
            t("field.category"): incidents["category"].map(lambda c: label_of("category", c)),
            t("field.status"): incidents["status"].map(lambda s: label_of("status", s)),
            t("wf.disposition"): incidents["disposition"].map(lambda d: label_of("disposition", d) if d else ""),
            t("field.grid"): incidents["grid_code"].fillna(""),
            t("wf.assignee"): incidents["assigned_to"].map(lambda v: "" if pd.isna(v) else names.get(int(v), str(v))),
            t("wf.deadline"): incidents["deadline"].map(common.local_time),
            t("wf.overdue"): [_overdue_by(deadline, now) if v else "" for v, deadline in zip(late, incidents["deadline"])],
        }
    )


def _list_tab(incidents: pd.DataFrame, roster: pd.DataFrame, names: dict[int, str]) -> None:
    cols = st.columns([3, 2, 1])
    statuses = cols[0].multiselect(
        t("field.status"), options=list(OPEN_STATUSES) + ["closed", "rejected"], default=list(OPEN_STATUSES),
        key="wf.statuses", format_func=lambda s: label_of("status", s),
    )
    prefix = cols[1].text_input(t("wf.grid_prefix"), key="wf.grid_prefix").strip()
    only_late = cols[2].toggle(t("wf.only_overdue"), key="wf.only_overdue")
    shown = incidents[incidents["status"].isin(statuses)]
    if prefix:
        shown = shown[shown["grid_code"].fillna("").str.startswith(prefix)]
    if only_late:
        shown = shown[overdue_mask(shown, now=dt.datetime.now(dt.UTC))]
    shown = shown.sort_values("reported_at", ascending=False)
    st.caption(t("wf.count", count=len(shown)))
    common.dataframe(_incident_table(shown.head(500), names), hide_index=True, width="stretch", height=320)
    ids = shown["id"].tolist()
    current = st.session_state.get("wf.selected")
    if current is not None and current not in ids and current in set(incidents["id"]):
        ids.insert(0, current)  # keep the incident being worked on even if the filter now hides it
    if not ids:
        return
    index = ids.index(current) if current in ids else 0
    selected = st.selectbox(t("wf.pick"), options=ids, index=index, key="wf.pick",
                            format_func=lambda i: f"#{i}")
    st.session_state["wf.selected"] = selected
    _detail(int(selected), roster, names)


def _detail(incident_id: int, roster: pd.DataFrame, names: dict[int, str]) -> None:
    with common.connect() as conn:
        detail = repository.incident_detail(conn, incident_id)
        proposed = repository.proposed_assignee(conn, detail["grid_code"])
    st.subheader(t("wf.detail", id=incident_id, status=label_of("status", detail["status"])))
    cols = st.columns(4)
    cols[0].metric(t("field.category"), label_of("category", detail["category"]) or "-")
    cols[1].metric(t("field.grid"), detail["grid_code"] or "-")
    cols[2].metric(t("wf.disposition"), label_of("disposition", detail["disposition"]) if detail["disposition"] else "-")
    cols[3].metric(t("wf.deadline"), common.local_time(detail["deadline"]) or "-")
    st.text(detail["description"] or "")
    seen = _seen(detail)
    if seen["version"] != detail["version"]:
        latest = detail["events"][-1] if detail["events"] else {}
        st.warning(t("wf.changed", actor=latest.get("actor", ""), action=label_of("action", latest.get("action", "")),
                     at=common.local_time(latest.get("at"))))
        if st.button(t("wf.reload"), key=f"wf.reload.{incident_id}"):
            st.session_state["wf.seen"].pop(incident_id, None)
            st.rerun()
    st.markdown(f"**{t('wf.events')}**")
    events = pd.DataFrame(detail["events"], columns=["at", "action", "from_status", "to_status", "actor", "note"])
    common.dataframe(
        pd.DataFrame(
            {
                t("wf.at"): events["at"].map(common.local_time),
                t("wf.action"): events["action"].map(lambda a: label_of("action", a)),
                t("wf.from"): events["from_status"].map(lambda s: label_of("status", s) if s else ""),
                t("wf.to"): events["to_status"].map(lambda s: label_of("status", s)),
                t("wf.actor"): events["actor"],
                t("wf.note"): events["note"],
            }
        ),
        hide_index=True, width="stretch",
    )
    _action_form(detail, roster, names, proposed)


def _seen(detail: dict) -> dict:
    """The state the user saw when they opened the incident (kept until an action or a reload).

    Actions are offered for, and checked against, this version: if someone else changed the
    incident meanwhile, the write is refused with the newer event instead of silently applied.
    """
    seen = st.session_state.setdefault("wf.seen", {})
    return seen.setdefault(int(detail["id"]), {"version": int(detail["version"]), "status": detail["status"]})


def _action_form(detail: dict, roster: pd.DataFrame, names: dict[int, str], proposed: int | None) -> None:
    seen = _seen(detail)
    actions = allowed_actions(seen["status"])
    if not actions:
        st.info(t("wf.no_action"))
        return
    action = st.radio(t("wf.action"), options=actions, horizontal=True, key=f"wf.action.{detail['id']}",
                      format_func=lambda a: label_of("action", a))
    with st.form(f"wf.form.{detail['id']}"):
        kwargs: dict = {}
        if action == "classify":
            policy = DeadlinePolicy.from_settings()
            kwargs["disposition"] = st.selectbox(
                t("wf.disposition"), options=list(DISPOSITION_KEYS), key="wf.disposition",
                format_func=lambda d: t("wf.disposition_days", label=label_of("disposition", d), days=policy.days[d]),
            )
        if action == "dispatch":
            on = dt.datetime.now(clock.zone()).date()
            code = detail["grid_code"] or ""
            team = active_assignments(roster, on)
            team = team[team["grid_code"].map(lambda c: bool(code) and code.startswith(c))]
            candidates = list(dict.fromkeys(([proposed] if proposed else []) + team["staff_id"].astype(int).tolist()))
            candidates += [i for i in sorted(names) if i not in candidates]
            role_of = dict(zip(team["staff_id"].astype(int), team["role"]))
            kwargs["assignee"] = st.selectbox(
                t("wf.assignee"), options=candidates, key="wf.assignee",
                format_func=lambda i: f"{names.get(i, i)}" + (f" · {label_of('role', role_of[i])}" if i in role_of else ""),
            )
        note = st.text_area(t("wf.note_label." + ("required" if action in ("reject", "handle", "reopen") else "optional")),
                            key=f"wf.note.{action}")
        submitted = st.form_submit_button(t("wf.submit"), type="primary")
    if submitted:
        try:
            state = incident_service.act_on_incident(
                common.get_engine(), common.current_actor(), int(detail["id"]), action, note=note,
                expected_version=int(seen["version"]), **kwargs,
            )
        except StaleVersionError as exc:
            st.session_state["wf.flash"] = ("error", t("wf.stale", error=exc))
        except GridGovError as exc:
            st.session_state["wf.flash"] = ("error", t("wf.refused", error=exc))
        else:
            st.session_state["wf.flash"] = ("ok", t("wf.done", id=detail["id"], status=label_of("status", state.status)))
            st.session_state["wf.seen"].pop(int(detail["id"]), None)
        common.clear_caches()
        st.rerun()


def _report_tab(scope, incidents: pd.DataFrame) -> None:
    basemap = common.current_basemap()
    token = common.data_token()
    grids = common.load_grids(token, scope)
    st.caption(t("wf.click_hint"))
    open_now = incidents[incidents["status"].isin(OPEN_STATUSES)]
    points = repository.incident_points(open_now[["category", "status", "description", "lon", "lat"]])
    fmap = maps.grid_map(grids, tr=t, basemap=basemap, incidents=points, labels=False, layer_control=False)
    field_map.add_phone_controls(fmap, common.phone_words(t))
    # map | the tapped point's grid; on a phone the grid comes first (above the map)
    left, right = st.container(key="cardfirst-wf").columns([3, 2])
    with left:
        state = st_folium(fmap, key="wf.map", height=common.MAP_HEIGHT, use_container_width=True,
                          returned_objects=["last_clicked"])
    clicked = (state or {}).get("last_clicked")
    if clicked and clicked != st.session_state.get("wf.last_clicked"):
        st.session_state["wf.last_clicked"] = clicked
        st.session_state["wf.point"] = webmap.from_display_xy(clicked["lng"], clicked["lat"], basemap=basemap)
    point = st.session_state.get("wf.point")
    with right, st.container(border=True, key="wf-tapped"):
        _tapped(token, scope, point)
    with st.form("wf.report_form"):
        cols = st.columns(2)
        lon = cols[0].number_input(t("my.lon"), value=point[0] if point else None, format="%.6f", key="wf.lon")
        lat = cols[1].number_input(t("my.lat"), value=point[1] if point else None, format="%.6f", key="wf.lat")
        known = sorted(incidents["category"].dropna().unique().tolist())
        category = st.selectbox(t("field.category"), options=known, accept_new_options=True, key="wf.category",
                                format_func=lambda c: label_of("category", c))
        description = st.text_area(t("field.description"), key="wf.description")
        address = st.text_input(t("field.address"), key="wf.address")
        submitted = st.form_submit_button(t("wf.report"), type="primary")
    if submitted:
        if lon is None or lat is None:
            st.error(t("wf.need_point"))
            return
        try:
            reported = incident_service.report_incident(
                common.get_engine(), common.current_actor(), lon=float(lon), lat=float(lat),
                category=category or "", description=description, address=address,
            )
        except GridGovError as exc:
            st.error(t("wf.refused", error=exc))
            return
        common.clear_caches()
        st.session_state["wf.selected"] = reported.id
        st.session_state["wf.point"] = None
        st.session_state["wf.flash"] = ("ok", t("wf.reported", id=reported.id) + (
            t("feedback.reference_notice", reference=reported.shown_reference) if reported.reference else ""))
        st.session_state["wf.goto"] = "list"  # show the reported incident's own detail
        st.rerun()


def _tapped(token: str, scope, point: tuple[float, float] | None) -> None:
    """The chosen point and the grid it falls in (the same lookup as the report's assignment)."""
    if not point:
        st.caption(t("wf.click_hint"))
        return
    lon, lat = f"{point[0]:.6f}", f"{point[1]:.6f}"
    try:
        card = common.load_lookup_point(token, float(point[0]), float(point[1]), scope)[0]
    except GridGovError:
        st.markdown(t("phone.tapped_outside", lon=lon, lat=lat))
        return
    st.markdown(t("phone.tapped", lon=lon, lat=lat, code=card.code, name=card.name))


def _overdue_tab(incidents: pd.DataFrame, names: dict[int, str]) -> None:
    late = overdue_incidents(incidents, now=dt.datetime.now(dt.UTC))
    st.caption(t("wf.overdue_count", count=len(late)))
    if late.empty:
        return
    table = _incident_table(late, names)
    table.insert(len(table.columns), t("wf.overdue_for"), [duration(h, current_language()) for h in late["overdue_hours"]])
    common.dataframe(table, hide_index=True, width="stretch")


def render() -> None:
    _defaults()
    st.title(t("wf.title"))
    scope = common.user_scope()
    incidents, roster, names = _load(scope)
    _flash()
    # One view at a time (not st.tabs): Leaflet cannot size a map inside a hidden tab (it opened on
    # the whole world), and only the chosen view is built and sent.
    if st.session_state.pop("wf.goto", None):
        st.session_state["wf.view"] = "list"
    view = st.segmented_control(
        t("phone.view"), options=("list", "report", "overdue"), default="list", key="wf.view",
        label_visibility="collapsed", width="stretch",
        format_func=lambda v: t({"list": "wf.tab_list", "report": "wf.tab_report", "overdue": "wf.tab_overdue"}[v]),
    ) or "list"
    if view == "list":
        _list_tab(incidents, roster, names)
    elif view == "report":
        _report_tab(scope, incidents)
    else:
        _overdue_tab(incidents, names)
