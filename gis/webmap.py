"""Folium map builders: local assets, basemaps, display geometries, escaped popups.

Everything a browser map needs goes through this module:

* **Local assets.** :func:`use_local_assets` repoints ``folium.Map.default_js`` /
  ``default_css`` and each plugin's lists (class attributes, which streamlit-folium
  forwards to its iframe) to copies under ``static/vendor/`` served by the app itself at
  ``/app/static/vendor/...``. It is the only place that does so; :func:`new_map` calls it.
  :data:`VENDOR_ASSETS` says which file each local URL is copied from
  (``scripts/vendor_assets.py`` copies them after ``npm ci``).
* **Display CRS.** Geometries are stored in EPSG:4490; folium receives EPSG:4326 only.
  With the Amap basemap (GCJ-02 tiles) geometries are shifted for display with
  :func:`gis.crs.wgs84_to_gcj02`, in :func:`to_display` only; clicks come back through
  :func:`from_display_xy`.
* **Display simplification.** :func:`simplify_coverage_for_display` runs
  ``shapely.coverage_simplify`` in metres (CGCS2000 Gauss-Krüger zone), so shared edges
  stay shared: no slivers or gaps between neighbouring grids.
* **Escaping.** Every string property that reaches folium HTML (tooltips, popups, labels)
  is passed through :func:`html.escape` by :func:`escape_properties` first: folium's
  ``GeoJsonTooltip`` and ``Popup`` insert their text as HTML.

This module knows nothing about grids or Streamlit: callers pass frames and column names.
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from gis.crs import DISPLAY_EPSG, gk_zone_epsg
from gis.errors import ConfigurationError, CRSError
from gis.settings import Settings

__all__ = [
    "VENDOR_URL_PREFIX",
    "VendorAsset",
    "VENDOR_ASSETS",
    "VENDOR_DIRS",
    "use_local_assets",
    "asset_links",
    "external_links",
    "assert_offline",
    "Basemap",
    "basemap_for",
    "to_display",
    "to_display_xy",
    "from_display_xy",
    "simplify_coverage_for_display",
    "escape_text",
    "escape_properties",
    "features_payload",
    "new_map",
    "add_polygon_layer",
    "add_label_layer",
    "add_point_layer",
    "add_heatmap",
    "HeatAnimation",
    "add_heatmap_animation",
    "add_marker_cluster",
    "add_choropleth",
    "color_bins",
    "view_for_bounds",
    "LAYER_CLASS_PREFIX",
    "add_draw_control",
    "geometry_from_display",
]

logger = logging.getLogger(__name__)

#: URL under which the app serves ``static/vendor`` (Streamlit ``enableStaticServing``).
VENDOR_URL_PREFIX = "/app/static/vendor"
#: CSS class prefix put on every vector path of a layer (``gg-<layer key>``): tests count them.
LAYER_CLASS_PREFIX = "gg-"


@dataclass(frozen=True)
class VendorAsset:
    """One front-end file: where it is copied from and where it is served.

    ``origin`` is ``"npm"`` (a path under ``node_modules/``) or ``"folium"`` (a file the
    installed folium package ships in ``folium/templates``; folium's own patched builds of
    the heatmap scripts are used as-is). ``target`` is the path under ``static/vendor/``.
    """

    origin: str
    source: str
    target: str

    @property
    def url(self) -> str:
        return f"{VENDOR_URL_PREFIX}/{self.target}"


def _npm(path: str) -> VendorAsset:
    return VendorAsset("npm", path, path)


#: Every file the maps load, by a short name used in :data:`_ASSETS_BY_CLASS`.
VENDOR_ASSETS: dict[str, VendorAsset] = {
    "leaflet_js": _npm("leaflet/dist/leaflet.js"),
    "leaflet_css": _npm("leaflet/dist/leaflet.css"),
    "heat_js": _npm("leaflet.heat/dist/leaflet-heat.js"),
    "markercluster_js": _npm("leaflet.markercluster/dist/leaflet.markercluster.js"),
    "markercluster_css": _npm("leaflet.markercluster/dist/MarkerCluster.css"),
    "markercluster_default_css": _npm("leaflet.markercluster/dist/MarkerCluster.Default.css"),
    "draw_js": _npm("leaflet-draw/dist/leaflet.draw.js"),
    "draw_css": _npm("leaflet-draw/dist/leaflet.draw.css"),
    "geoman_js": _npm("@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js"),
    "geoman_css": _npm("@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"),
    "iso8601_js": _npm("iso8601-js-period/iso8601.js"),
    "timedimension_js": _npm("leaflet-timedimension/dist/leaflet.timedimension.min.js"),
    "timedimension_css": _npm("leaflet-timedimension/dist/leaflet.timedimension.control.min.css"),
    "maplibre_js": _npm("maplibre-gl/dist/maplibre-gl.js"),
    "maplibre_css": _npm("maplibre-gl/dist/maplibre-gl.css"),
    "maplibre_leaflet_js": _npm("@maplibre/maplibre-gl-leaflet/leaflet-maplibre-gl.js"),
    "pa7_heatmap_js": VendorAsset("folium", "templates/pa7_hm.min.js", "folium/pa7_hm.min.js"),
    "pa7_leaflet_heatmap_js": VendorAsset(
        "folium", "templates/pa7_leaflet_hm.min.js", "folium/pa7_leaflet_hm.min.js"
    ),
}

#: Whole directories copied as well (images referenced from the CSS files).
VENDOR_DIRS: tuple[VendorAsset, ...] = (
    _npm("leaflet/dist/images"),
    _npm("leaflet-draw/dist/images"),
)

# (class, js asset names, css asset names). jQuery, Bootstrap, Font Awesome and
# awesome-markers (in folium's Map defaults) are dropped: no map here uses them.
_ASSETS_BY_CLASS: tuple[tuple[type, tuple[str, ...], tuple[str, ...]], ...] = (
    (folium.Map, ("leaflet_js",), ("leaflet_css",)),
    (folium.plugins.HeatMap, ("heat_js",), ()),
    (
        folium.plugins.HeatMapWithTime,
        ("iso8601_js", "timedimension_js", "pa7_heatmap_js", "pa7_leaflet_heatmap_js"),
        ("timedimension_css",),
    ),
    (folium.plugins.MarkerCluster, ("markercluster_js",), ("markercluster_css", "markercluster_default_css")),
    (
        folium.plugins.FastMarkerCluster,
        ("markercluster_js",),
        ("markercluster_css", "markercluster_default_css"),
    ),
    (folium.plugins.Draw, ("draw_js",), ("draw_css",)),
    (folium.plugins.GeoMan, ("geoman_js",), ("geoman_css",)),
)


def asset_links(cls: type) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The local ``(default_js, default_css)`` lists for a folium class (empty if unknown)."""
    for klass, js, css in _ASSETS_BY_CLASS:
        if klass is cls:
            return (
                [(name, VENDOR_ASSETS[name].url) for name in js],
                [(name, VENDOR_ASSETS[name].url) for name in css],
            )
    return [], []


