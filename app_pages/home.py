"""我的工作台 (a worker's home, phone first): my grid with my position, my tasks, my visits, report here.

Thin layer over :mod:`services.home` (the day), :mod:`services.visits` and :mod:`services.incidents`
(the writes, each with the form's request key so a double tap saves once). The position comes from
the map: its 定位 button (browser geolocation) or a tap (:mod:`app_pages.field_map`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import common, folium_view, street_panels
from app_pages.i18n import label_of, t
from gis import clock, webmap
from gis.errors import GridGovError
from governance.capture import PhotoRefused, new_request_key
from governance.tasks import hours_as_days_hours
from governance.visits import VisitRecord
from governance.vocab import INCIDENT_CATEGORY_TERMS, VISIT_KINDS
from services import home as home_service
from services import incidents as incident_service
from services import visits as visit_service

MAP_HEIGHT = 360  # px: leaves room on a 844-px phone screen to scroll past the map


def _defaults() -> None:
    for key, value in (("home.point", None), ("home.flash", None), ("home.incident", None),
                       ("home.visit_key", new_request_key()), ("home.report_key", new_request_key()),
                       ("home.form", 0)):
        st.session_state.setdefault(key, value)


def _duration(hours: float) -> str:
    days, rest = hours_as_days_hours(hours)
    return t("home.days_hours", days=days, hours=rest) if days else t("home.hours", hours=rest)


def _flash() -> None:
    message = st.session_state.get("home.flash")
    if message:
        kind, text = message
        (st.success if kind == "ok" else st.error)(text)
        st.session_state["home.flash"] = None


def _photo(upload) -> object | None:  # noqa: ANN001 - an UploadedFile
    if upload is None:
        return None
    from etl.photos import read_photo

    return read_photo(upload.getvalue())


def _photo_error(exc: PhotoRefused) -> str:
    return t(f"home.photo.{exc.reason}", **{k: v for k, v in exc.params.items()})


def _position_line() -> None:
    point = st.session_state.get("home.point")
    if point:
        st.caption(t("home.position", lon=f"{point[0]:.6f}", lat=f"{point[1]:.6f}"))
    else:
        st.caption(t("home.no_position"))


def _map(token: str, scope, code: str) -> None:
    basemap = common.current_basemap()
    st.caption(t("home.map_hint"))
    rendered = common.load_home_map(token, scope, basemap, common.current_language(), code)
    state = folium_view.show(rendered, key="home.map", height=MAP_HEIGHT, use_container_width=True,
                             returned_objects=["last_clicked"])
    clicked = (state or {}).get("last_clicked")
    if clicked and clicked != st.session_state.get("home.last_clicked"):
        st.session_state["home.last_clicked"] = clicked
        st.session_state["home.point"] = webmap.from_display_xy(clicked["lng"], clicked["lat"], basemap=basemap)
    _position_line()


def _tasks(day, names: dict[int, str]) -> None:
    tasks = day.tasks
    if tasks.empty:
        st.info(t("home.no_tasks"))
        return
    rows = []
    for _, task in tasks.iterrows():
        if task["overdue"]:
            due = t("home.overdue_by", duration=_duration(task["overdue_hours"]))
        elif pd.notna(task["due_in_hours"]):
            due = t("home.due_in", duration=_duration(task["due_in_hours"]))
        else:
            due = ""
        rows.append({"ID": int(task["id"]), t("field.category"): label_of("category", task["category"]),
                     t("home.deadline"): common.local_time(task["deadline"]), t("home.due"): due,
                     t("field.description"): task["description"] or ""})
    common.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    ids = tasks["id"].astype(int).tolist()
    with st.form("home.handle_form", clear_on_submit=True):
        picked = st.selectbox(t("home.task_pick"), options=ids, key="home.task_pick",
                              format_func=lambda i: f"#{i} · {label_of('category', tasks.set_index('id').loc[i, 'category'])}")
        note = st.text_area(t("home.handle_note"), key="home.handle_note")
        submitted = st.form_submit_button(t("home.handle"), type="primary")
    if submitted:
        version = int(tasks.set_index("id").loc[picked, "version"]) if "version" in tasks else None
        try:
            incident_service.act_on_incident(common.get_engine(), common.current_actor(), int(picked), "handle",
                                             note=note, expected_version=version)
        except GridGovError as exc:
            st.session_state["home.flash"] = ("error", t("home.refused", error=exc))
        else:
            st.session_state["home.flash"] = ("ok", t("home.handled", id=picked))
            st.session_state["home.incident"] = int(picked)
        common.clear_caches()
        st.rerun()


def _visit_form(day, staff_id: int | None) -> None:
    households = day.households
    if households.empty or staff_id is None:
        st.info(t("home.no_households"))
        return
    due = set(day.special_due["id"].astype(int)) if len(day.special_due) else set()
    order = sorted(households["id"].astype(int), key=lambda i: (i not in due, i))
    address = dict(zip(households["id"].astype(int), households["address"].fillna("")))
    if len(day.special_due):
        st.markdown(f"**{t('home.special_due', count=len(day.special_due))}**")
        for _, row in day.special_due.head(8).iterrows():
            cols = st.columns([4, 1], vertical_alignment="center")
            cols[0].write(f"{row['address']} · {_special(row['special_kinds'])}")
            if cols[1].button(t("home.visit_this"), key=f"home.visit.{int(row['id'])}"):
                st.session_state[f"home.household.{st.session_state['home.form']}"] = int(row["id"])
    form = st.session_state["home.form"]
    with st.form(f"home.visit_form.{form}"):
        household = st.selectbox(t("visit.household"), options=order, key=f"home.household.{form}",
                                 format_func=lambda i: (t("home.special_mark") + " " if i in due else "") + f"{address[i]}")
        kind = st.selectbox(t("field.kind"), options=list(VISIT_KINDS), key=f"home.kind.{form}",
                            format_func=lambda k: label_of("visit_kind", k))
        note = st.text_area(t("visit.note"), key=f"home.note.{form}")
        upload = st.file_uploader(t("home.photo"), type=["jpg", "jpeg", "png", "webp"], key=f"home.vphoto.{form}")
        submitted = st.form_submit_button(t("home.save_visit"), type="primary", width="stretch")
    if not submitted:
        return
    point = st.session_state.get("home.point")
    try:
        picture = _photo(upload)
        visit_id = visit_service.record_visit(
            common.get_engine(), common.current_actor(),
            VisitRecord(household_id=int(household), staff_id=int(staff_id), visited_at=clock.utc_now(), kind=kind,
                        note=note, lon=point[0] if point else None, lat=point[1] if point else None),
            request_key=st.session_state["home.visit_key"], photo=picture,
        )
    except PhotoRefused as exc:
        st.error(_photo_error(exc))
        return
    except GridGovError as exc:
        st.error(t("home.refused", error=exc))
        return
    st.session_state["home.visit_key"] = new_request_key()
    st.session_state["home.form"] = form + 1  # a new, empty form
    st.session_state["home.flash"] = ("ok", t("home.visit_saved", id=visit_id, address=address[int(household)]))
    common.clear_caches()
    st.rerun()


def _special(kinds: object) -> str:
    if kinds is None or isinstance(kinds, float):
        return ""
    values = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    return t("list.sep").join(label_of("special", k) for k in values if k)


def _report_form() -> None:
    form = st.session_state["home.form"]
    point = st.session_state.get("home.point")
    if not point:
        st.info(t("home.report_needs_point"))
    with st.form(f"home.report_form.{form}"):
        category = st.selectbox(t("field.category"), options=list(INCIDENT_CATEGORY_TERMS.codes),
                                key=f"home.category.{form}", format_func=lambda c: label_of("category", c))
        description = st.text_area(t("field.description"), key=f"home.description.{form}")
        address = st.text_input(t("field.address"), key=f"home.address.{form}")
        upload = st.file_uploader(t("home.photo"), type=["jpg", "jpeg", "png", "webp"], key=f"home.iphoto.{form}")
        submitted = st.form_submit_button(t("home.report"), type="primary", width="stretch")
    if not submitted:
        return
    if not point:
        st.error(t("home.report_needs_point"))
        return
    try:
        picture = _photo(upload)
        reported = incident_service.report_incident(
            common.get_engine(), common.current_actor(), lon=float(point[0]), lat=float(point[1]), category=category,
            description=description, address=address, request_key=st.session_state["home.report_key"], photo=picture,
        )
    except PhotoRefused as exc:
        st.error(_photo_error(exc))
        return
    except GridGovError as exc:
        st.error(t("home.refused", error=exc))
        return
    st.session_state["home.report_key"] = new_request_key()
    st.session_state["home.form"] = form + 1
    st.session_state["home.incident"] = reported.id
    st.session_state["home.flash"] = ("ok", t("home.reported", id=reported.id) + (
        t("feedback.reference_notice", reference=reported.shown_reference) if reported.reference else ""))
    common.clear_caches()
    st.rerun()


def _incident_detail(incident_id: int) -> None:
    try:
        detail = home_service.incident_panel(common.get_engine(), common.current_actor(), incident_id)
    except GridGovError as exc:
        st.error(t("home.refused", error=exc))
        return
    with st.container(border=True, key="home-incident"):
        st.markdown(f"**{t('home.incident_title', id=detail['id'], status=label_of('status', detail['status']))}**")
        st.write(f"{t('field.category')}: {label_of('category', detail['category'])} · "
                 f"{t('field.grid')}: {detail['grid_code'] or '-'}")
        if detail.get("description"):
            st.text(detail["description"])
        st.caption(t("home.incident_meta", at=common.local_time(detail.get("reported_at")), photos=len(detail["photos"])))


def _recent(day) -> None:
    if day.recent_visits.empty:
        st.caption(t("home.no_visits"))
        return
    shown = day.recent_visits.head(10)
    common.dataframe(pd.DataFrame({
        t("field.address"): shown["address"].fillna(""),
        t("home.visited_at"): shown["visited_at"].map(common.local_time),
        t("field.kind"): shown["kind"].map(lambda k: label_of("visit_kind", k)),
        t("visit.note"): shown["note"].fillna(""),
    }), hide_index=True, width="stretch")


def render() -> None:
    _defaults()
    actor = common.current_actor()
    st.title(t("home.title"))
    _flash()
    token = common.data_token()
    scope = common.user_scope()
    day = home_service.load_worker_day(common.get_engine(), actor)
    if day.grids.empty:
        st.warning(t("home.no_grid"))
        return
    grid = day.grids.iloc[0]
    code = str(grid["code"])
    with st.container(border=True, key="home-grid"):
        st.markdown(f"**{t('home.my_grid')}** `{code}` {grid['name']}")
        cols = st.columns(3)
        target = day.target if day.target is not None else 0
        cols[0].metric(t("home.visits_month"), f"{day.visited}/{target}" if day.target is not None else str(day.visited))
        cols[1].metric(t("home.special_left"), len(day.special_due))
        cols[2].metric(t("home.tasks"), len(day.tasks))
    _notices(actor)
    street_panels.worker_completeness()
    _map(token, scope, code)
    selected = st.session_state.get("home.incident")
    if selected:
        _incident_detail(int(selected))
    tab_tasks, tab_visit, tab_report, tab_recent = st.tabs(
        [t("home.tab_tasks", count=len(day.tasks)), t("home.tab_visit"), t("home.tab_report"), t("home.tab_recent")])
    with tab_tasks:
        _tasks(day, {})
    with tab_visit:
        _visit_form(day, actor.staff_id)
    with tab_report:
        _report_form()
    with tab_recent:
        _recent(day)
    _ = dt  # dates are shown through common.local_time


def _notices(actor) -> None:  # noqa: ANN001 - the logged-in Actor
    """The current notices sent to the person's grids (信息推送), each with its read receipt button."""
    from services import notices as notice_service

    items = home_service.notices_for(common.get_engine(), actor)
    if not items:
        return
    unread = sum(1 for item in items if item.read_at is None)
    with st.container(border=True, key="home-notices"):
        st.markdown(f"**{t('sp.notice.home_title', count=len(items), unread=unread)}**")
        for item in items:
            notice = item.notice
            st.markdown(f"**{t('sp.notice.heading', kind=label_of('notice_kind', notice.kind), title=common._md_text(notice.title))}**")
            st.caption(t("sp.notice.validity", start=common.local_time(notice.valid_from)[:10],
                         end=common.local_time(notice.valid_to - dt.timedelta(microseconds=1))[:10]))
            st.text(notice.body)
            if item.read_at is not None:
                st.caption(t("sp.notice.read_at", at=common.local_time(item.read_at)))
            elif st.button(t("sp.notice.mark_read"), key=f"home.notice_read.{notice.id}", width="stretch"):
                notice_service.mark_read(common.get_engine(), actor, int(notice.id))
                st.session_state["home.flash"] = ("ok", t("sp.notice.marked", title=notice.title))
                st.rerun()
