"""End-to-end: the electronic map in vector-tile mode (``GRIDGOV_TILE_THRESHOLD=0``), in headless
Debian Chromium, offline, at a desk and on a phone.

The app serves the grids from ``/tiles/`` (PostGIS ``ST_AsMVT``) and MapLibre GL JS draws them
inside the Leaflet map. The test checks what a leader sees: the grids are drawn from tiles (no
grid GeoJSON path in the page), every tile request is answered under the session cookie, the
micro-grid under the pointer is named in the tooltip, code labels appear when zoomed in and are
real codes, and a click on the map opens that grid's card.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import FOLIUM_IFRAME, Browser, log_in, offline_tab, running_app, screen_xy
from harness import artifacts as _artifacts
from harness import map_frame as _map_frame
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.e2e, pytest.mark.db]

_TILES_IDLE = (
    "() => window.gridgovTiles && window.gridgovTiles.maplibre.isStyleLoaded()"
    " && window.gridgovTiles.maplibre.areTilesLoaded()"
    " && window.gridgovTiles.maplibre.queryRenderedFeatures({layers: ['grids-3-fill']}).length > 0"
)


@pytest.fixture(scope="module")
def tiles_db(throwaway_databases, demo_data) -> Iterator[dict]:
    from store.seed import load_demo

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
        grids = conn.execute(text(
            "SELECT code, level, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat "
            "FROM grids ORDER BY code")).all()
    engine.dispose()
    yield {"url": url, "grids": grids}


@pytest.fixture(scope="module")
def app_url(tiles_db: dict) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDGOV_TILE_THRESHOLD", "0")
        with running_app(tiles_db["url"], log_name="e2e-tiles-streamlit.log") as base:
            yield base


@pytest.fixture()
def tab(browser, app_url: str) -> Iterator[Browser]:
    with offline_tab(browser) as state:
        yield state
    assert state.external == [], f"requests left localhost: {state.external}"
    assert state.dialogs == []


def _tile_responses(page) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    page.on("response", lambda r: seen.append((r.url, r.status)) if "/tiles/" in r.url else None)
    return seen


def test_leader_map_is_drawn_from_vector_tiles(tab: Browser, app_url: str, tiles_db: dict) -> None:
    page = tab.page
    tiles = _tile_responses(page)
    log_in(page, app_url, "leader")
    page.goto(app_url + "/map")
    frame = _map_frame(page)
    frame.wait_for_function(_TILES_IDLE, timeout=60_000)
    # no grid travelled as GeoJSON: no Leaflet vector path of any grid level
    assert frame.locator("path.gg-level-3").count() == 0
    assert frame.locator("path.gg-level-1").count() == 0
    assert tiles and all(status in (200, 204, 304) for _url, status in tiles), tiles
    assert any("/tiles/grids-3/" in url for url, _ in tiles)
    assert "矢量瓦片" in page.inner_text("body")
    codes = {g.code for g in tiles_db["grids"]}
    drawn = set(frame.evaluate(
        "() => window.gridgovTiles.maplibre.queryRenderedFeatures({layers: ['grids-3-fill']})"
        ".map(f => f.properties.code)"))
    micro = {g.code for g in tiles_db["grids"] if g.level == 3}
    assert drawn and drawn <= micro
    assert frame.evaluate("() => window.gridgovTiles.errors") == []
    page.screenshot(path=str(_artifacts() / "e2e-tiles-desk.png"), full_page=True)

    # zoom to one micro-grid: its code label appears, made from the tiles' label points
    target = next(g for g in tiles_db["grids"] if g.level == 3)
    frame.evaluate("([lat, lon]) => map.setView([lat, lon], 17, {animate: false})", [target.lat, target.lon])
    frame.wait_for_function(_TILES_IDLE, timeout=60_000)
    frame.wait_for_function(
        "(code) => Array.from(document.querySelectorAll('.gg-label-3')).some(e => e.textContent === code)",
        arg=target.code, timeout=30_000)
    labels = frame.evaluate("() => Array.from(document.querySelectorAll('.gg-label')).map(e => e.textContent)")
    assert labels and set(labels) <= codes
    assert len(labels) <= 400

    # hover: the tooltip names the micro-grid under the pointer
    x, y = screen_xy(page, frame, 0, target.lat, target.lon)
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    frame.wait_for_selector(".gg-tile-tip", timeout=10_000)
    assert target.code in frame.inner_text(".gg-tile-tip")

    # click: the grid card of that micro-grid opens beside the map
    page.mouse.click(x, y)
    page.wait_for_function(
        "(code) => document.body.innerText.includes(code) && document.querySelectorAll('[data-stale=true]').length === 0",
        arg=target.code, timeout=30_000)
    page.screenshot(path=str(_artifacts() / "e2e-tiles-desk-card.png"), full_page=True)


def test_phone_map_from_tiles(browser, app_url: str, tiles_db: dict) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    try:
        page = context.new_page()
        tiles = _tile_responses(page)
        log_in(page, app_url, "leader")
        page.goto(app_url + "/map")
        frame = _map_frame(page)
        frame.wait_for_function(_TILES_IDLE, timeout=60_000)
        assert all(status in (200, 204, 304) for _url, status in tiles), tiles
        # the layer switch starts folded on a phone, so it does not cover the map
        assert frame.evaluate("() => document.querySelector('.gg-tile-switch').open") is False
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390 + 1
        page.screenshot(path=str(_artifacts() / "e2e-tiles-phone.png"), full_page=False)
    finally:
        context.close()


def test_tiles_refuse_a_request_without_a_session(app_url: str) -> None:
    import json
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(app_url + "/tiles/grids-3/14/13000/6000.mvt", timeout=10)
    assert refused.value.code == 401
    body = json.loads(refused.value.read())
    assert body["error"] and "登录" in body["message"]
    assert FOLIUM_IFRAME  # the harness' map selector is shared with the other browser tests