def use_local_assets() -> None:
    """Point folium's and its plugins' ``default_js``/``default_css`` at ``static/vendor``.

    Idempotent; sets class attributes, so it affects every map in the process. Plugins
    not listed in :data:`_ASSETS_BY_CLASS` keep their CDN links: :func:`assert_offline`
    refuses a map that uses one.
    """
    for klass, _js, _css in _ASSETS_BY_CLASS:
        js, css = asset_links(klass)
        klass.default_js = js
        klass.default_css = css


def _walk(element: Any) -> Iterable[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def external_links(fmap: folium.Map) -> list[str]:
    """Every JS/CSS URL a map (and its children) would load that is not served locally.

    Mirrors what streamlit-folium collects (``default_js``/``default_css`` of every
    element, plus d3 from a CDN for any branca colormap).
    """
    import branca.colormap

    bad: list[str] = []
    for element in _walk(fmap):
        if isinstance(element, branca.colormap.ColorMap):
            bad.append("d3 v4 from its public CDN (any branca colormap pulls it in)")
        for _name, url in [*getattr(element, "default_js", []), *getattr(element, "default_css", [])]:
            if not url.startswith("/"):
                bad.append(url)
    return list(dict.fromkeys(bad))


def assert_offline(fmap: folium.Map) -> folium.Map:
    """Return ``fmap`` if it loads nothing from an external host, else raise.

    Raises
    ------
    ConfigurationError
        Naming every external URL and the fix (vendor it in :data:`VENDOR_ASSETS`).
    """
    bad = external_links(fmap)
    if bad:
        raise ConfigurationError(
            f"the map would load {len(bad)} external file(s): {bad}; add them to "
            "gis.webmap.VENDOR_ASSETS / _ASSETS_BY_CLASS and package.json"
        )
    return fmap


# -- basemaps -------------------------------------------------------------------------------

_TIANDITU = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


@dataclass(frozen=True)
class Basemap:
    """A resolved basemap: tile layers (url, attribution, subdomains) and the display datum.

    ``datum`` is ``"wgs84"`` or ``"gcj02"`` (Amap tiles are in GCJ-02, so everything drawn
    over them is shifted with :func:`to_display`).
    """

    kind: str
    tiles: tuple[tuple[str, str, str], ...] = ()
    datum: str = "wgs84"


def basemap_for(settings: Settings) -> Basemap:
    """The basemap the settings ask for (``GRIDGOV_BASEMAP``).

    Raises
    ------
    ConfigurationError
        ``xyz`` without ``GRIDGOV_BASEMAP_URL``, or ``tianditu`` without ``GRIDGOV_TIANDITU_KEY``.
    """
    kind = settings.basemap
    if kind == "none":
        return Basemap("none")
    if kind == "xyz":
        if not settings.basemap_url:
            raise ConfigurationError(
                "GRIDGOV_BASEMAP is 'xyz' but GRIDGOV_BASEMAP_URL is empty; set it to a tile URL "
                "template such as http://tiles.intranet/{z}/{x}/{y}.png",
                code="config.basemap_setting", params={"basemap": "xyz", "setting": "GRIDGOV_BASEMAP_URL"},
            )
        return Basemap("xyz", ((settings.basemap_url, "basemap", "abc"),))
    if kind == "tianditu":
        if not settings.tianditu_key:
            raise ConfigurationError(
                "GRIDGOV_BASEMAP is 'tianditu' but GRIDGOV_TIANDITU_KEY is empty; set the Tianditu token",
                code="config.basemap_setting", params={"basemap": "tianditu", "setting": "GRIDGOV_TIANDITU_KEY"},
            )
        attribution = "© 天地图 Tianditu"
        if settings.basemap_url:
            return Basemap("tianditu", ((settings.basemap_url, attribution, "01234567"),))
        return Basemap(
            "tianditu",
            tuple(
                (_TIANDITU.format(s="{s}", layer=layer, key=settings.tianditu_key), attribution, "01234567")
                for layer in ("vec", "cva")
            ),
        )
    if kind == "amap":
        return Basemap("amap", ((settings.basemap_url or _AMAP, "© 高德地图 AutoNavi", "1234"),), datum="gcj02")
    raise ConfigurationError(f"basemap was {kind!r} but is expected to be in ['none', 'xyz', 'tianditu', 'amap']",
                             code="config.basemap_unknown", params={"basemap": str(kind)})


# -- display geometries ---------------------------------------------------------------------


def _require_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> None:
    if frame.crs is None:
        raise CRSError("the frame has no CRS; set it (storage is EPSG:4490) before drawing it")


def _shift_coords(coords: np.ndarray, datum: str, *, inverse: bool = False) -> np.ndarray:
    if datum == "wgs84" or len(coords) == 0:
        return coords
    from gis.crs import gcj02_to_wgs84, wgs84_to_gcj02

    fn = gcj02_to_wgs84 if inverse else wgs84_to_gcj02
    lon, lat = fn(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def to_display(
    frame: gpd.GeoDataFrame, *, basemap: Basemap | None = None, precision: float | None = 1e-6
) -> gpd.GeoDataFrame:
    """A copy of ``frame`` in EPSG:4326 (shifted to GCJ-02 for an Amap basemap).

    ``precision`` (degrees; 1e-6° ≈ 0.1 m) snaps coordinates to a grid to shrink the
    payload; shared vertices snap identically, so a coverage stays a coverage. The input
    index is kept; the input is not modified.
    """
    _require_crs(frame)
    out = frame.to_crs(DISPLAY_EPSG)
    datum = basemap.datum if basemap is not None else "wgs84"
    geoms = out.geometry.array
    if datum != "wgs84":
        geoms = shapely.transform(np.asarray(geoms), lambda c: _shift_coords(c, datum))
    if precision:
        geoms = shapely.set_precision(np.asarray(geoms), precision, mode="pointwise")
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=DISPLAY_EPSG))


