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
  map dragging is off until the map is tapped once (two-finger pinch zoom stays) — and the layer
  switch stays collapsed.
"""

from __future__ import annotations

import json

from branca.element import MacroElement
from jinja2 import Template

__all__ = ["FieldControls"]


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
