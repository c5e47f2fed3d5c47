"""``st_folium`` in two steps: render a folium map once, show the rendering on every run.

``streamlit_folium.st_folium`` renders the whole folium map to JavaScript on every script run:
for the demo's electronic map (164 grids, 32,453 vertices) that is about 0.5 s of Python (Jinja
templates compiled per element, bounds walked vertex by vertex), and while it runs the server
also serves the page's static files more slowly (one process, one GIL). The electronic map is
the same from one run to the next until the data or the options change, so it is rendered once
(:func:`render`, cached by :func:`app_pages.common.load_grid_map`) and shown from the rendering
(:func:`show`) on every run. That is what puts the first visit's map under 2 s
(``docs/performance.md``).

The rendering is streamlit-folium's own: :func:`render` calls the helpers ``st_folium`` calls
and :func:`show` passes the component the same arguments in the same way (component key from
the script's hash, the same defaults, the ``key`` mirror in session state). streamlit-folium is
pinned (``pyproject.toml``); ``tests/apptest/test_folium_view.py`` compares the arguments with
``st_folium``'s own so a version that changes them fails the suite instead of the map.
Features of ``st_folium`` the pages do not use (``feature_group_to_add``, ``layer_control``,
``DualMap``, ``debug``) are not offered.

The electronic map, the incident maps, My grid and the history maps are shown this way (their
renderings are cached in :mod:`app_pages.common`). The editor and the workflow page keep
``st_folium``: their maps are built from what the user has just drawn or picked, so a
rendering would rarely be shown twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import folium
import folium.elements
import streamlit as st
import streamlit_folium

from gis import webmap

__all__ = ["RenderedMap", "register_component", "render", "show"]

#: ``((south, west), (north, east))`` in display degrees, as ``folium.Map.get_bounds`` gives it.
Bounds = tuple[tuple[float | None, float | None], tuple[float | None, float | None]]


@dataclass(frozen=True)
class RenderedMap:
    """A folium map rendered to the arguments of the streamlit-folium component (plain strings)."""

    script: str
    header: str
    html: str
    map_id: str
    bounds: Bounds
    zoom: int | None
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]


def _asset_links(fmap: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """CSS and JS links of every element, in ``st_folium``'s order, duplicates dropped.

    ``st_folium`` would also put d3 from public CDNs first for a branca colormap; :func:`render`
    refuses such maps before this runs (:func:`gis.webmap.assert_offline`).
    """
    css: list[str] = []
    js: list[str] = []

    def walk(element: Any) -> Iterable[Any]:
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(fmap):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


def render(fmap: folium.Map) -> RenderedMap:
    """Render ``fmap`` the way ``st_folium`` does (the slow step; cache the result).

    The map is consumed: folium rendering mutates it, so build a new one for each call.

    Raises
    ------
    TypeError
        If ``fmap`` is not a ``folium.Map``.
    ConfigurationError
        If the map would load anything from outside the app (:func:`gis.webmap.assert_offline`).
    """
    if not isinstance(fmap, folium.Map):
        raise TypeError(f"render() takes a folium.Map, not {type(fmap).__name__}")
    webmap.assert_offline(fmap)
    fmap.get_root().render()
    fmap.render()
    html = streamlit_folium._get_html(fmap)
    header = streamlit_folium._get_header(fmap)
    script = streamlit_folium._get_map_string(fmap)
    (south, west), (north, east) = fmap.get_bounds()
    css_links, js_links = _asset_links(fmap)
    return RenderedMap(
        script=script,
        header=header,
        html=html,
        map_id=streamlit_folium.get_full_id(fmap),
        bounds=((south, west), (north, east)),
        zoom=fmap.options.get("zoom"),
        css_links=css_links,
        js_links=js_links,
    )


def register_component() -> None:
    """Register streamlit-folium's component with the running Streamlit server.

    Streamlit registers a component when its module is imported inside a script run. The
    server's warm-up (``serve.py``) imports streamlit-folium outside one, and the module is not
    imported again, so the warm-up registers it here; otherwise the browser gets a 404 for the
    component's page. Registering twice is harmless.
    """
    from streamlit.components.v1.component_registry import ComponentRegistry

    ComponentRegistry.instance().register_component(streamlit_folium._component_func)


def _bounds_dict(bounds: Bounds) -> dict[str, dict[str, float | None]]:
    (south, west), (north, east) = bounds
    return {"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}}


def show(
    rendered: RenderedMap,
    *,
    key: str | None = None,
    height: int = 700,
    width: int | None = 500,
    use_container_width: bool = False,
    returned_objects: Iterable[str] | None = None,
    zoom: int | None = None,
    center: tuple[float, float] | None = None,
    return_on_hover: bool = False,
    on_change: Callable[[], None] | None = None,
) -> dict[str, Any] | None:
    """Show a rendered map; returns what ``st_folium`` returns (the last interaction's values).

    The parameters mean what they mean for ``st_folium``; ``center``/``zoom`` move the view
    without re-creating the map.
    """
    returned = None if returned_objects is None else list(returned_objects)
    all_defaults: dict[str, Any] = {
        "last_clicked": None,
        "last_object_clicked": None,
        "last_object_clicked_count": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": _bounds_dict(rendered.bounds),
        "zoom": rendered.zoom,
        "last_circle_radius": None,
        "last_circle_polygon": None,
        "selected_layers": None,
        "selected_tags": None,
        "last_geocoder_result": None,
    }
    defaults = {k: v for k, v in all_defaults.items() if returned is None or k in returned}
    component_key = streamlit_folium.generate_js_hash(rendered.script, key, return_on_hover)

    def _on_change() -> None:
        if key is not None:
            st.session_state[key] = st.session_state.get(component_key, {})
        if on_change is not None:
            on_change()

    return streamlit_folium._component_func(
        script=rendered.script,
        header=rendered.header,
        html=rendered.html,
        id=rendered.map_id,
        key=component_key,
        height=height,
        width=None if use_container_width else width,
        returned_objects=returned,
        default=defaults,
        zoom=zoom,
        center=center,
        feature_group=None,
        return_on_hover=return_on_hover,
        layer_control=None,
        pixelated=False,
        css_links=list(rendered.css_links),
        js_links=list(rendered.js_links),
        on_change=_on_change,
        wrap_longitude=False,
    )