def to_display_xy(
    lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, *, basemap: Basemap | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4490/4326 lon/lat (degrees) → display lon/lat (GCJ-02 for Amap)."""
    coords = np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])
    out = _shift_coords(coords, basemap.datum if basemap else "wgs84")
    return out[:, 0], out[:, 1]


def from_display_xy(lon: float, lat: float, *, basemap: Basemap | None = None) -> tuple[float, float]:
    """A point clicked on the map (display lon/lat) → EPSG:4490 lon/lat in degrees."""
    out = _shift_coords(np.array([[lon, lat]], dtype=float), basemap.datum if basemap else "wgs84", inverse=True)
    return float(out[0, 0]), float(out[0, 1])


def simplify_coverage_for_display(
    geometries: gpd.GeoSeries, *, tolerance_m: float, simplify_boundary: bool = True
) -> gpd.GeoSeries:
    """Topology-preserving simplification of a polygon coverage, tolerance in metres.

    The coverage (non-overlapping polygons, e.g. all grids of one level) is projected to
    its CGCS2000 Gauss-Krüger zone, simplified with ``shapely.coverage_simplify`` (shared
    edges are simplified once, so neighbours stay edge-matched: no gaps, no slivers) and
    projected back to the input CRS. Index kept; input unchanged.
    """
    _require_crs(geometries)
    if tolerance_m <= 0 or len(geometries) == 0:
        return geometries.copy()
    lonlat = geometries.to_crs(4490)
    centroid_lon = float(np.nanmedian(shapely.get_x(shapely.centroid(np.asarray(lonlat.array)))))
    projected = geometries.to_crs(gk_zone_epsg(centroid_lon))
    simplified = shapely.coverage_simplify(
        np.asarray(projected.array), tolerance_m, simplify_boundary=simplify_boundary
    )
    return gpd.GeoSeries(simplified, index=geometries.index, crs=projected.crs).to_crs(geometries.crs)


# -- escaping and payload -------------------------------------------------------------------


def escape_text(value: object) -> str:
    """``html.escape`` of ``str(value)`` (``""`` for None/NaN): safe inside folium HTML."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


def escape_properties(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A copy with every text column (or ``columns``) HTML-escaped; numbers kept as numbers."""
    out = frame.copy()
    names = list(columns) if columns is not None else [
        c for c in out.columns if c != getattr(out, "_geometry_column_name", None)
    ]
    for name in names:
        series = out[name]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        out[name] = series.map(escape_text).astype(object)
    return out


def features_payload(frame: gpd.GeoDataFrame, properties: Sequence[str]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (dict) with only ``properties``, all text escaped.

    ``frame`` must already be in EPSG:4326 (see :func:`to_display`).
    """
    _require_crs(frame)
    if frame.crs.to_epsg() != DISPLAY_EPSG:
        raise CRSError(f"features_payload expects EPSG:{DISPLAY_EPSG} (call to_display first), got {frame.crs}")
    missing = [p for p in properties if p not in frame.columns]
    if missing:
        raise KeyError(f"columns {missing} are not in the frame (has {list(frame.columns)})")
    table = escape_properties(pd.DataFrame(frame[list(properties)]))
    geojson = shapely.to_geojson(np.asarray(frame.geometry.array))
    records = table.to_dict(orient="records")
    features = [
        {"type": "Feature", "properties": _plain(rec), "geometry": json.loads(geom) if geom else None}
        for rec, geom in zip(records, geojson, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _plain(record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[key] = value
    return out


# -- maps and layers ------------------------------------------------------------------------

_CSS = """
<style>
.gg-label { background: transparent; border: none; box-shadow: none; color: #1f2937;
  font: 600 11px/1.1 "Noto Sans CJK SC", sans-serif; text-shadow: 0 0 2px #fff, 0 0 2px #fff; white-space: nowrap; }
.gg-label-1 { font-size: 13px; color: #7f1d1d; }
.gg-label-2 { font-size: 12px; color: #1e3a8a; }
.gg-label-3 { font-size: 9px; font-weight: 400; }
.leaflet-container { background: #f5f5f4; }
.gg-zoom-lt-14 .gg-label-2, .gg-zoom-lt-16 .gg-label-3 { display: none; }
</style>
"""


class _ZoomClasses(MacroElement):
    """Puts ``gg-zoom-lt-<n>`` classes on the map container so CSS can hide dense labels when zoomed out."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (m) {
            function gg_zoom_classes() {
                var z = m.getZoom(), c = m.getContainer();
                [12, 13, 14, 15, 16, 17].forEach(function (n) { c.classList.toggle('gg-zoom-lt-' + n, z < n); });
            }
            m.on('zoomend', gg_zoom_classes);
            m.whenReady(gg_zoom_classes);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


def new_map(
    *,
    bounds: Sequence[float] | None = None,
    basemap: Basemap | None = None,
    zoom_start: int = 14,
) -> folium.Map:
    """An empty folium map with local assets, the basemap, and the view fitted to ``bounds``.

    ``bounds`` is ``(minx, miny, maxx, maxy)`` in EPSG:4326 display degrees. ``basemap``
    ``None`` or kind ``"none"`` draws no tiles (plain background; layers still drawn).
    """
    use_local_assets()
    basemap = basemap or Basemap("none")
    if bounds is not None:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        center = [(miny + maxy) / 2, (minx + maxx) / 2]
    else:
        center = [30.0, 114.0]
    fmap = folium.Map(location=center, zoom_start=zoom_start, tiles=None, control_scale=True, max_zoom=19)
    # Without tiles Leaflet has no maxZoom, which marker clustering requires.
    fmap.options["maxZoom"] = 19
    for url, attribution, subdomains in basemap.tiles:
        folium.TileLayer(
            tiles=url, attr=attribution, subdomains=subdomains, name=attribution, overlay=False, control=False,
            max_zoom=19,
        ).add_to(fmap)
    fmap.get_root().header.add_child(Element(_CSS), name="gridgov_css")
    _ZoomClasses().add_to(fmap)
    if bounds is not None:
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def add_polygon_layer(
    fmap: folium.Map | folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    *,
    key: str,
    name: str,
    tooltip_fields: Sequence[str] = (),
    tooltip_aliases: Sequence[str] | None = None,
    style: Mapping[str, Any] | None = None,
    color_column: str | None = None,
    show: bool = True,
    interactive: bool = True,
) -> folium.FeatureGroup:
    """Add polygons (EPSG:4326 display frame) as a switchable layer and return its group.

    Every path gets the CSS class ``gg-<key>``. ``style`` is a Leaflet path style
    (weight, color, fill, fillOpacity, dashArray...); with ``color_column`` each
    feature's ``fillColor`` comes from that column (e.g. from :func:`color_bins`).
    Tooltip values are HTML-escaped.
    """
    group = folium.FeatureGroup(name=name, show=show)
    properties = list(dict.fromkeys([*tooltip_fields, *([color_column] if color_column else [])]))
    payload = features_payload(frame, properties)
    base = {"weight": 1, "color": "#334155", "fillOpacity": 0.3, **(style or {})}

    def style_function(feature: dict[str, Any]) -> dict[str, Any]:
        if color_column:
            return {**base, "fillColor": feature["properties"].get(color_column) or "#cccccc"}
        return dict(base)

    tooltip = None
    if tooltip_fields:
        tooltip = folium.GeoJsonTooltip(
            fields=list(tooltip_fields),
            aliases=list(escape_text(a) for a in tooltip_aliases) if tooltip_aliases else None,
            sticky=True,
        )
    folium.GeoJson(
        payload,
        name=name,
        style_function=style_function,
        highlight_function=(lambda _f: {"weight": base["weight"] + 2, "color": "#f59e0b"}) if interactive else None,
        tooltip=tooltip,
        className=f"{LAYER_CLASS_PREFIX}{key}",
        interactive=interactive,
        smooth_factor=0.5,
    ).add_to(group)
    group.add_to(fmap)
    return group


def add_label_layer(
    fmap: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    label_column: str,
    name: str,
    css_class: str = "gg-label",
    show: bool = True,
) -> folium.FeatureGroup:
    """Text labels (escaped) at a point inside each polygon of a display frame, as one layer."""
    points = frame.copy()
    points = points.set_geometry(shapely.point_on_surface(np.asarray(frame.geometry.array)), crs=frame.crs)
    payload = features_payload(points, [label_column])
    group = folium.FeatureGroup(name=name, show=show)
    # Labels are DOM text (textContent), never HTML, on top of already escaped values.
    point_to_layer = folium.JsCode(
        "function(feature, latlng) {"
        " var el = document.createElement('span');"
        f" el.className = {json.dumps(css_class)};"
        " var tmp = document.createElement('textarea');"
        f" tmp.innerHTML = feature.properties[{json.dumps(label_column)}];"
        " el.textContent = tmp.value;"
        " return L.marker(latlng, {interactive: false, keyboard: false, icon: L.divIcon({className: 'gg-label-icon',"
        " html: el.outerHTML, iconSize: null})});"
        "}"
    )
    folium.GeoJson(payload, name=name, pointToLayer=point_to_layer).add_to(group)
    group.add_to(fmap)
    return group


def add_point_layer(
    fmap: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    key: str,
    name: str,
    tooltip_fields: Sequence[str] = (),
    tooltip_aliases: Sequence[str] | None = None,
    color: str = "#2563eb",
    radius: float = 4,
    show: bool = True,
) -> folium.FeatureGroup:
    """Points of a display frame as small SVG circle markers (CSS class ``gg-<key>``); escaped tooltips.

    SVG, not canvas: a canvas above the grid polygons would swallow their clicks and hovers.
    """
    group = folium.FeatureGroup(name=name, show=show)
    payload = features_payload(frame, list(tooltip_fields))
    tooltip = (
        folium.GeoJsonTooltip(
            fields=list(tooltip_fields),
            aliases=list(escape_text(a) for a in tooltip_aliases) if tooltip_aliases else None,
        )
        if tooltip_fields
        else None
    )
    marker = folium.CircleMarker(
        radius=radius, color=color, fill=True, fill_opacity=0.8, weight=1, className=f"{LAYER_CLASS_PREFIX}{key}"
    )
    folium.GeoJson(
        payload,
        name=name,
        marker=marker,
        tooltip=tooltip,
        className=f"{LAYER_CLASS_PREFIX}{key}",
    ).add_to(group)
    group.add_to(fmap)
    return group


def _lat_lon(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(frame.geometry.array)
    return np.column_stack([shapely.get_y(geoms), shapely.get_x(geoms)]) if len(geoms) else np.empty((0, 2))


def add_heatmap(
    fmap: folium.Map, frame: gpd.GeoDataFrame, *, name: str, show: bool = True, radius: int = 18,
    overlay: bool = True,
) -> folium.FeatureGroup:
    """A ``leaflet.heat`` heatmap of the points of a display frame.

    ``overlay=False`` makes it a base layer: the layer switch shows base layers as radio buttons,
    one at a time. An empty frame gives an empty layer (still listed in the switch).
    """
    group = folium.FeatureGroup(name=name, show=show, overlay=overlay)
    if len(frame):
        folium.plugins.HeatMap(_lat_lon(frame).tolist(), name=name, radius=radius, blur=14,
                               min_opacity=0.3).add_to(group)
    group.add_to(fmap)
    return group


class HeatAnimation(JSCSSMixin, MacroElement):
    """A heatmap animated over periods with a play button and a slider (leaflet.heat only).

    folium's ``HeatMapWithTime`` defines its Leaflet classes in the page header, which
    streamlit-folium inserts with ``innerHTML`` (scripts there never run), so it cannot work
    inside st_folium; this element does the same job from its script block. ``frames`` is
    one list of ``[lat, lon]`` per period, ``labels`` the period names (shown as text).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var frames = {{ this.frames|tojson }};
            var labels = {{ this.labels|tojson }};
            var heat = L.heatLayer(frames.length ? frames[0] : [], {{ this.heat_options|tojson }}).addTo(map);
            var Control = L.Control.extend({
                options: {position: 'bottomleft'},
                onAdd: function () {
                    var div = L.DomUtil.create('div', 'gg-time-control leaflet-bar');
                    div.style.background = '#fff'; div.style.padding = '6px 8px'; div.style.font = '13px sans-serif';
                    var button = L.DomUtil.create('button', 'gg-time-play', div);
                    button.type = 'button'; button.textContent = '\u25B6';
                    var slider = L.DomUtil.create('input', 'gg-time-slider', div);
                    slider.type = 'range'; slider.min = 0; slider.max = Math.max(frames.length - 1, 0); slider.value = 0;
                    slider.style.verticalAlign = 'middle';
                    var label = L.DomUtil.create('span', 'gg-time-label', div);
                    label.style.marginLeft = '6px';
                    L.DomEvent.disableClickPropagation(div);
                    function show(i) {
                        slider.value = i; label.textContent = labels[i] || '';
                        heat.setLatLngs(frames[i] || []);
                    }
                    slider.addEventListener('input', function () { show(+slider.value); });
                    var timer = null;
                    button.addEventListener('click', function () {
                        if (timer) { clearInterval(timer); timer = null; button.textContent = '\u25B6'; return; }
                        button.textContent = '\u275A\u275A';
                        timer = setInterval(function () { show((+slider.value + 1) % Math.max(frames.length, 1)); },
                                            {{ this.interval_ms }});
                    });
                    show(0);
                    return div;
                }
            });
            map.ggTimeControl = new Control().addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, frames: list[list[list[float]]], labels: list[str], *, radius: int = 18,
                 interval_ms: int = 1200) -> None:
        super().__init__()
        self._name = "HeatAnimation"
        self.frames = frames
        self.labels = labels
        self.heat_options = {"radius": radius, "blur": 14, "minOpacity": 0.3, "maxZoom": 18}
        self.interval_ms = int(interval_ms)
        self.default_js, _ = asset_links(folium.plugins.HeatMap)

    def _get_self_bounds(self) -> list[list[float | None]]:
        points = [p for frame in self.frames for p in frame]
        if not points:
            return [[None, None], [None, None]]
        arr = np.asarray(points, dtype=float)[:, :2]
        return [[float(arr[:, 0].min()), float(arr[:, 1].min())], [float(arr[:, 0].max()), float(arr[:, 1].max())]]


def add_heatmap_animation(
    fmap: folium.Map, frame: gpd.GeoDataFrame, *, time_column: str, labels: Sequence[str] | None = None,
    interval_ms: int = 1200,
) -> HeatAnimation:
    """Animated heatmap, one frame per distinct value of ``time_column`` (e.g. ``"2026-03"``), sorted.

    ``frame`` is a display frame (EPSG:4326 points). Period labels are shown as DOM text.
    """
    use_local_assets()
    periods = sorted(pd.unique(frame[time_column].astype(str)))
    coords = _lat_lon(frame)
    keys = frame[time_column].astype(str).to_numpy()
    data = [coords[keys == period].round(6).tolist() for period in periods]
    element = HeatAnimation(data, [str(v) for v in (labels if labels is not None else periods)], interval_ms=interval_ms)
    element.add_to(fmap)
    return element


def add_marker_cluster(
    fmap: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    popup_columns: Sequence[str],
    popup_labels: Sequence[str],
    name: str,
    show: bool = True,
) -> folium.plugins.FastMarkerCluster:
    """Clustered circle markers with popups; popup text is escaped and set as DOM text.

    One JS callback builds each marker (``FastMarkerCluster``), so thousands of points
    stay cheap to render.
    """
    if len(popup_columns) != len(popup_labels):
        raise ValueError("popup_columns and popup_labels must have the same length")
    coords = _lat_lon(frame).round(6)
    table = escape_properties(pd.DataFrame(frame[list(popup_columns)]))
    rows = [[float(lat), float(lon), *[str(v) for v in rec]] for (lat, lon), rec in zip(coords, table.itertuples(index=False, name=None), strict=True)]
    callback = (
        "function (row) {"
        f" var labels = {json.dumps([escape_text(label) for label in popup_labels])};"
        " var marker = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 6, color: '#b91c1c', weight: 1, fillOpacity: 0.8});"
        " var box = document.createElement('div'); box.className = 'gg-popup';"
        " var dec = document.createElement('textarea');"
        " for (var i = 0; i < labels.length; i++) {"
        "   var line = document.createElement('div'); var b = document.createElement('b');"
        "   dec.innerHTML = labels[i]; b.textContent = dec.value + ': '; line.appendChild(b);"
        "   dec.innerHTML = row[2 + i]; line.appendChild(document.createTextNode(dec.value)); box.appendChild(line);"
        " }"
        " marker.bindPopup(box);"
        " return marker; }"
    )
    cluster = folium.plugins.FastMarkerCluster(rows, callback=callback, name=name, show=show)
    cluster.add_to(fmap)
    return cluster


_PALETTE = ("#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603")


def color_bins(values: Sequence[float] | np.ndarray | pd.Series, *, bins: int = 5) -> tuple[np.ndarray, list[float]]:
    """Colours for a choropleth: equal-count (quantile) classes, and the class edges.

    NaN values get grey. Returns (colours array aligned with ``values``, edges).
    """
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return np.full(arr.shape, "#cccccc", dtype=object), []
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)))
    if edges.size < 2:
        edges = np.array([finite.min(), finite.min() + 1])
    idx = np.clip(np.searchsorted(edges, arr, side="right") - 1, 0, len(edges) - 2)
    palette = _PALETTE[-(len(edges) - 1):] if len(edges) - 1 < len(_PALETTE) else _PALETTE
    colors = np.array([palette[min(i, len(palette) - 1)] for i in idx], dtype=object)
    colors[~np.isfinite(arr)] = "#cccccc"
    return colors, edges.tolist()


def add_choropleth(
    fmap: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    value_column: str,
    key: str,
    name: str,
    tooltip_fields: Sequence[str],
    tooltip_aliases: Sequence[str] | None = None,
    show: bool = True,
) -> tuple[folium.FeatureGroup, list[float]]:
    """Polygons filled by quantile class of ``value_column`` (no branca colormap: it loads d3 from a CDN).

    Returns the layer and the class edges (for a legend drawn by the caller).
    """
    colors, edges = color_bins(frame[value_column].to_numpy(dtype=float))
    colored = frame.assign(_fill=colors)
    group = add_polygon_layer(
        fmap,
        colored,
        key=key,
        name=name,
        tooltip_fields=tooltip_fields,
        tooltip_aliases=tooltip_aliases,
        color_column="_fill",
        style={"weight": 1, "color": "#555555", "fillOpacity": 0.7},
        show=show,
    )
    return group, edges


def view_for_bounds(
    bounds: Sequence[float], *, width_px: int = 800, height_px: int = 600, max_zoom: int = 18, padding: float = 0.1
) -> tuple[tuple[float, float], int]:
    """Centre ``(lat, lon)`` and the largest Web-Mercator zoom that shows ``bounds`` (display degrees).

    ``bounds`` is ``(minx, miny, maxx, maxy)``; ``padding`` is the fraction of the map kept free
    around it. Used to zoom an existing st_folium map without rebuilding it.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)

    def merc_y(lat: float) -> float:
        s = math.sin(math.radians(max(min(lat, 85.0), -85.0)))
        return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)

    dx = max((maxx - minx) / 360.0, 1e-12)
    dy = max(abs(merc_y(miny) - merc_y(maxy)), 1e-12)
    usable_w, usable_h = width_px * (1 - 2 * padding), height_px * (1 - 2 * padding)
    zoom_x = math.log2(usable_w / (256 * dx))
    zoom_y = math.log2(usable_h / (256 * dy))
    zoom = int(max(0, min(max_zoom, math.floor(min(zoom_x, zoom_y)))))
    return ((miny + maxy) / 2, (minx + maxx) / 2), zoom


# -- drawing (boundary editor) -----------------------------------------------------------------
# Added by the editor helper: the Draw control and the way back from display coordinates.

_DRAW_SHAPES = ("polyline", "polygon", "rectangle", "circle", "marker", "circlemarker")


class _DrawLocal(MacroElement):
    """Merges words into leaflet-draw's ``L.drawLocal`` before the toolbar is built (its tooltips and buttons)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (words) {"
        " function merge(target, source) { for (var k in source) {"
        "  if (source[k] && typeof source[k] === 'object') { target[k] = target[k] || {}; merge(target[k], source[k]); }"
        "  else { target[k] = source[k]; } } }"
        " if (window.L && L.drawLocal) { merge(L.drawLocal, words); }"
        "})({{ this.words_json }});"
        "{% endmacro %}"
    )

    def __init__(self, words: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "DrawLocal"
        self.words_json = json.dumps(words, ensure_ascii=False).replace("</", "<\\/")


def add_draw_control(fmap: folium.Map, *, shapes: Sequence[str] = ("polyline", "polygon", "rectangle"),
                     local: Mapping[str, Any] | None = None) -> folium.Map:
    """Add leaflet-draw's toolbar (local assets) offering only ``shapes``; edit/delete enabled.

    ``local`` is merged into leaflet-draw's ``L.drawLocal`` (the same nesting: ``draw.toolbar.buttons.polygon``,
    ``draw.handlers.polyline.tooltip.start`` …) before the toolbar is built, so its buttons and tooltips
    speak the reader's language (the page gives the catalogue's words).

    streamlit-folium returns what is drawn as ``all_drawings`` / ``last_active_drawing``
    (GeoJSON in display lon/lat; convert with :func:`geometry_from_display`).
    """
    unknown = [s for s in shapes if s not in _DRAW_SHAPES]
    if unknown:
        raise ConfigurationError(f"draw shapes were {unknown!r} but are expected to be in {list(_DRAW_SHAPES)}")
    use_local_assets()
    if local:
        _DrawLocal(local).add_to(fmap)
    options: dict[str, Any] = {s: False for s in _DRAW_SHAPES}
    for s in shapes:
        options[s] = {"shapeOptions": {"color": "#dc2626", "weight": 3}} if s != "marker" else {}
        if s == "polygon":
            options[s]["allowIntersection"] = False
    folium.plugins.Draw(export=False, position="topleft", draw_options=options,
                        edit_options={"edit": True, "remove": True}).add_to(fmap)
    return fmap


def geometry_from_display(geojson: Mapping[str, Any], *, basemap: Basemap | None = None) -> Any:
    """A drawn GeoJSON geometry or Feature (display lon/lat; GCJ-02 for Amap) → shapely, EPSG:4490.

    Raises
    ------
    CRSError
        The GeoJSON has no geometry (nothing was drawn).
    """
    from shapely.geometry import shape

    geometry = geojson.get("geometry", geojson) if isinstance(geojson, Mapping) else None
    if not geometry or "type" not in geometry or "coordinates" not in geometry:
        raise CRSError(f"expected a GeoJSON geometry or Feature drawn on the map, got {geojson!r:.200}")
    geom = shape(geometry)
    datum = basemap.datum if basemap is not None else "wgs84"
    if datum != "wgs84":
        geom = shapely.transform(geom, lambda c: _shift_coords(c, datum, inverse=True))
    return geom
