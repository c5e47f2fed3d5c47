"""End-to-end: the real app (`streamlit run app.py`) in headless Debian Chromium, offline.

The app runs on a free port against its own copy of the demo database (with an incident
and a household address carrying an XSS payload). Every request that is not to localhost
is aborted and recorded; every test checks none happened, and that no JavaScript dialog
opened. Screenshots go to ``settings.artifacts_dir`` (var/artifacts/).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.e2e, pytest.mark.db]

ROOT = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
FOLIUM_IFRAME = "iframe[title='streamlit_folium.st_folium']"


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _artifacts() -> Path:
    from gis.settings import Settings

    path = Settings.from_env().artifacts_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def e2e_db(throwaway_databases, demo_data) -> Iterator[dict]:
    """A private demo database with XSS payloads in an incident and a household address."""
    from etl.demo import load_demo

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
        micro = conn.execute(
            text("SELECT code, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat "
                 "FROM grids WHERE level = 3 ORDER BY code LIMIT 1 OFFSET 11")
        ).one()
        conn.execute(
            text("INSERT INTO incidents (geom, reported_at, category, description, address, status, grid_code) "
                 "VALUES (ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), now() - interval '1 day', '治安', :x, :x, 'reported', :g)"),
            {"lon": micro.lon, "lat": micro.lat, "x": XSS, "g": micro.code},
        )
        conn.execute(text("UPDATE households SET address = :x WHERE id = (SELECT min(id) FROM households)"), {"x": XSS})
        counts = dict(conn.execute(text("SELECT level, count(*) FROM grids GROUP BY level")).all())
    engine.dispose()
    yield {"url": url, "xss_point": (micro.lon, micro.lat, micro.code), "counts": counts}


@pytest.fixture(scope="module")
def app_url(e2e_db: dict) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": e2e_db["url"], "GRIDGOV_BASEMAP": "none", "GRIDGOV_LANG": "zh"}
    log = (_artifacts() / "e2e-streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not start; see {log.name}")
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@dataclass
class Browser:
    page: object
    external: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def tab(browser, app_url: str) -> Iterator[Browser]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    state = Browser(page=None)

    def route(r) -> None:
        url = r.request.url
        host = url.split("/")[2] if "://" in url else ""
        if url.startswith(("data:", "blob:", "about:")) or host.split(":")[0] in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            state.external.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("dialog", lambda d: (state.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: state.console_errors.append(str(e)))
    state.page = page
    yield state
    context.close()
    assert state.external == [], f"requests left localhost: {state.external}"
    assert state.dialogs == [], f"a dialog opened (script ran): {state.dialogs}"


def _map_frame(page, index: int = 0):
    page.wait_for_selector(FOLIUM_IFRAME, timeout=60_000)
    handle = page.locator(FOLIUM_IFRAME).nth(index).element_handle(timeout=60_000)
    frame = handle.content_frame()
    frame.wait_for_function("() => window.map !== undefined && window.map._loaded", timeout=60_000)
    return frame


def _settle(page) -> None:
    """Wait until the script run is over and no element of the previous run is left (stale)."""
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=stApp]');"
        " return a && a.getAttribute('data-test-script-state') === 'notRunning'"
        " && document.querySelectorAll('[data-stale=true]').length === 0; }",
        timeout=60_000,
    )
    page.wait_for_timeout(300)


def _click_latlon(page, frame, iframe_index: int, lat: float, lon: float, *, hover: bool = False) -> None:
    box = page.locator(FOLIUM_IFRAME).nth(iframe_index).bounding_box()
    pt = frame.evaluate(
        "([lat, lon]) => { const p = map.latLngToContainerPoint([lat, lon]); const r = map.getContainer().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [lat, lon],
    )
    x, y = box["x"] + pt[0], box["y"] + pt[1]
    if hover:
        page.mouse.move(x, y)
    else:
        page.mouse.click(x, y)


def test_map_draws_every_grid_offline(tab: Browser, app_url: str, e2e_db: dict) -> None:
    page = tab.page
    start = time.perf_counter()
    page.goto(app_url + "/")
    frame = _map_frame(page)
    frame.wait_for_selector("path.gg-level-3", timeout=60_000)
    elapsed = time.perf_counter() - start
    _settle(page)
    counts = e2e_db["counts"]
    assert frame.locator("path.gg-level-3").count() == counts[3] == 133
    assert frame.locator("path.gg-level-2").count() == counts[2]
    assert frame.locator("path.gg-level-1").count() == counts[1]
    # code labels and the layer switch
    assert frame.locator(".gg-label-1").count() == counts[1]
    assert frame.locator(".leaflet-control-layers").count() == 1
    (_artifacts() / "e2e-timings.txt").open("a").write(f"map page, cold browser: {elapsed:.2f} s to draw all grids\n")
    page.screenshot(path=str(_artifacts() / "e2e-map.png"), full_page=True)
    # a second load in the same browser (assets cached) is what a returning user sees
    start = time.perf_counter()
    page.reload()
    _map_frame(page).wait_for_selector("path.gg-level-3", timeout=60_000)
    warm = time.perf_counter() - start
    (_artifacts() / "e2e-timings.txt").open("a").write(f"map page, warm browser: {warm:.2f} s to draw all grids\n")
    assert warm < 15


def test_search_zooms_to_a_code_and_click_opens_the_card(tab: Browser, app_url: str, e2e_db: dict) -> None:
    engine = create_engine(e2e_db["url"])
    with engine.connect() as conn:
        code, name, lon, lat = conn.execute(
            text("SELECT code, name, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                 "FROM grids WHERE level = 3 ORDER BY code DESC LIMIT 1")
        ).one()
        other_code, other_lon, other_lat = conn.execute(
            text("SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                 "WHERE level = 3 ORDER BY code LIMIT 1 OFFSET 40")
        ).one()
    engine.dispose()
    page = tab.page
    page.goto(app_url + "/")
    frame = _map_frame(page)
    zoom_before = frame.evaluate("() => map.getZoom()")
    page.get_by_label("搜索（编码、网格名称、人员姓名或地址）").fill(code)
    page.get_by_role("button", name="搜索").click()
    page.get_by_text(f"已定位到 {code}").wait_for(timeout=30_000)
    frame.wait_for_function(f"() => map.getZoom() > {zoom_before}", timeout=30_000)
    center = frame.evaluate("() => [map.getCenter().lat, map.getCenter().lng]")
    bounds = frame.evaluate("() => map.getBounds().toBBoxString()")
    west, south, east, north = (float(v) for v in bounds.split(","))
    assert west <= lon <= east and south <= lat <= north
    assert abs(center[0] - lat) < 0.01 and abs(center[1] - lon) < 0.01
    page.get_by_text(f"网格信息卡：{code}").wait_for(timeout=30_000)
    _settle(page)
    page.screenshot(path=str(_artifacts() / "e2e-search.png"), full_page=True)
    # clicking another micro-grid opens its card
    frame.evaluate("([lat, lon]) => map.setView([lat, lon], 17, {animate: false})", [other_lat, other_lon])
    time.sleep(0.5)
    _click_latlon(page, frame, 0, other_lat, other_lon)
    page.get_by_text(f"网格信息卡：{other_code}").wait_for(timeout=30_000)
    _settle(page)
    # the whole card is the clicked grid's: its parent chain names its level-2 parent
    assert page.get_by_text(other_code[:15], exact=True).count() >= 1
    page.screenshot(path=str(_artifacts() / "e2e-card.png"), full_page=True)


def test_worker_lookup_by_point(tab: Browser, app_url: str, e2e_db: dict) -> None:
    lon, lat, code = e2e_db["xss_point"]
    page = tab.page
    page.goto(app_url + "/my_grid")
    page.get_by_text("位置（点击地图或输入经纬度）").click()
    # wait until the rerun has replaced the code form by the point form
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=stBaseButton-secondaryFormSubmit]').length === 1"
        " && document.querySelectorAll('input[aria-label=经度]').length === 1",
        timeout=30_000,
    )
    page.get_by_role("spinbutton", name="经度").fill(f"{lon:.6f}")
    page.get_by_role("spinbutton", name="纬度").fill(f"{lat:.6f}")
    page.get_by_role("button", name="查找").click()
    page.get_by_text(f"您所在的网格：{code}").wait_for(timeout=60_000)
    # the grid's map shows its micro-grid; downloads of the contact card are offered
    page.get_by_role("button", name="下载公示卡 PNG").wait_for(timeout=60_000)
    _settle(page)
    page.screenshot(path=str(_artifacts() / "e2e-my-grid.png"), full_page=True)


def test_incident_map_has_heatmap_and_escapes_user_text(tab: Browser, app_url: str, e2e_db: dict) -> None:
    lon, lat, _code = e2e_db["xss_point"]
    page = tab.page
    page.goto(app_url + "/incidents")
    frame = _map_frame(page)
    frame.wait_for_selector("canvas.leaflet-heatmap-layer", timeout=60_000)
    _settle(page)
    assert frame.locator(".marker-cluster").count() > 0
    assert frame.locator("path.gg-choropleth-count").count() == 133
    page.screenshot(path=str(_artifacts() / "e2e-incidents.png"), full_page=True)
    # open the XSS incident's popup: the payload shows as text and runs nothing
    frame.evaluate("([lat, lon]) => map.setView([lat, lon], 19, {animate: false})", [lat, lon])
    frame.wait_for_timeout(800)
    _click_latlon(page, frame, 0, lat, lon)
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=15_000)
    assert XSS in popup.inner_text()
    assert frame.locator("img[src='x']").count() == 0
    page.wait_for_timeout(500)
    page.screenshot(path=str(_artifacts() / "e2e-incident-popup.png"), full_page=True)
    # the monthly animation: a heat layer with a play button and a slider over the months
    page.get_by_text("按月动画").click()
    page.wait_for_function(
        "() => { const f = document.querySelector(\"iframe[title='streamlit_folium.st_folium']\");"
        " return f && f.contentDocument && f.contentDocument.querySelector('.gg-time-slider'); }",
        timeout=60_000,
    )
    frame = _map_frame(page)
    frame.wait_for_selector("canvas.leaflet-heatmap-layer", timeout=30_000)
    first = frame.locator(".gg-time-label").inner_text()
    frame.locator(".gg-time-play").click()
    frame.wait_for_function(f"() => document.querySelector('.gg-time-label').textContent !== {first!r}", timeout=15_000)
    page.screenshot(path=str(_artifacts() / "e2e-incidents-animation.png"), full_page=True)


def test_map_tooltips_escape_household_and_incident_text(tab: Browser, app_url: str, e2e_db: dict) -> None:
    lon, lat, _code = e2e_db["xss_point"]
    page = tab.page
    page.goto(app_url + "/")
    _map_frame(page)
    page.get_by_text("事件", exact=True).click()
    page.get_by_text("住户", exact=True).click()
    # the toggles rebuild the map (new layers): wait for the new iframe's incident markers
    page.wait_for_function(
        "() => { const f = document.querySelector(\"iframe[title='streamlit_folium.st_folium']\");"
        " const d = f && f.contentDocument; if (!d) return false;"
        " return d.querySelectorAll('path.gg-incidents').length > 100 && d.querySelectorAll('path.gg-households').length > 100; }",
        timeout=60_000,
    )
    frame = _map_frame(page)
    frame.evaluate("([lat, lon]) => map.setView([lat, lon], 19, {animate: false})", [lat, lon])
    frame.wait_for_timeout(800)
    _click_latlon(page, frame, 0, lat, lon, hover=True)
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.first.wait_for(timeout=15_000)
    assert XSS in " ".join(tooltip.all_inner_texts())
    assert frame.locator("img[src='x']").count() == 0
    page.screenshot(path=str(_artifacts() / "e2e-tooltip.png"), full_page=True)


def test_worker_lookup_by_clicking_the_map(tab: Browser, app_url: str, e2e_db: dict) -> None:
    engine = create_engine(e2e_db["url"])
    with engine.connect() as conn:
        code, lon, lat = conn.execute(
            text("SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                 "WHERE level = 3 ORDER BY code LIMIT 1 OFFSET 60")
        ).one()
    engine.dispose()
    page = tab.page
    page.goto(app_url + "/my_grid")
    page.get_by_text("位置（点击地图或输入经纬度）").click()
    page.get_by_text("点击下方地图选择位置。").wait_for(timeout=30_000)
    _settle(page)
    frame = _map_frame(page)
    frame.evaluate("([lat, lon]) => map.setView([lat, lon], 17, {animate: false})", [lat, lon])
    frame.wait_for_timeout(500)
    _click_latlon(page, frame, 0, lat, lon)
    page.get_by_text(f"您所在的网格：{code}").wait_for(timeout=60_000)
    _settle(page)
    page.screenshot(path=str(_artifacts() / "e2e-my-grid-click.png"), full_page=True)
