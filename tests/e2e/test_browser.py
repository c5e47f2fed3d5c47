"""End-to-end: the real app (`streamlit run serve.py`, as `gridgov app`) in headless Debian Chromium, offline.

The app runs on a free port against its own copy of the demo database (with an incident
and a household address carrying an XSS payload). Every request that is not to localhost
is aborted and recorded; every test checks none happened, and that no JavaScript dialog
opened. Screenshots go to ``settings.artifacts_dir`` (var/artifacts/).
"""

from __future__ import annotations

from testdb import database_env

import time
from collections.abc import Iterator

import pytest
from harness import FOLIUM_IFRAME, Browser, log_in, offline_tab, running_app, screen_xy
from harness import artifacts as _artifacts
from harness import map_frame as _map_frame
from harness import settle as _settle
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.e2e, pytest.mark.db]

XSS = "<img src=x onerror=alert(1)>"
@pytest.fixture(scope="module")
def e2e_db(throwaway_databases, demo_data) -> Iterator[dict]:
    """A private demo database with XSS payloads in an incident and a household address."""
    from store.seed import load_demo

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
    with running_app(e2e_db["url"], log_name="e2e-streamlit.log") as base:
        yield base


def test_server_warms_up_before_the_first_visit(app_url: str) -> None:
    # running_app returns once the server answers; by then the warm-up has run (serve.py)
    log = (_artifacts() / "e2e-streamlit.log").read_text()
    assert "gridgov: warm-up done" in log, log


def test_server_starts_when_the_database_is_down() -> None:
    import urllib.request

    with running_app("postgresql+psycopg://nobody@127.0.0.1:1/none", log_name="e2e-no-db.log") as base:
        with urllib.request.urlopen(base + "/", timeout=10) as response:
            assert response.status == 200
        # the map component is still registered, so the pages can report the database error
        with urllib.request.urlopen(base + "/component/streamlit_folium.st_folium/index.html", timeout=10) as r:
            assert r.status == 200
    log = (_artifacts() / "e2e-no-db.log").read_text()
    assert "gridgov: warm-up skipped" in log, log


@pytest.fixture()
def tab(browser, app_url: str) -> Iterator[Browser]:
    with offline_tab(browser) as state:
        log_in(state.page, app_url)
        yield state
    assert state.external == [], f"requests left localhost: {state.external}"
    assert state.dialogs == [], f"a dialog opened (script ran): {state.dialogs}"


def _click_latlon(page, frame, iframe_index: int, lat: float, lon: float, *, hover: bool = False) -> None:
    x, y = screen_xy(page, frame, iframe_index, lat, lon)
    if hover:
        page.mouse.move(x, y)
    else:
        page.mouse.click(x, y)


def _all_micro_grids_drawn(page, n: int) -> None:
    """Wait until the first map has drawn ``n`` micro-grid paths (a frame locator follows a replaced iframe)."""
    paths = page.frame_locator(FOLIUM_IFRAME).first.locator("path.gg-level-3")
    paths.nth(n - 1).wait_for(state="attached", timeout=60_000)


def test_map_draws_every_grid_offline(tab: Browser, app_url: str, e2e_db: dict) -> None:
    page = tab.page
    counts = e2e_db["counts"]
    start = time.perf_counter()
    page.goto(app_url + "/")
    _all_micro_grids_drawn(page, counts[3])
    elapsed = time.perf_counter() - start
    frame = _map_frame(page)
    assert frame.locator("path.gg-level-3").count() == counts[3] == 133
    assert frame.locator("path.gg-level-2").count() == counts[2]
    assert frame.locator("path.gg-level-1").count() == counts[1]
    # code labels and the layer switch
    assert frame.locator(".gg-label-1").count() == counts[1]
    assert frame.locator(".leaflet-control-layers").count() == 1
    (_artifacts() / "e2e-timings.txt").write_text(
        f"map page, first view after the server started: {elapsed:.2f} s to draw all grids\n"
    )
    page.screenshot(path=str(_artifacts() / "e2e-map.png"), full_page=True)
    # a second load in the same browser (assets cached) is what a returning user sees
    start = time.perf_counter()
    page.reload()
    _all_micro_grids_drawn(page, counts[3])
    warm = time.perf_counter() - start
    (_artifacts() / "e2e-timings.txt").open("a").write(f"map page, returning browser: {warm:.2f} s to draw all grids\n")
    # load times are measured by bench/map_load.py (docs/performance.md), not asserted here


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


def test_gridgov_app_starts_without_reaching_the_internet(e2e_db: dict) -> None:
    """`gridgov app` on 0.0.0.0 (as `make run`): Streamlit's banner would look up the external IP."""
    import os
    import subprocess
    import sys
    import urllib.request

    from harness import ROOT, free_port

    port = free_port()
    log_path = _artifacts() / "e2e-gridgov-app.log"
    env = {**os.environ, **database_env(e2e_db["url"])}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "app", "--port", str(port), "--address", "0.0.0.0"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    # stopping `gridgov app` stops the server (it is the server: no orphan keeps the port)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    text_ = log_path.read_text()
    assert "gridgov: warm-up done" in text_, text_
    assert "external IP" not in text_ and "External URL" not in text_, text_
