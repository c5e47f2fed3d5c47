"""A folium map whose grids come from the server's vector tiles (``/tiles/``), for city scale.

At 10,000–100,000 micro-grids the GeoJSON of every grid is megabytes (10,000 simplified grids
are already 3.6 MB), so above ``GRIDGOV_TILE_THRESHOLD`` grids the maps draw them from Mapbox
Vector Tiles instead: MapLibre GL JS renders them inside the Leaflet map through
``@maplibre/maplibre-gl-leaflet`` (both vendored from npm and served from ``static/vendor``),
so clicks, the view, the streamlit-folium plumbing and every other Leaflet layer stay as they are.

What the element draws, per grid level: the finest level filled (``fills[fill]``, the tiles'
``fill`` property indexing the palette, so neighbours under different parents differ), every level outlined in the style of :data:`app_pages.maps.LEVEL_STYLES`; a
hover tooltip with code and name (set as text, never as HTML); code labels as Leaflet
``divIcon`` markers made from the tiles' ``labels`` points in view (no glyph server needed,
so nothing is fetched from the internet), left out for a level while more than
``max_labels`` of its labels are in view; optionally the incident density layer; and a small
switch to show or hide each of them.

Tiles are requested from the page's own origin (``window.location.origin``), so the browser
sends the session cookie with them and the tile server answers under that person's row-level
security. ``datum="gcj02"`` asks for tiles shifted to GCJ-02, to lie on an Amap basemap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from gis.tiles import INCIDENT_LAYER, grid_layer
from gis.webmap import VENDOR_ASSETS

__all__ = ["TileLevel", "VectorTileGrids", "add_tile_grids"]


@dataclass(frozen=True)
class TileLevel:
    """How one grid level is drawn from its tiles: outline colour (CSS), width (px), dash
    pattern (MapLibre ``line-dasharray``, in line widths; empty for solid), whether it is
    filled, and its name in the layer switch."""

    level: int
    name: str
    color: str
    width: float
    dash: tuple[float, ...] = ()
    filled: bool = False

    @property
    def layer(self) -> str:
        return grid_layer(self.level)


class VectorTileGrids(JSCSSMixin, MacroElement):
    """The MapLibre layer of grid (and incident density) vector tiles in a folium map."""

    default_js = [
        ("maplibre_js", VENDOR_ASSETS["maplibre_js"].url),
        ("maplibre_leaflet_js", VENDOR_ASSETS["maplibre_leaflet_js"].url),
    ]
    default_css = [("maplibre_css", VENDOR_ASSETS["maplibre_css"].url)]

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var cfg = {{ this.config_json }};
  var origin = window.location.origin;
  var query = cfg.datum ? ('?datum=' + encodeURIComponent(cfg.datum)) : '';
  var style = {version: 8, sources: {}, layers: []};
  var fillIds = [];
  var fillColor = ['match', ['%', ['to-number', ['get', 'fill'], 0], cfg.fills.length]];
  cfg.fills.forEach(function (c, i) { fillColor.push(i, c); });
  fillColor.push(cfg.fills[0]);
  cfg.levels.forEach(function (l) {
    style.sources[l.layer] = {type: 'vector', tiles: [origin + '/tiles/' + l.layer + '/{z}/{x}/{y}.mvt' + query],
                              minzoom: 0, maxzoom: 18};
  });
  cfg.levels.slice().sort(function (a, b) { return b.level - a.level; }).forEach(function (l) {
    if (l.filled) {
      style.layers.push({id: l.layer + '-fill', type: 'fill', source: l.layer, 'source-layer': 'grids',
                         paint: {'fill-color': fillColor, 'fill-opacity': 0.35}});
      fillIds.push(l.layer + '-fill');
    }
    var paint = {'line-color': l.color, 'line-width': l.width, 'line-opacity': 0.9};
    if (l.dash.length) { paint['line-dasharray'] = l.dash; }
    style.layers.push({id: l.layer + '-line', type: 'line', source: l.layer, 'source-layer': 'grids', paint: paint});
  });
  if (cfg.density) {
    style.sources[cfg.density.layer] = {type: 'vector', minzoom: 0, maxzoom: 18,
      tiles: [origin + '/tiles/' + cfg.density.layer + '/{z}/{x}/{y}.mvt' + query]};
    style.layers.push({id: 'density', type: 'circle', source: cfg.density.layer, 'source-layer': cfg.density.layer,
      layout: {visibility: cfg.density.visible ? 'visible' : 'none'},
      paint: {'circle-color': '#dc2626', 'circle-opacity': 0.55, 'circle-stroke-color': '#7f1d1d',
              'circle-stroke-width': 1,
              'circle-radius': ['interpolate', ['linear'], ['get', 'n'], 5, 5, 50, 12, 500, 22]}});
  }
  var gl = L.maplibreGL({style: style, attributionControl: false}).addTo(map);
  var glmap = gl.getMaplibreMap();
  window.gridgovTiles = {leaflet: map, maplibre: glmap, errors: []};
  glmap.on('error', function (e) { window.gridgovTiles.errors.push(String((e && e.error && e.error.message) || e)); });

  var visible = {};
  cfg.levels.forEach(function (l) { visible[l.layer] = true; });
  var labelsOn = cfg.labels;

  // Hover: the finest filled grid under the pointer, its code and name as text.
  var tip = L.tooltip({sticky: true, direction: 'top', className: 'gg-tile-tip'});
  map.on('mousemove', function (e) {
    if (!fillIds.length || !glmap.isStyleLoaded()) { return; }
    var ids = fillIds.filter(function (id) { return visible[id.replace(/-fill$/, '')]; });
    var p = glmap.project([e.latlng.lng, e.latlng.lat]);
    var found = ids.length ? glmap.queryRenderedFeatures([p.x, p.y], {layers: ids}) : [];
    if (!found.length) { map.closeTooltip(tip); return; }
    var props = found[0].properties || {};
    var box = document.createElement('div');
    [['code', cfg.aliases[0]], ['name', cfg.aliases[1]]].forEach(function (pair) {
      var row = document.createElement('div');
      var b = document.createElement('b'); b.textContent = pair[1] + '：';
      row.appendChild(b); row.appendChild(document.createTextNode(props[pair[0]] == null ? '' : String(props[pair[0]])));
      box.appendChild(row);
    });
    tip.setLatLng(e.latlng).setContent(box);
    if (!map.hasLayer(tip)) { tip.addTo(map); }
  });
  map.on('mouseout', function () { map.closeTooltip(tip); });

  // Code labels: Leaflet markers from the tiles' label points in view.
  var labels = L.layerGroup().addTo(map);
  function refreshLabels() {
    labels.clearLayers();
    if (!labelsOn || !glmap.isStyleLoaded()) { return; }
    var bounds = map.getBounds();
    var shown = {};
    cfg.levels.forEach(function (l) {
      if (!visible[l.layer]) { return; }
      var inView = [];
      glmap.querySourceFeatures(l.layer, {sourceLayer: 'labels'}).forEach(function (f) {
        var code = f.properties && f.properties.code;
        if (!code || shown[code] || !f.geometry || f.geometry.type !== 'Point') { return; }
        var c = f.geometry.coordinates;
        if (!bounds.contains([c[1], c[0]])) { return; }
        shown[code] = true;
        inView.push([c, code]);
      });
      if (inView.length > cfg.max_labels) { return; }
      inView.forEach(function (item) {
        var el = document.createElement('div');
        el.className = 'gg-label gg-label-' + Math.min(l.level, 3);
        el.textContent = item[1];
        L.marker([item[0][1], item[0][0]], {interactive: false, keyboard: false,
          icon: L.divIcon({className: 'gg-label-icon', html: el, iconSize: null})}).addTo(labels);
      });
    });
  }
  var pending = null;
  function soon() { if (pending) { clearTimeout(pending); } pending = setTimeout(refreshLabels, 150); }
  glmap.on('idle', soon);
  map.on('moveend', soon);

  // The switch: each level, the labels and the density layer.
  function setVisible(layerIds, on) {
    layerIds.forEach(function (id) {
      if (glmap.getLayer(id)) { glmap.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none'); }
    });
  }
  var Switch = L.Control.extend({
    options: {position: 'topright'},
    onAdd: function () {
      var root = L.DomUtil.create('details', 'leaflet-control-layers gg-tile-switch');
      if (map.getSize().x > 520) { root.open = true; }
      var summary = L.DomUtil.create('summary', '', root);
      summary.textContent = cfg.switch_title;
      function row(text, checked, onChange) {
        var label = L.DomUtil.create('label', 'gg-tile-switch-row', root);
        var box = L.DomUtil.create('input', '', label);
        box.type = 'checkbox'; box.checked = checked;
        label.appendChild(document.createTextNode(' ' + text));
        L.DomEvent.on(box, 'change', function () { onChange(box.checked); });
        L.DomUtil.create('br', '', root);
      }
      cfg.levels.forEach(function (l) {
        row(l.name, true, function (on) {
          visible[l.layer] = on; setVisible([l.layer + '-fill', l.layer + '-line'], on); soon();
        });
      });
      row(cfg.labels_name, labelsOn, function (on) { labelsOn = on; refreshLabels(); });
      if (cfg.density) { row(cfg.density.name, cfg.density.visible, function (on) { setVisible(['density'], on); }); }
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    }
  });
  new Switch().addTo(map);
})();
{% endmacro %}
"""
    )

    def __init__(
        self,
        levels: Sequence[TileLevel],
        *,
        aliases: tuple[str, str],
        switch_title: str,
        labels_name: str,
        labels: bool = True,
        max_labels: int = 400,
        datum: str | None = None,
        density_name: str | None = None,
        density_visible: bool = False,
        fills: Sequence[str] = ("#86efac",),
    ) -> None:
        super().__init__()
        self._name = "VectorTileGrids"
        config = {
            "levels": [{**asdict(level), "layer": level.layer, "dash": list(level.dash)} for level in levels],
            "aliases": list(aliases),
            "switch_title": switch_title,
            "labels_name": labels_name,
            "labels": bool(labels),
            "fills": list(fills),
            "max_labels": int(max_labels),
            "datum": datum or "",
            "density": None if density_name is None else {
                "layer": INCIDENT_LAYER, "name": density_name, "visible": bool(density_visible),
            },
        }
        # JSON in a <script>: "</" and "<!--" must not close or open anything (user-free text, but
        # names come from the catalogue, and the rule is cheap to keep everywhere).
        self.config_json = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def add_tile_grids(fmap: folium.Map, element: VectorTileGrids) -> folium.Map:
    """Add ``element`` to ``fmap`` and return the map (for chaining)."""
    element.add_to(fmap)
    return fmap
