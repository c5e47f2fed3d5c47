"""Maps for the phone (我的工作台, 街道总览): a GPS button, a marker where the user tapped, and touch
behaviour that leaves the page scrollable.

:class:`FieldControls` is a Leaflet control added to a folium map:

* **定位 (GPS)**: asks the browser for its position (``navigator.geolocation``); the position is
  sent to the page as a map click (``map.fire('click')``: streamlit-folium returns it as
  ``last_clicked``), so the GPS and the tap-on-map fallback fill the same coordinates. When
  the position is denied or unavailable the control says so (words from the catalogue) and
  asks to tap the map instead.
* **A marker** where the last position (GPS or tap) is, on the map at once.
* **Touch**: on a touch screen or a narrow map one-finger drags scroll the page, not the map —
  map dragging is off until the map is tapped once (two-finger pinch zoom stays) — the layer
  switch stays collapsed (it opens on a tap and folds again on a tap on the map), and the zoom
  buttons are 44 px.

Every map a person may use on a phone gets it through :func:`add_phone_controls` (the worker's
home, the electronic map, My grid, the incident report map, the leader's heatmap), added before
the layer switch so the switch is created folded on a phone and open at a desk.
"""

from __future__ import annotations

import json

import folium
from branca.element import MacroElement
from jinja2 import Template

__all__ = ["FieldControls", "add_phone_controls"]


class FieldControls(MacroElement):
    """GPS button + tap marker + phone touch behaviour (see the module). ``words``: catalogue texts
    ``gps``, ``locating``, ``denied``, ``unavailable``, ``here``; ``gps=False`` leaves the button out."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var words = {{ this.words_json }};
  var touch = (window.matchMedia && window.matchMedia('(pointer: coarse)').matches) || map.getSize().x < 640;
  var marker = null;
  function mark(latlng) {
    if (marker) { marker.setLatLng(latlng); }
    else { marker = L.circleMarker(latlng, {radius: 9, color: '#1d4ed8', weight: 3, fillColor: '#3b82f6', fillOpacity: 0.8}).addTo(map); }
    marker.bindTooltip(words.here);
  }
  map.on('click', function (e) { mark(e.latlng); if (touch && !map.dragging.enabled()) { map.dragging.enable(); } });
  if (touch) {
    // Layer switches created after this (the map's own, added last) start folded and fold again.
    L.Control.Layers.addInitHook(function () { this.options.collapsed = true; });
    var style = document.createElement('style');
    style.textContent = '.leaflet-touch .leaflet-bar a, .leaflet-bar a { width: 44px; height: 44px; line-height: 44px; font-size: 22px; }'
      + ' .leaflet-control-layers-toggle { width: 44px !important; height: 44px !important; }'
      + ' .leaflet-control-layers label { min-height: 44px; display: flex; align-items: center; }';
    document.head.appendChild(style);
    map.dragging.disable();
    if (map.tap) { map.tap.disable(); }
    map.scrollWheelZoom.disable();
    setTimeout(function () {
      document.querySelectorAll('.leaflet-control-layers').forEach(function (c) { c.classList.remove('leaflet-control-layers-expanded'); });
    }, 0);
  }
  {% if this.gps %}
  var Gps = L.Control.extend({
    options: {position: 'topleft'},
    onAdd: function () {
      var box = L.DomUtil.create('div', 'leaflet-bar gg-gps');
      var button = L.DomUtil.create('a', 'gg-gps-button', box);
      button.href = '#'; button.setAttribute('role', 'button'); button.id = 'gg-gps';
      button.textContent = words.gps;
      button.style.cssText = 'width:auto;min-width:64px;height:44px;line-height:44px;padding:0 10px;font-size:15px;font-weight:600;';
      var note = L.DomUtil.create('div', 'gg-gps-note', box);
      note.id = 'gg-gps-note';
      note.style.cssText = 'display:none;max-width:220px;padding:6px 8px;background:#fff;font-size:13px;line-height:1.4;';
      function say(text) { note.textContent = text; note.style.display = text ? 'block' : 'none'; }
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(button, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        if (!navigator.geolocation) { say(words.unavailable); return; }
        say(words.locating);
        navigator.geolocation.getCurrentPosition(function (pos) {
          say('');
          var latlng = L.latLng(pos.coords.latitude, pos.coords.longitude);
          map.setView(latlng, Math.max(map.getZoom(), 17));
          map.fire('click', {latlng: latlng});
        }, function (err) {
          say(err && err.code === 1 ? words.denied : words.unavailable);
        }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
      });
      return box;
    }
  });
  new Gps().addTo(map);
  {% endif %}
})();
{% endmacro %}
"""
    )

    def __init__(self, words: dict[str, str], *, gps: bool = True) -> None:
        super().__init__()
        self._name = "FieldControls"
        self.words_json = json.dumps(words, ensure_ascii=False)
        self.gps = gps


def add_phone_controls(
    fmap: folium.Map, words: dict[str, str], *, gps: bool = False, layer_control: bool = True
) -> folium.Map:
    """Add :class:`FieldControls` to ``fmap`` and then (``layer_control``) its layer switch.

    The switch must come last (it names every layer above it) and after the controls (they fold
    it on a phone). ``words`` as for :class:`FieldControls`. Returns ``fmap``.
    """
    fmap.add_child(FieldControls(words, gps=gps))
    if layer_control:
        folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
