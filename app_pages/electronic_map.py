"""Electronic map: all grids by level, households, incidents, search, grid card."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from app_pages import common, maps
from app_pages.i18n import t
from gis import webmap

MAP_HEIGHT = 620


def _defaults() -> None:
    st.session_state.setdefault("map.selected", None)
    st.session_state.setdefault("map.view", None)
    st.session_state.setdefault("map.hits", [])
    st.session_state.setdefault("map.query", "")


def _zoom_to(hit, basemap) -> None:
    bounds = maps.display_bounds_of_box(hit.bounds, basemap=basemap)
    center, zoom = webmap.view_for_bounds(bounds, width_px=900, height_px=MAP_HEIGHT)
    st.session_state["map.view"] = {"center": center, "zoom": zoom, "label": hit.label}
    st.session_state["map.selected"] = hit.code


def render() -> None:
    _defaults()
    st.title(t("map.title"))
    scope = common.user_scope()
    token = common.data_token()
    basemap = common.current_basemap()

    with st.form("map.search_form", border=False):
        cols = st.columns([5, 1], vertical_alignment="bottom")
        query = cols[0].text_input(t("map.search"), key="map.query_input")
        submitted = cols[1].form_submit_button(t("map.search_button"), key="map.search_submit")
    # Everything whose presence varies lives in this one container, so the map below keeps
    # its place in the page and is not remounted (which would reset its view) by a search.
    results = st.container()
    if submitted:
        st.session_state["map.query"] = query
        hits = common.load_search(token, query, scope)
        st.session_state["map.hits"] = hits
        st.session_state["map.pick"] = 0
        st.session_state["map.picked"] = 0
        if hits:
            _zoom_to(hits[0], basemap)
        else:
            st.session_state["map.view"] = None
            results.warning(t("map.no_results", query=query))
    hits = st.session_state["map.hits"]
    if len(hits) > 1:
        labels = [f"{t('search.kind.' + h.kind)} · {h.label}" for h in hits]
        choice = results.selectbox(
            t("map.pick_result"), options=range(len(hits)), format_func=lambda i: labels[i], key="map.pick"
        )
        if choice is not None and st.session_state.get("map.picked") != choice:
            st.session_state["map.picked"] = choice
            _zoom_to(hits[choice], basemap)
    view = st.session_state["map.view"]
    if view:
        results.caption(t("map.zoomed", label=view["label"]))

    grids = common.load_display_grids(token, scope)
    st.caption(t("map.summary", **common.load_summary(token, scope)))
    # Point layers are switched here (not only in Leaflet's control) so thousands of points
    # are not sent to the browser until asked for; grid levels switch in the map's control.
    switches = st.columns(3)
    with_households = switches[0].toggle(t("layer.households"), key="map.layer_households")
    with_incidents = switches[1].toggle(t("layer.incidents"), key="map.layer_incidents")
    with_labels = switches[2].toggle(t("layer.labels"), value=True, key="map.layer_labels")

    fmap = maps.grid_map(
        grids, tr=t, basemap=basemap,
        households=common.load_households(token, None, scope) if with_households else None,
        incidents=common.load_incidents(token, None, None, (), (), scope) if with_incidents else None,
        labels=with_labels,
    )
    left, right = st.columns([3, 2])
    with left:
        state = st_folium(
            fmap,
            key="map.main",
            height=MAP_HEIGHT,
            use_container_width=True,
            returned_objects=["last_object_clicked_tooltip", "last_object_clicked"],
            center=view["center"] if view else None,
            zoom=view["zoom"] if view else None,
        )
    clicked = maps.code_from_tooltip((state or {}).get("last_object_clicked_tooltip"))
    if clicked and clicked != st.session_state.get("map.last_click"):
        st.session_state["map.last_click"] = clicked
        st.session_state["map.selected"] = clicked
    with right:
        code = st.session_state["map.selected"]
        if code:
            try:
                common.show_grid_card(common.load_card(token, code, scope))
            except LookupError as exc:
                st.warning(str(exc))
        else:
            st.info(t("card.click_hint"))
