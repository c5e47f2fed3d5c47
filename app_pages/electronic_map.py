"""Electronic map: all grids by level, households, incidents, search, grid card."""

from __future__ import annotations

import streamlit as st

from app_pages import common, folium_view, maps
from app_pages.i18n import t
from gis import webmap
from store.lookup import GridNotFoundAtPoint

MAP_HEIGHT = common.MAP_HEIGHT  # px: room to scroll past the map on a phone


def _defaults() -> None:
    st.session_state.setdefault("map.selected", None)
    st.session_state.setdefault("map.view", None)
    st.session_state.setdefault("map.hits", [])
    st.session_state.setdefault("map.not_found", None)


def _zoom_to(hit, basemap) -> None:
    bounds = maps.display_bounds_of_box(hit.bounds, basemap=basemap)
    center, zoom = webmap.view_for_bounds(bounds, width_px=900, height_px=MAP_HEIGHT)
    st.session_state["map.view"] = {"center": center, "zoom": zoom, "label": hit.label}
    st.session_state["map.selected"] = hit.code


def _on_search(token: str, scope, basemap) -> None:
    """Form callback: search, zoom to the first hit (runs before the page, so the map gets the view)."""
    query = st.session_state.get("map.query_input", "")
    hits = common.load_search(token, query, scope)
    st.session_state["map.hits"] = hits
    st.session_state["map.pick"] = 0
    st.session_state["map.not_found"] = None if hits else query
    if hits:
        _zoom_to(hits[0], basemap)
    else:
        st.session_state["map.view"] = None


def _on_pick(basemap) -> None:
    """Result list callback: zoom to the chosen hit."""
    hits = st.session_state["map.hits"]
    choice = st.session_state.get("map.pick")
    if choice is not None and 0 <= choice < len(hits):
        _zoom_to(hits[choice], basemap)


def select_point(token: str, basemap, lng: float, lat: float) -> None:
    """A click at display (lng, lat): the grid there by the one point lookup (the same rule as bulk
    assignment: the micro-grid covering the point, the smallest code on a shared boundary)."""
    lon, lat4490 = webmap.from_display_xy(lng, lat, basemap=basemap)
    st.session_state["map.outside"] = None
    try:
        cards = common.load_lookup_point(token, float(lon), float(lat4490), common.user_scope())
    except GridNotFoundAtPoint as exc:
        st.session_state["map.selected"] = None
        near = exc.nearest
        st.session_state["map.outside"] = (
            t("map.outside_near", code=near.code, name=near.name, distance=f"{near.distance_m:.0f}")
            if near else t("map.outside")
        )
        return
    st.session_state["map.selected"] = cards[0].code


def render() -> None:
    """The page. The map is emitted first (into its place below the search form and the
    switches) so the browser starts loading the map component while the other widgets
    load; the widgets' values are read from session state, their callbacks run before
    the page, so the map already has the view a search asked for."""
    _defaults()
    st.title(t("map.title"))
    scope = common.user_scope()
    token = common.data_token()
    basemap = common.current_basemap()

    search_area = st.container()
    # Everything whose presence varies lives in this one container, so the map below keeps
    # its place in the page and is not remounted (which would reset its view) by a search.
    results = st.container()
    summary_area = st.container()
    switches = st.columns(3)
    # map | card; on a phone the card comes first (above the map: see common._PHONE_CSS)
    left, right = st.container(key="cardfirst-map").columns([3, 2])

    # Point layers are switched here (not only in Leaflet's control) so thousands of points
    # are not sent to the browser until asked for; grid levels switch in the map's control.
    with_households = bool(st.session_state.get("map.layer_households", False))
    with_incidents = bool(st.session_state.get("map.layer_incidents", False))
    with_labels = bool(st.session_state.get("map.layer_labels", True))
    view = st.session_state["map.view"]
    rendered = common.load_grid_map(
        token, common.map_scope(scope, personal=with_households or with_incidents), basemap, common.current_language(),
        labels=with_labels, households=with_households, incidents=with_incidents,
    )
    with left:
        state = folium_view.show(
            rendered,
            key="map.main",
            height=MAP_HEIGHT,
            use_container_width=True,
            returned_objects=["last_clicked"],
            center=view["center"] if view else None,
            zoom=view["zoom"] if view else None,
        )
    extent = common.load_grid_extent(token, scope)
    if common.uses_tiles(extent):
        with left:
            st.caption(t("tiles.mode_note", count=extent.count))
            if with_households or with_incidents:
                st.caption(t("tiles.points_off"))
    clicked = (state or {}).get("last_clicked")
    if clicked and clicked != st.session_state.get("map.last_click"):
        st.session_state["map.last_click"] = clicked
        select_point(token, basemap, float(clicked["lng"]), float(clicked["lat"]))
    with right:
        code = st.session_state["map.selected"]
        outside = st.session_state.get("map.outside")
        if outside:
            st.warning(outside)
        if code:
            try:
                common.show_grid_card(common.load_card(token, code, scope))
            except LookupError as exc:
                st.warning(common.error_text(exc))
        else:
            st.info(t("card.click_hint"))

    with search_area.form("map.search_form", border=False):
        cols = st.columns([5, 1], vertical_alignment="bottom")
        cols[0].text_input(t("map.search"), key="map.query_input")
        cols[1].form_submit_button(
            t("map.search_button"), key="map.search_submit", on_click=_on_search, args=(token, scope, basemap)
        )
    if st.session_state.get("map.not_found") is not None:
        results.warning(t("map.no_results", query=st.session_state["map.not_found"]))
    hits = st.session_state["map.hits"]
    if len(hits) > 1:
        labels = [f"{t('search.kind.' + h.kind)} · {h.label}" for h in hits]
        results.selectbox(
            t("map.pick_result"), options=range(len(hits)), format_func=lambda i: labels[i], key="map.pick",
            on_change=_on_pick, args=(basemap,),
        )
    if view:
        results.caption(t("map.zoomed", label=view["label"]))
    summary_area.caption(t("map.summary", **common.load_summary(token, scope)))
    switches[0].toggle(t("layer.households"), key="map.layer_households")
    switches[1].toggle(t("layer.incidents"), key="map.layer_incidents")
    switches[2].toggle(t("layer.labels"), value=True, key="map.layer_labels")
