"""A worker's and a leader's day on their homes, in headless Debian Chromium, on a phone (390×844,
touch, Chromium's geolocation override) and at a desk. Screenshots of each step go to var/artifacts/
(homes-<viewport>-<step>.png). Answers are checked against SQL on the app's database."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from harness import FOLIUM_IFRAME, PHONE, log_in, map_frame, offline_tab, running_app, screen_xy, settle
from harness import artifacts as _artifacts
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.e2e, pytest.mark.db]

SH = ZoneInfo("Asia/Shanghai")
VIEWPORTS = {"phone": PHONE, "desk": {}}
WORKER = "worker-001"


@pytest.fixture(scope="module")
def homes_db(throwaway_databases, demo_data) -> Iterator[dict]:
    """A private demo copy with one overdue incident dispatched to worker-001 per viewport."""
    from store.seed import load_demo

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
        staff_id = conn.execute(text("SELECT staff_id FROM accounts WHERE name = :n"), {"n": WORKER}).scalar_one()
        code = conn.execute(text("SELECT grid_code FROM staff_assignments WHERE staff_id = :s AND end_date IS NULL "
                                 "AND role = 'micro_worker' ORDER BY id LIMIT 1"), {"s": staff_id}).scalar_one()
        house = conn.execute(text("SELECT id, address, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households "
                                  "WHERE grid_code = :c ORDER BY id LIMIT 1"), {"c": code}).one()
        spot = conn.execute(text("SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p "
                                 "FROM grids WHERE code = :c) s"), {"c": code}).one()
        tasks = {}
        for viewport in VIEWPORTS:
            tasks[viewport] = conn.execute(text(
                "INSERT INTO incidents (geom, reported_at, category, description, address, status, grid_code, "
                "grid_code_at_report, assigned_to, deadline, disposition) VALUES (ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), "
                "now() - interval '5 days', 'sanitation', :d, '', 'dispatched', :c, :c, :s, now() - interval '26 hours', "
                "'solve_now') RETURNING id"),
                {"lon": spot.lon, "lat": spot.lat, "d": f"task-{viewport}", "c": code, "s": staff_id}).scalar_one()
    engine.dispose()
    yield {"url": url, "staff_id": staff_id, "code": code, "house": house, "spot": spot, "tasks": tasks}


@pytest.fixture(scope="module")
def app_url(homes_db: dict) -> Iterator[str]:
    with running_app(homes_db["url"], log_name="e2e-homes-streamlit.log") as base:
        yield base


def _shot(page, viewport: str, step: str) -> None:
    page.screenshot(path=str(_artifacts() / f"homes-{viewport}-{step}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


def _one(url: str, sql: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).one()
    finally:
        engine.dispose()


def _tab(page, label: str) -> None:
    page.get_by_role("tab", name=re.compile(label)).click()
    page.wait_for_timeout(300)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_worker_day_by_gps_and_by_tapping(browser, app_url: str, homes_db: dict, viewport: str) -> None:
    house = homes_db["house"]
    options = {**VIEWPORTS[viewport], "geolocation": {"latitude": house.lat, "longitude": house.lon},
               "permissions": ["geolocation"]}
    url, staff_id = homes_db["url"], homes_db["staff_id"]
    with offline_tab(browser, **options) as state:
        page = state.page
        log_in(page, app_url, WORKER)
        page.get_by_role("heading", name="我的工作台").wait_for(timeout=30_000)
        frame = map_frame(page)
        _shot(page, viewport, "1-home")
        _no_sideways_scroll(page)
        grid_box = page.locator(".st-key-home-grid").bounding_box()
        map_box = page.locator(FOLIUM_IFRAME).first.bounding_box()
        assert grid_box["y"] < map_box["y"], "the grid card is above the map"
        assert map_box["height"] < PHONE["viewport"]["height"] * 0.6
        assert map_box["x"] >= 0 and map_box["x"] + map_box["width"] <= page.viewport_size["width"] + 1
        assert homes_db["code"] in page.locator(".st-key-home-grid").inner_text()
        counter = page.locator(".st-key-home-grid [data-testid=stMetricValue]").first.inner_text()
        done, target = (int(v) for v in counter.split("/"))
        if viewport == "phone":
            assert frame.evaluate("() => map.dragging.enabled()") is False, "one finger scrolls the page"
            assert frame.locator(".leaflet-control-layers-expanded").count() == 0
            assert page.locator("[data-testid=stSidebar]").bounding_box() is None or \
                page.locator("[data-testid=stSidebar]").bounding_box()["x"] + \
                page.locator("[data-testid=stSidebar]").bounding_box()["width"] <= 1
        # GPS (Chromium's geolocation override) fills the position
        frame.locator("#gg-gps").click()
        page.get_by_text(f"{house.lon:.6f}"[:9], exact=False).first.wait_for(timeout=30_000)
        settle(page)
        _shot(page, viewport, "2-gps")
        before = _one(url, "SELECT count(*) AS n FROM visits WHERE staff_id = :s", s=staff_id).n
        month_start = dt.datetime.now(SH).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        already = _one(url, "SELECT count(*) AS n FROM visits WHERE staff_id = :s AND household_id = :h "
                            "AND visited_at >= :m", s=staff_id, h=house.id, m=month_start).n > 0

        # a visit to the household at the position, saved by a double tap
        _tab(page, "入户走访")
        box = page.locator("[data-testid=stSelectbox]").filter(has_text="住户").first
        box.click()
        page.keyboard.type(house.address)
        page.keyboard.press("Enter")
        page.get_by_label("走访情况").fill(f"走访-{viewport}")
        page.get_by_role("button", name="保存走访").dblclick()
        page.get_by_text("已记录走访").wait_for(timeout=30_000)
        settle(page)
        _shot(page, viewport, "3-visit-saved")
        after = _one(url, "SELECT count(*) AS n FROM visits WHERE staff_id = :s", s=staff_id).n
        assert after == before + 1, "a double tap records one visit"
        latest = _one(url, "SELECT household_id, ST_X(geom) AS lon, request_key FROM visits WHERE staff_id = :s "
                           "ORDER BY id DESC LIMIT 1", s=staff_id)
        assert latest.household_id == house.id and latest.lon == pytest.approx(house.lon, abs=1e-6)
        assert latest.request_key
        counter = page.locator(".st-key-home-grid [data-testid=stMetricValue]").first.inner_text()
        assert counter == f"{done + (0 if already else 1)}/{target}", counter
        _tab(page, "入户走访")
        assert all(v == "" for v in page.locator("textarea").evaluate_all("els => els.map(e => e.value)"))

        # report an incident by tapping the map
        frame = map_frame(page)
        spot = homes_db["spot"]
        frame.evaluate("([lat, lon]) => map.setView([lat, lon], 17, {animate: false})", [spot.lat, spot.lon])
        page.locator(FOLIUM_IFRAME).first.scroll_into_view_if_needed()
        x, y = screen_xy(page, frame, 0, spot.lat, spot.lon)
        if viewport == "phone":
            page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)
        page.get_by_text(f"{spot.lon:.6f}"[:9], exact=False).first.wait_for(timeout=30_000)
        settle(page)
        _tab(page, "就地上报")
        description = f"路灯损坏-{viewport}"
        page.get_by_label("描述").fill(description)
        page.get_by_role("button", name="上报事件").click()
        page.get_by_text("已上报事件").wait_for(timeout=30_000)
        settle(page)
        _shot(page, viewport, "4-reported")
        new = _one(url, "SELECT id, grid_code, ST_X(geom) AS lon, reference FROM incidents WHERE description = :d",
                   d=description)
        assert new.grid_code == homes_db["code"] and new.lon == pytest.approx(spot.lon, abs=1e-5)
        shown = "-".join(new.reference[i:i + 4] for i in range(0, 12, 4))  # the reporter is given the reference code
        assert page.get_by_text(f"查询码：{shown}", exact=False).count() == 1
        detail = page.locator(".st-key-home-incident").inner_text()
        assert f"#{new.id}" in detail and description in detail

        # the dispatched task, overdue, handled from the task list
        _tab(page, "我的任务")
        task_id = homes_db["tasks"][viewport]
        page.locator("[data-testid^=glide-cell]", has_text="已超期").first.wait_for(state="attached", timeout=10_000)
        cells = page.locator("[data-testid^=glide-cell]").all_inner_texts()
        assert str(task_id) in cells, "the dispatched incident is in my tasks"
        box = page.locator("[data-testid=stSelectbox]").filter(has_text="选择任务").first
        box.click()
        page.keyboard.type(f"#{task_id}")
        page.keyboard.press("Enter")
        page.locator("textarea").first.fill("已清理")
        _shot(page, viewport, "5-task")
        page.get_by_role("button", name="提交处置反馈").click()
        page.get_by_text(f"事件 #{task_id} 已提交处置反馈").wait_for(timeout=30_000)
        settle(page)
        _shot(page, viewport, "6-handled")
        assert _one(url, "SELECT status FROM incidents WHERE id = :i", i=task_id).status == "handled"
        _no_sideways_scroll(page)
        assert state.external == [] and state.dialogs == []


def _last_month(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return dt.datetime.combine(first, dt.time(), SH), dt.datetime.combine(today.replace(day=1), dt.time(), SH)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_leader_answers_the_question_in_one_click(browser, app_url: str, homes_db: dict, viewport: str) -> None:
    start, end = _last_month(dt.datetime.now(SH).date())
    expected = _one(homes_db["url"], """
        SELECT g.code, g.name, count(i.id) AS n FROM grids g JOIN incidents i ON left(i.grid_code, length(g.code)) = g.code
        WHERE g.level = 1 AND i.status NOT IN ('closed', 'rejected') AND i.reported_at >= :a AND i.reported_at < :b
        GROUP BY g.code, g.name ORDER BY n DESC, g.code LIMIT 1""", a=start, b=end)
    head = _one(homes_db["url"], """
        SELECT s.name FROM staff_assignments a JOIN staff s ON s.id = a.staff_id
        WHERE a.grid_code = :c AND a.role = 'grid_head' AND a.start_date <= current_date
          AND (a.end_date IS NULL OR a.end_date >= current_date) ORDER BY a.start_date, s.id LIMIT 1""", c=expected.code)
    with offline_tab(browser, **VIEWPORTS[viewport]) as state:
        page = state.page
        log_in(page, app_url, "leader")
        page.get_by_role("heading", name="街道总览").wait_for(timeout=30_000)
        _shot(page, viewport, "leader-1-home")
        clicks = 0
        page.get_by_text("上月", exact=True).click()
        clicks += 1
        settle(page)
        _shot(page, viewport, "leader-2-last-month")
        answer = page.get_by_text("未办结最多").first.inner_text()
        assert clicks <= 3
        assert f"{expected.name}（{expected.code}）{expected.n} 件" in answer, answer
        assert head.name in answer
        body = page.locator("[data-testid=stMain]").inner_text()
        assert "办结率" in body and "超期" in body
        for word in ("None", "nan", "Traceback"):
            assert word not in body
        _no_sideways_scroll(page)
        assert state.external == [] and state.dialogs == []
