"""``app_pages.folium_view`` hands the map component exactly what ``st_folium`` hands it.

The map page renders its folium map once and shows the cached rendering (``folium_view``);
these tests run both ways in AppTest on equal maps and compare the component's arguments and
identity, so an upgrade of streamlit-folium that changes how it renders fails here.
"""

from __future__ import annotations

import re

import pytest
from apptest_support import map_components


def _sample_map():
    """A newly built map: polygons with escaped tooltips and a layer control (equal on every call)."""
    import folium
    import geopandas as gpd
    from shapely.geometry import box

    from gis import webmap

    frame = gpd.GeoDataFrame(
        {"code": ["001", "002"], "name": ["甲<b>", "乙"]},
        geometry=[box(113.0, 29.0, 113.01, 29.01), box(113.01, 29.0, 113.02, 29.01)],
        crs="EPSG:4326",
    )
    fmap = webmap.new_map(bounds=frame.total_bounds)
    payload = webmap.features_payload(frame, ["code", "name"])
    folium.GeoJson(payload, name="grids", tooltip=folium.GeoJsonTooltip(["code", "name"])).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap


def _component(way: str, kwargs: dict) -> tuple[dict, str]:
    """The component's arguments and element id when a fresh equal map is shown ``way``."""
    from streamlit.testing.v1 import AppTest

    def page(way: str, kwargs: dict) -> None:
        from streamlit_folium import st_folium

        from app_pages import folium_view
        from test_folium_view import _sample_map

        fmap = _sample_map()
        if way == "st_folium":
            st_folium(fmap, **kwargs)
        else:
            folium_view.show(folium_view.render(fmap), **kwargs)

    at = AppTest.from_function(page, args=(way, kwargs), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (args,) = map_components(at)
    (element,) = at.get("component_instance")
    return args, element.proto.id


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "m", "height": 400, "returned_objects": ["last_object_clicked_tooltip"]},
        {"key": "n", "height": 500, "use_container_width": True, "center": (29.005, 113.01), "zoom": 15},
        {"returned_objects": []},
    ],
)
def test_show_hands_the_component_what_st_folium_hands_it(kwargs) -> None:
    old, old_id = _component("st_folium", kwargs)
    new, new_id = _component("folium_view", kwargs)
    # the same component identity: a rerun does not remount the map
    assert new_id == old_id
    # folium numbers elements (map_1a2b..., geo_json_3c4d...); streamlit-folium renames the map
    # but not the layers, so equal maps differ only in those suffixes.
    def standard(args: dict) -> dict:
        return {k: re.sub(r"_[0-9a-f]{32}", "_ID", v) if isinstance(v, str) else v for k, v in args.items()}

    assert standard(new) == standard(old)
    assert set(new) == set(old)
    assert new["js_links"] and all(link.startswith("/app/static/vendor/") for link in new["js_links"])
    # user text stays escaped (HTML-escaped by webmap, then written by Jinja's tojson: 甲 is
    # \u7532 and & is \u0026)
    assert "\\u7532\\u0026lt;b\\u0026gt;" in new["script"] and "<b>" not in new["script"]


def test_render_refuses_anything_but_a_map() -> None:
    import folium

    from app_pages import folium_view

    with pytest.raises(TypeError, match="folium.Map"):
        folium_view.render(folium.Figure())  # type: ignore[arg-type]


def test_render_refuses_a_map_that_would_load_from_the_internet() -> None:
    import branca.colormap

    from app_pages import folium_view
    from gis.errors import ConfigurationError

    fmap = _sample_map()
    branca.colormap.LinearColormap(["#ffffff", "#000000"], vmin=0, vmax=1).add_to(fmap)  # st_folium adds d3 from a CDN
    with pytest.raises(ConfigurationError, match="external"):
        folium_view.render(fmap)
