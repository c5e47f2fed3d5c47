"""End-to-end: split a micro-grid in the boundary editor by drawing on the map, save, find it.

The real app (`streamlit run app.py`) runs against its own copy of the demo database in
headless Debian Chromium; every request that is not to localhost is aborted and recorded
(none may happen). The split line is drawn through leaflet-draw's own toolbar with real
mouse clicks (polyline button, two clicks on the map canvas, "Finish"). Screenshots go to
``settings.artifacts_dir`` (var/artifacts/).
"""

from __future__ import annotations

from testdb import demo_copy

import time
from collections.abc import Iterator

import pytest
import shapely
from harness import log_in, offline_tab, running_app
from harness import artifacts as _artifacts
from harness import map_frame as _map_frame
from harness import screen_xy as _screen_xy
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.e2e, pytest.mark.db]

#: How far (degrees, ~5 m) the drawn line starts and ends outside the grid.
OVERSHOOT_DEG = 0.00005


@pytest.fixture(scope="module")
def editor_e2e_db(throwaway_databases, demo_data) -> str:
    return demo_copy(throwaway_databases, demo_data)


@pytest.fixture(scope="module")
def editor_app_url(editor_e2e_db: str) -> Iterator[str]:
    with running_app(editor_e2e_db, log_name="e2e-editor-streamlit.log") as base:
        yield base


@pytest.fixture()
def page(browser, editor_app_url: str):
    with offline_tab(browser) as state:
        log_in(state.page, editor_app_url, "planner")
        yield state.page
    assert state.external == [], f"requests left localhost: {state.external}"
    assert state.dialogs == [], f"a dialog opened: {state.dialogs}"
    assert state.console_errors == [], f"JavaScript errors: {state.console_errors}"


def _split_target(url: str) -> tuple[str, int, tuple[float, float], tuple[float, float], tuple[float, float, float, float]]:
    """The busiest micro-grid, its household count, a line across it (lon/lat ends) and its bounds."""
    engine = create_engine(url)
    with engine.connect() as conn:
        code, wkb, households = conn.execute(text(
            "SELECT g.code, ST_AsBinary(g.geom), count(h.id) FROM grids g JOIN households h ON h.grid_code = g.code "
            "WHERE g.level = 3 GROUP BY g.code, g.geom ORDER BY count(h.id) DESC, g.code LIMIT 1"
        )).one()
    engine.dispose()
    geom = shapely.from_wkb(bytes(wkb))
    minx, miny, maxx, maxy = geom.bounds
    p = geom.point_on_surface()
    if (maxx - minx) >= (maxy - miny):  # cut a wide grid north-south
        chord = shapely.intersection(geom, shapely.LineString([(p.x, miny - 1), (p.x, maxy + 1)]))
        part = min(shapely.get_parts(chord), key=lambda g: g.distance(p))
        y0, y1 = sorted(c[1] for c in part.coords)[:: len(part.coords) - 1]
        return code, int(households), (p.x, y0 - OVERSHOOT_DEG), (p.x, y1 + OVERSHOOT_DEG), geom.bounds
    chord = shapely.intersection(geom, shapely.LineString([(minx - 1, p.y), (maxx + 1, p.y)]))
    part = min(shapely.get_parts(chord), key=lambda g: g.distance(p))
    x0, x1 = sorted(c[0] for c in part.coords)[:: len(part.coords) - 1]
    return code, int(households), (x0 - OVERSHOOT_DEG, p.y), (x1 + OVERSHOOT_DEG, p.y), geom.bounds


