"""My grid (worker lookup): a worker finds their grid by code, by name/phone, or by a point."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common, folium_view
from app_pages.i18n import describe, label_of, t
from gis import clock
from gis import webmap
from gis.errors import GridGovError

MODES = ("code", "person", "point")


def _own_grid() -> str | None:
    """The grid a person with a limited scope opens on (their first grid); ``None`` for the street."""
    scope = common.current_actor().scope
    return None if scope.everything or not scope.prefixes else scope.prefixes[0]


def _defaults() -> None:
    if "my.code" not in st.session_state:
        st.session_state["my.code"] = _own_grid()  # open on the person's own grid
    st.session_state.setdefault("my.error", None)


def _set_code(code: str | None, error: str | None = None) -> None:
    st.session_state["my.code"] = code
    st.session_state["my.error"] = error


def _find_by_point(token: str, lon: float, lat: float) -> None:
    try:
        cards = common.load_lookup_point(token, float(lon), float(lat), common.user_scope())
    except GridGovError as exc:
        _set_code(None, describe(exc))
        return
    _set_code(cards[0].code)


def _controls(token: str, scope, basemap) -> None:
    mode = st.radio(
        t("my.by"), options=MODES, key="my.mode", horizontal=True,
        format_func=lambda m: {"code": t("my.by_code"), "person": t("my.by_person"), "point": t("my.by_point")}[m],
    )
    if mode == "code":
        with st.form("my.code_form", border=False):
            code = st.text_input(t("my.code"), key="my.code_input")
            if st.form_submit_button(t("my.find"), key="my.code_submit"):
                code = code.strip()
                try:
                    common.load_card(token, code, scope)
                except GridGovError as exc:
                    _set_code(None, common.error_text(exc))
                else:
                    _set_code(code)
    elif mode == "person":
        with st.form("my.person_form", border=False):
            query = st.text_input(t("my.person"), key="my.person_input")
            submitted = st.form_submit_button(t("my.find"), key="my.person_submit")
        if submitted:
            st.session_state["my.person_query"] = query
        query = st.session_state.get("my.person_query", "")
        if query:
            staff = common.load_find_staff(token, query, scope)
            if staff.empty:
                _set_code(None, t("my.no_person", query=query))
            else:
                options = list(range(len(staff)))
                pick = st.selectbox(
                    t("my.pick_assignment"), options=options, key="my.person_pick",
                    format_func=lambda i: f"{staff.iloc[i]['name']} · {label_of('role', staff.iloc[i]['role'])} · "
                    f"{staff.iloc[i]['grid_code']} {staff.iloc[i]['grid_name'] or ''}",
                )
                _set_code(str(staff.iloc[pick]["grid_code"]))
    else:
        with st.form("my.point_form", border=False):
            cols = st.columns(3, vertical_alignment="bottom")
            lon = cols[0].number_input(t("my.lon"), value=None, format="%.6f", key="my.lon")
            lat = cols[1].number_input(t("my.lat"), value=None, format="%.6f", key="my.lat")
            if cols[2].form_submit_button(t("my.find"), key="my.point_submit") and lon is not None and lat is not None:
                _find_by_point(token, lon, lat)
        st.caption(t("my.click_hint"))
        overview = common.load_grid_map(
            token, common.map_scope(scope), basemap, common.current_language(), labels=False, finest_level=False
        )
        # map | the found grid's card; on a phone the card comes first (above the map)
        left, right = st.container(key="cardfirst-my").columns([3, 2])
        with left:
            state = folium_view.show(
                overview, key="my.point_map", height=common.MAP_HEIGHT, use_container_width=True,
                returned_objects=["last_clicked"],
            )
        clicked = (state or {}).get("last_clicked")
        if clicked and clicked != st.session_state.get("my.last_clicked"):
            st.session_state["my.last_clicked"] = clicked
            lon4490, lat4490 = webmap.from_display_xy(clicked["lng"], clicked["lat"], basemap=basemap)
            _find_by_point(token, lon4490, lat4490)
        with right:
            _card(token, scope)


def _card(token: str, scope) -> None:
    """The found grid's card (or why none was found) beside the map that found it."""
    if st.session_state["my.error"]:
        st.error(t("my.not_found", error=st.session_state["my.error"]))
        return
    code = st.session_state["my.code"]
    if not code:
        st.info(t("card.click_hint"))
        return
    try:
        card = common.load_card(token, code, scope)
    except GridGovError as exc:
        st.error(t("my.not_found", error=common.error_text(exc)))
        return
    st.success(t("my.found", code=card.code, name=card.name))
    common.show_grid_card(card)


