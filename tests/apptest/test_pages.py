"""Each page's logic driven by Streamlit's AppTest against the demo database (read-only).

The app reads its database from DATABASE_URL (settings); the fixture points it at this
test session's database. Maps are components: AppTest sees their presence, not their
drawing (the browser tests in tests/e2e check that).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from apptest_support import logged_in, map_components, page_texts, run_page
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 90


def _map_page() -> None:
    from app_pages import electronic_map

    electronic_map.render()


def _my_grid_page() -> None:
    from app_pages import my_grid

    my_grid.render()


def _incidents_page() -> None:
    from app_pages import incidents

    incidents.render()


def _run(fn) -> AppTest:
    return run_page(fn, timeout=TIMEOUT)


_texts = page_texts


# -- app shell --------------------------------------------------------------------------------


def test_app_routes_to_the_map_and_switches_language(app_db: str) -> None:
    at = logged_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "电子地图"
    at.sidebar.radio(key="ui.lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Electronic map"
    assert "grids" in _texts(at)


def test_app_reports_an_unreachable_database(monkeypatch: pytest.MonkeyPatch, app_db: str) -> None:
    from app_pages import common
    from gis.settings import get_settings

    good = os.environ["GRIDGOV_APP_DATABASE_URL"]
    monkeypatch.setenv("GRIDGOV_APP_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    common.get_engine.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.run()
        assert at.error and "无法连接数据库" in at.error[0].value
        assert not at.title and not at.get("component_instance")  # nothing else renders
    finally:
        monkeypatch.setenv("GRIDGOV_APP_DATABASE_URL", good)
        get_settings.cache_clear()
        common.get_engine.clear()


# -- electronic map ---------------------------------------------------------------------------


def test_map_page_summary_and_card_on_click(app_db: str, sql) -> None:
    at = _run(_map_page)
    (grids,) = sql("SELECT count(*) FROM grids")[0]
    assert f"共 {grids} 个网格" in _texts(at)
    # the map component carries every grid, with its code, in the script the browser runs
    (args,) = map_components(at)
    codes = [row[0] for row in sql("SELECT code FROM grids")]
    assert codes and all(f'"code": "{code}"' in args["script"] for code in codes)
    assert args["script"].count("gg-level-3") >= 1 and args["height"] < 844 * 0.6  # room to scroll on a phone
    assert "点击地图" in _texts(at)
    # a click on a grid stores its code (what st_folium's tooltip gives back)
    code, name, households, special = sql(
        "SELECT g.code, g.name, count(h.id), count(h.id) FILTER (WHERE cardinality(h.special_kinds) > 0) "
        "FROM grids g LEFT JOIN households h ON h.grid_code = g.code WHERE g.level = 3 GROUP BY g.code, g.name "
        "ORDER BY g.code LIMIT 1"
    )[0]
    at.session_state["map.selected"] = code
    at.run()
    assert not at.exception
    assert any(code in s.value and name in s.value for s in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["住户数"] == str(households) and metrics["特殊户数"] == str(special)
    staff = sql("SELECT count(*) FROM staff_assignments WHERE grid_code = :c AND end_date IS NULL", c=code)[0][0]
    if staff:
        assert at.dataframe and len(at.dataframe[0].value) >= 1


def test_warm_up_renders_the_default_map(app_db: str, sql) -> None:
    from app_pages import common

    rendered = common.warm_up()  # what serve.py runs before the first visitor
    codes = [row[0] for row in sql("SELECT code FROM grids")]
    assert all(f'"code": "{code}"' in rendered.script for code in codes)
    assert "gg-label-3" in rendered.script and "gg-households" not in rendered.script
    # the page, in the default language, asks the cache for the same map
    at = _run(_map_page)
    (args,) = map_components(at)
    assert args["script"] == rendered.script


def test_map_search_by_code_zooms_to_the_grid(app_db: str, sql) -> None:
    code, x0, y0, x1, y1 = sql(
        "SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM grids WHERE level = 3 ORDER BY code DESC LIMIT 1"
    )[0]
    at = _run(_map_page)
    at.text_input(key="map.query_input").input(code)
    at.button(key="map.search_submit").click().run()
    assert not at.exception
    view = at.session_state["map.view"]
    lat, lon = view["center"]
    assert x0 <= lon <= x1 and y0 <= lat <= y1
    assert view["zoom"] >= 14  # the grid fills the 460-px map (a micro-grid is ~300-600 m across)
    assert at.session_state["map.selected"] == code
    assert f"已定位到 {code}" in _texts(at)


def test_map_search_by_staff_name_and_nothing_found(app_db: str, sql) -> None:
    name, grid_code = sql(
        "SELECT s.name, sa.grid_code FROM staff s JOIN staff_assignments sa ON sa.staff_id = s.id "
        "WHERE sa.end_date IS NULL ORDER BY s.id LIMIT 1"
    )[0]
    at = _run(_map_page)
    at.text_input(key="map.query_input").input(name)
    at.button(key="map.search_submit").click().run()
    hits = at.session_state["map.hits"]
    assert any(h.kind == "staff" and h.code == grid_code for h in hits)
    at.text_input(key="map.query_input").input("不存在的地址zzz")
    at.button(key="map.search_submit").click().run()
    assert at.warning and "不存在的地址zzz" in at.warning[0].value


def test_map_search_with_several_hits_zooms_to_the_picked_one(app_db: str, sql) -> None:
    (prefix,) = sql("SELECT code FROM grids WHERE level = 2 ORDER BY code LIMIT 1")[0]
    at = _run(_map_page)
    at.text_input(key="map.query_input").input(prefix[:-1])  # matches several grids
    at.button(key="map.search_submit").click().run()
    hits = at.session_state["map.hits"]
    assert len(hits) > 1
    assert at.session_state["map.selected"] == hits[0].code
    at.selectbox(key="map.pick").set_value(1).run()
    assert not at.exception
    assert at.session_state["map.selected"] == hits[1].code
    # the map in the same run already has the picked grid's view (the pick runs as a callback)
    (args,) = map_components(at)
    lat, lon = args["center"]
    x0, y0, x1, y1 = hits[1].bounds
    assert x0 <= lon <= x1 and y0 <= lat <= y1


def test_map_layer_switches(app_db: str, sql) -> None:
    at = _run(_map_page)
    ((households,),) = sql("SELECT count(*) FROM households WHERE grid_code IS NOT NULL")
    (before,) = map_components(at)
    assert "gg-households" not in before["script"] and "gg-incidents" not in before["script"]
    at.toggle(key="map.layer_households").set_value(True)
    at.toggle(key="map.layer_incidents").set_value(True).run()
    assert not at.exception
    (after,) = map_components(at)
    assert "gg-households" in after["script"] and "gg-incidents" in after["script"]
    assert len(after["script"]) > len(before["script"]) + households * 20
    at.toggle(key="map.layer_labels").set_value(False).run()
    (no_labels,) = map_components(at)
    assert "gg-label-3" in after["script"] and "gg-label-3" not in no_labels["script"]


# -- my grid ----------------------------------------------------------------------------------


def test_my_grid_by_point(app_db: str, sql) -> None:
    code, lon, lat = sql(
        "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids WHERE level = 3 ORDER BY code LIMIT 1 OFFSET 7"
    )[0]
    at = _run(_my_grid_page)
    at.radio(key="my.mode").set_value("point").run()
    at.number_input(key="my.lon").set_value(lon)
    at.number_input(key="my.lat").set_value(lat)
    at.button(key="my.point_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success and code in at.success[0].value
    # the overview to click on (no micro-grids) and the found grid's map with its households
    overview, grid_map = map_components(at)
    assert f'"code": "{code}"' not in overview["script"] and f'"code": "{code[:-3]}"' in overview["script"]
    assert f'"code": "{code}"' in grid_map["script"] and "gg-households" in grid_map["script"]
    # roster is masked
    roster = at.dataframe[1].value if len(at.dataframe) > 1 else at.dataframe[0].value
    ids = [v for v in roster["身份证号"] if v]
    assert ids and all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", v) for v in ids)
    phones = [v for v in roster["电话"] if v]
    assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", v) for v in phones)
    # this month's visits and the contact card downloads
    assert "本月已走访" in _texts(at)
    labels = [b.label for b in at.get("download_button")] if at.get("download_button") else []
    assert labels == [] or any("PNG" in label for label in labels)


def test_my_grid_point_outside_every_grid(app_db: str) -> None:
    at = _run(_my_grid_page)
    at.radio(key="my.mode").set_value("point").run()
    at.number_input(key="my.lon").set_value(100.0)
    at.number_input(key="my.lat").set_value(30.0)
    at.button(key="my.point_submit").click().run()
    assert not at.exception
    assert at.error and "最近的网格" in at.error[0].value and "nearest" not in at.error[0].value


def test_my_grid_by_code_and_bad_code(app_db: str, sql) -> None:
    code = sql("SELECT code FROM grids WHERE level = 2 ORDER BY code LIMIT 1")[0][0]
    at = _run(_my_grid_page)
    at.text_input(key="my.code_input").input(code)
    at.button(key="my.code_submit").click().run()
    assert not at.exception
    assert code in at.success[0].value
    at.text_input(key="my.code_input").input("12ab")
    at.button(key="my.code_submit").click().run()
    assert at.error and "12ab" in at.error[0].value


def test_my_grid_by_phone(app_db: str, sql) -> None:
    phone, code = sql(
        "SELECT s.phone, sa.grid_code FROM staff s JOIN staff_assignments sa ON sa.staff_id = s.id "
        "WHERE sa.end_date IS NULL AND s.phone IS NOT NULL AND sa.role = 'micro_worker' ORDER BY s.id LIMIT 1"
    )[0]
    at = _run(_my_grid_page)
    at.radio(key="my.mode").set_value("person").run()
    at.text_input(key="my.person_input").input(phone)
    at.button(key="my.person_submit").click().run()
    assert not at.exception
    assert at.success and code in at.success[0].value


# -- incidents --------------------------------------------------------------------------------


def test_incident_page_totals_match_sql(app_db: str, sql) -> None:
    at = _run(_incidents_page)
    (total,) = sql("SELECT count(*) FROM incidents")[0]
    assert f"符合条件的事件：{total} 起" in _texts(at)
    category = sql("SELECT category FROM incidents GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    at.multiselect(key="inc.categories").set_value([category])
    at.multiselect(key="inc.statuses").set_value(["closed"]).run()
    assert not at.exception
    (n,) = sql("SELECT count(*) FROM incidents WHERE category = :c AND status = 'closed'", c=category)[0]
    assert f"符合条件的事件：{n} 起" in _texts(at)
    top = at.dataframe[0].value
    (best,) = sql(
        "SELECT count(*) FROM incidents WHERE category = :c AND status = 'closed' AND grid_code IS NOT NULL "
        "GROUP BY grid_code ORDER BY 1 DESC LIMIT 1", c=category,
    )[0]
    assert int(top["事件数"].iloc[0]) == best
    at.selectbox(key="inc.level").set_value(1).run()
    assert not at.exception
    assert int(at.dataframe[0].value["事件数"].sum()) == n - sql(
        "SELECT count(*) FROM incidents WHERE category = :c AND status = 'closed' AND grid_code IS NULL", c=category
    )[0][0]


def test_incident_maps_follow_the_filter(app_db: str, sql) -> None:
    at = _run(_incidents_page)
    (whole,) = map_components(at)
    assert "heatLayer" in whole["script"] and "markerClusterGroup" in whole["script"]
    category = sql("SELECT category FROM incidents GROUP BY 1 ORDER BY count(*) LIMIT 1")[0][0]
    at.multiselect(key="inc.categories").set_value([category]).run()
    (filtered,) = map_components(at)
    assert len(filtered["script"]) < len(whole["script"])
    at.radio(key="inc.view").set_value("time").run()
    assert not at.exception
    (animation,) = map_components(at)
    assert "gg-time-control" in animation["script"] and "heatLayer" in animation["script"]


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"GRIDGOV_BASEMAP": "amap"}, False),
        ({"GRIDGOV_BASEMAP": "tianditu", "GRIDGOV_TIANDITU_KEY": "k"}, False),
        ({"GRIDGOV_BASEMAP": "tianditu"}, True),  # no key: reported, maps still drawn without tiles
    ],
)
def test_basemap_settings(monkeypatch: pytest.MonkeyPatch, app_db: str, env: dict, warning: bool) -> None:
    from gis.settings import get_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        at = _run(_map_page)
        assert bool(at.warning) == warning
        if warning:
            assert "GRIDGOV_TIANDITU_KEY" in at.warning[0].value
    finally:
        for name in env:
            monkeypatch.delenv(name)
        get_settings.cache_clear()