def test_split_a_micro_grid_by_drawing_then_find_the_new_grids(page, editor_app_url: str, editor_e2e_db: str) -> None:
    code, households, start, end, bounds = _split_target(editor_e2e_db)
    page.goto(editor_app_url + "/editor")
    page.get_by_role("heading", name="编辑网格边界").wait_for(timeout=60_000)
    frame = _map_frame(page, 0)
    frame.wait_for_selector("path.gg-level-3", timeout=60_000)
    minx, miny, maxx, maxy = bounds
    frame.evaluate("(b) => map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {animate: false, padding: [40, 40]})",
                   [minx, miny, maxx, maxy])
    frame.wait_for_timeout(500)
    # leaflet-draw's toolbar: polyline button, click the two ends on the canvas, Finish
    frame.locator("a.leaflet-draw-draw-polyline").click()
    for lon, lat in (start, end):
        x, y = _screen_xy(page, frame, 0, lat, lon)
        page.mouse.click(x, y)
        frame.wait_for_timeout(300)
    frame.get_by_text("完成", exact=True).click()  # leaflet-draw speaks the page language
    page.get_by_text(f"涉及网格：{code}").wait_for(timeout=60_000)
    page.screenshot(path=str(_artifacts() / "e2e-editor-drawn.png"), full_page=True)

    page.get_by_role("button", name="预览", exact=True).click()
    page.get_by_text("校验通过", exact=False).wait_for(timeout=60_000)
    page.get_by_text("调整住户").first.wait_for(timeout=30_000)
    preview_frame = _map_frame(page, 1)  # the proposed plan beside the current one
    preview_frame.wait_for_selector("path.gg-edit-touched", timeout=60_000)
    assert preview_frame.locator("path.gg-edit-touched").count() >= 2
    time.sleep(1.0)
    page.screenshot(path=str(_artifacts() / "e2e-editor-preview.png"), full_page=True)
    # the preview lists the split grid's staff and where each goes (issue #13: a redraw carries its people)
    staff_title = page.get_by_text("随边界调整的人员", exact=False).first
    staff_title.wait_for(timeout=30_000)
    staff_title.scroll_into_view_if_needed()
    page.get_by_text("新网格的岗位情况", exact=False).first.wait_for(timeout=30_000)
    time.sleep(0.5)
    page.screenshot(path=str(_artifacts() / "e2e-editor-staff.png"))

    save = page.get_by_role("button", name="保存", exact=True)
    save.click()  # no reason yet: refused
    page.get_by_text("请填写调整原因后再保存。").wait_for(timeout=30_000)
    page.get_by_label("调整原因（必填）").fill("浏览器测试：拆分微网格")
    page.get_by_label("调整原因（必填）").press("Enter")
    time.sleep(1.0)
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_text("已保存变更集").wait_for(timeout=60_000)
    result = page.get_by_text("已保存的变更 #", exact=False).first  # the saved result, zoomed to the change
    result.wait_for(timeout=60_000)
    _map_frame(page, 0).wait_for_selector("path.gg-edit-touched", timeout=60_000)  # first map: the saved plan
    page.get_by_text("已保存变更集", exact=False).first.scroll_into_view_if_needed()
    time.sleep(1.0)
    page.screenshot(path=str(_artifacts() / "e2e-editor-saved.png"))

    engine = create_engine(editor_e2e_db)
    with engine.connect() as conn:
        reason, added, retired = conn.execute(text(
            "SELECT reason, details -> 'added', details -> 'retired' FROM changesets WHERE kind = 'edit' ORDER BY id DESC LIMIT 1"
        )).one()
        micro = conn.execute(text("SELECT count(*) FROM grids WHERE level = 3")).scalar()
        moved = conn.execute(text("SELECT count(*) FROM households WHERE grid_code = ANY(:c)"),
                             {"c": [c for c in added if len(c) == len(code)]}).scalar()
        left_behind = conn.execute(text(
            "SELECT count(*) FROM staff_assignments WHERE grid_code = :c AND end_date IS NULL"), {"c": code}).scalar()
        carried = conn.execute(text("SELECT count(*) FROM staff_assignments WHERE grid_code = ANY(:c)"),
                               {"c": list(added)}).scalar()
    engine.dispose()
    assert left_behind == 0 and carried > 0  # the team moved with the boundaries
    assert reason == "浏览器测试：拆分微网格"
    assert code in retired
    new_codes = sorted(c for c in added if len(c) == len(code))
    assert len(new_codes) >= 2 and moved == households

    # the electronic map shows the new grids: count the micro-grid paths, then search a new code
    page.goto(editor_app_url + "/")
    frame = _map_frame(page, 0)
    frame.wait_for_selector("path.gg-level-3", timeout=60_000)
    frame.wait_for_function(f"() => document.querySelectorAll('path.gg-level-3').length === {micro}", timeout=60_000)
    assert micro == 133 - 1 + len(new_codes)
    page.get_by_label("搜索（编码、网格名称、人员姓名或地址）").fill(new_codes[0])
    page.get_by_role("button", name="搜索").click()
    page.get_by_text(f"已定位到 {new_codes[0]}").wait_for(timeout=30_000)
    page.get_by_text(f"网格信息卡：{new_codes[0]}").wait_for(timeout=30_000)
    time.sleep(1.0)
    page.screenshot(path=str(_artifacts() / "e2e-editor-new-grid-on-map.png"), full_page=True)

    # the history page lists the changeset and compares the versions side by side
    page.goto(editor_app_url + "/history")
    page.get_by_text("浏览器测试：拆分微网格").first.wait_for(state="attached", timeout=60_000)  # a dataframe cell
    compare = _map_frame(page, 2)  # as-of map, then the two compared versions
    compare.wait_for_selector("path.gg-change-reshaped, path.gg-change-added", timeout=60_000)
    assert compare.locator("path.gg-change-added").count() == len(new_codes)
    time.sleep(1.0)
    page.screenshot(path=str(_artifacts() / "e2e-history.png"), full_page=True)