def _result(token: str, scope, basemap, code: str, *, card_shown: bool = False) -> None:
    """The grid ``code``: its map and card (the card only when the point map does not show it
    already: ``card_shown``), households, this month's visits and the contact card."""
    try:
        card = common.load_card(token, code, scope)
    except GridGovError as exc:
        if not card_shown:
            st.error(t("my.not_found", error=common.error_text(exc)))
        return
    grid_map = common.load_grid_map(token, scope, basemap, common.current_language(), under=code, households=True)
    if card_shown:
        folium_view.show(grid_map, key="my.grid_map", height=common.MAP_HEIGHT, use_container_width=True,
                         returned_objects=[])
    else:
        st.success(t("my.found", code=card.code, name=card.name))
        # map | card; on a phone the card comes first (above the map)
        left, right = st.container(key="cardfirst-grid").columns([3, 2])
        with left:
            folium_view.show(grid_map, key="my.grid_map", height=common.MAP_HEIGHT, use_container_width=True,
                             returned_objects=[])
        with right:
            common.show_grid_card(card)

    st.subheader(t("my.households"))
    roster = common.load_roster(token, code, scope)
    common.dataframe(
        pd.DataFrame(
            {
                t("field.address"): roster["address"],
                t("field.special"): roster["special_kinds"].map(_special_labels),
                t("field.resident"): roster["name"],
                t("field.relation"): roster["relation"],
                t("field.id_number"): roster["id_number"],
                t("field.phone"): roster["phone"],
                t("field.grid"): roster["grid_code"],
            }
        ).astype(object).where(lambda f: f.notna(), ""),
        hide_index=True, width="stretch", height=320,
    )

    month, _start, _end = clock.month_of()
    due = common.load_due_visits(token, code, month, scope)
    st.subheader(t("my.visits", month=due.month))
    st.info(
        t("my.visits_summary", done=due.visits_done, target=due.target, needed=due.still_needed,
          pending=len(due.households))
    )
    if len(due.households):
        common.dataframe(
            pd.DataFrame(
                {
                    t("field.address"): due.households["address"],
                    t("field.special"): due.households["special_kinds"].map(_special_labels),
                    t("field.grid"): due.households["grid_code"],
                    t("field.last_visit"): due.households["last_visit"].map(
                        lambda v: common.local_time(v, "%Y-%m-%d") or t("my.never_visited")),
                }
            ),
            hide_index=True, width="stretch",
        )
    else:
        st.success(t("my.no_due"))

    st.subheader(t("my.card"))
    lang = st.session_state.get("ui.lang", "zh")
    try:
        png = common.load_contact_card(token, code, lang, "png", scope)
        pdf = common.load_contact_card(token, code, lang, "pdf", scope)
    except GridGovError as exc:
        st.error(t("my.card_error", error=exc))
        return
    cols = st.columns([2, 1])
    cols[0].image(png, width=360)
    cols[1].download_button(t("my.download_png"), png, file_name=f"contact-card-{code}.png", mime="image/png", key="my.png")
    cols[1].download_button(t("my.download_pdf"), pdf, file_name=f"contact-card-{code}.pdf", mime="application/pdf", key="my.pdf")


def _special_labels(kinds: object) -> str:
    if not isinstance(kinds, str) or not kinds:
        return ""
    return t("list.sep").join(label_of("special", k) for k in kinds.split(","))


def render() -> None:
    _defaults()
    st.title(t("my.title"))
    scope = common.user_scope()
    token = common.data_token()
    basemap = common.current_basemap()
    _controls(token, scope, basemap)
    by_point = st.session_state.get("my.mode") == "point"  # the point map shows the card and errors
    if st.session_state["my.error"] and not by_point:
        st.error(t("my.not_found", error=st.session_state["my.error"]))
    code = st.session_state["my.code"]
    if code:
        _result(token, scope, basemap, code, card_shown=by_point)
    elif not st.session_state["my.error"] and not by_point:
        st.info(t("my.enter_query"))
