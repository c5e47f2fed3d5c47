"""The boundary editor and history pages driven by AppTest on a private demo database.

The pages write (changesets), so this module gets its own throwaway database instead of the
session's shared one. Geometry comes in through the WKT fallback text area (the browser test
in tests/e2e/test_editor_browser.py draws it on the map instead).
"""

from __future__ import annotations

from access.actor import Actor

import pytest
import shapely
from sqlalchemy import create_engine, text
from apptest_support import map_components, page_texts, run_page
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.db

TIMEOUT = 120


@pytest.fixture(scope="module")
def editor_db(private_demo_db: str) -> str:
    """The pages write changesets, so they get a private demo database."""
    return private_demo_db


@pytest.fixture(scope="module")
def engine(editor_db: str):
    eng = create_engine(editor_db)
    yield eng
    eng.dispose()


def _editor_page() -> None:
    from app_pages import editor

    editor.render()


def _history_page() -> None:
    from app_pages import history

    history.render()


def _run(fn) -> AppTest:
    return run_page(fn, timeout=TIMEOUT)


_texts = page_texts


def _busiest_micro_grid(conn, *, offset: int = 0) -> tuple[str, object]:
    code, wkb = conn.execute(text(
        "SELECT g.code, ST_AsBinary(g.geom) FROM grids g JOIN households h ON h.grid_code = g.code "
        "WHERE g.level = 3 GROUP BY g.code, g.geom ORDER BY count(*) DESC, g.code LIMIT 1 OFFSET :o"
    ), {"o": offset}).one()
    return code, shapely.from_wkb(bytes(wkb))


def _line_across(geom) -> shapely.LineString:
    minx, miny, maxx, maxy = geom.bounds
    c = geom.centroid
    if (maxx - minx) >= (maxy - miny):
        return shapely.LineString([(c.x, miny - 0.001), (c.x, maxy + 0.001)])
    return shapely.LineString([(minx - 0.001, c.y), (maxx + 0.001, c.y)])


def _neighbour_of(conn, code: str) -> str:
    return conn.execute(text(
        "SELECT b.code FROM grids a JOIN grids b ON b.parent_code = a.parent_code AND b.code <> a.code "
        "WHERE a.code = :c AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0 "
        "ORDER BY ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) DESC LIMIT 1"
    ), {"c": code}).scalar_one()


def _edits(conn) -> int:
    return int(conn.execute(text("SELECT count(*) FROM changesets WHERE kind = 'edit'")).scalar())


def test_split_from_wkt_previews_the_moves_and_needs_a_reason(editor_db: str, engine) -> None:
    with engine.connect() as conn:
        code, geom = _busiest_micro_grid(conn)
        households = conn.execute(text("SELECT count(*) FROM households WHERE grid_code = :c"), {"c": code}).scalar()
        edits_before = _edits(conn)
    at = _run(_editor_page)
    assert at.title[0].value == "编辑网格边界"
    at.selectbox(key="editor.operation").set_value("split").run()
    assert "请在地图上画一条线" in _texts(at)
    at.text_area(key="editor.wkt").input(_line_across(geom).wkt).run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"涉及网格：{code}" in _texts(at)  # the grid is taken from the drawing
    at.button(key="editor.preview_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    preview = at.session_state["editor.preview"]
    assert preview is not None and preview.can_save
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["调整住户"] == str(households)  # every household of a split grid gets a new code
    texts = _texts(at)
    new_codes = preview.result.added
    assert len(new_codes) >= 2 and all(f"{code} → {c}" in texts for c in new_codes if c in set(preview.impact.flows["to_code"]))
    assert "校验通过" in texts
    assert not at.button(key="editor.save").disabled
    # without a reason: refused, nothing written
    at.button(key="editor.save").click().run()
    assert any("请填写调整原因" in e.value for e in at.error)
    with engine.connect() as conn:
        assert _edits(conn) == edits_before
    # with a reason: one changeset, the old code retired, households re-assigned
    at.text_input(key="editor.reason").input("社区调整：拆分过大的微网格").run()
    at.button(key="editor.save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已保存变更集" in s.value for s in at.success), _texts(at)
    assert at.session_state["editor.preview"] is None and at.session_state["editor.draft"] is not None
    with engine.connect() as conn:
        assert _edits(conn) == edits_before + 1
        assert conn.execute(text("SELECT status FROM grid_codes WHERE code = :c"), {"c": code}).scalar() == "retired"
        moved = conn.execute(text("SELECT count(*) FROM households WHERE grid_code = ANY(:c)"),
                             {"c": new_codes}).scalar()
        assert moved == households
        reason = conn.execute(text("SELECT reason FROM changesets ORDER BY id DESC LIMIT 1")).scalar()
        assert reason == "社区调整：拆分过大的微网格"


def test_concurrent_change_is_refused_with_the_grid_and_the_other_change(editor_db: str, engine) -> None:
    from services.editing import preview_edit, save_edit, start_edit

    with engine.connect() as conn:
        code, _ = _busiest_micro_grid(conn, offset=3)
        other = _neighbour_of(conn, code)
    at = _run(_editor_page)  # the draft (and its versions) is taken now
    at.selectbox(key="editor.operation").set_value("merge").run()
    at.multiselect(key="editor.merge_codes").set_value([code, other]).run()
    at.button(key="editor.preview_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["editor.preview"].can_save
    # meanwhile another planner merges the same grids and saves first
    with engine.begin() as conn:
        draft = start_edit(conn)
        applied = save_edit(conn, preview_edit(conn, draft, "merge", codes=[code, other]),
                            actor=Actor("planner-b", role="planner"), reason="merged first")
    with engine.connect() as conn:
        edits_before = _edits(conn)
    at.text_input(key="editor.reason").input("my merge").run()
    at.button(key="editor.save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "保存被拒绝" in errors, _texts(at) and "未写入任何内容" in errors
    assert (code in errors or other in errors) and f"变更 #{applied.changeset_id}" in errors and "planner-b" in errors
    with engine.connect() as conn:
        assert _edits(conn) == edits_before
    # reloading starts a new draft from the current plan
    at.button(key="editor.restart").click().run()
    assert not at.exception
    draft = at.session_state["editor.draft"]
    assert {code, other} - set(draft.plan["code"])  # one of them is retired now


def test_refused_edit_shows_the_findings_and_cannot_be_saved(editor_db: str, engine) -> None:
    with engine.connect() as conn:
        code, geom = _busiest_micro_grid(conn, offset=5)
    c = geom.centroid
    stub = shapely.LineString([(c.x, c.y), (c.x + 1e-5, c.y + 1e-5)])  # inside the grid: cuts nothing
    at = _run(_editor_page)
    at.selectbox(key="editor.operation").set_value("split").run()
    at.text_area(key="editor.wkt").input(stub.wkt).run()
    at.button(key="editor.preview_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["editor.preview"] is None
    assert any("无法进行此编辑" in e.value for e in at.error)
    assert at.dataframe, "the findings are listed"
    assert not [b for b in at.button if b.key == "editor.save"]


def test_annex_needs_a_parent_and_transfer_takes_grids_from_the_drawing(editor_db: str, engine) -> None:
    with engine.connect() as conn:
        code, geom = _busiest_micro_grid(conn, offset=8)
        other = _neighbour_of(conn, code)
        b_geom = shapely.from_wkb(bytes(conn.execute(text("SELECT ST_AsBinary(geom) FROM grids WHERE code = :c"),
                                                     {"c": other}).scalar()))
    shared = shapely.intersection(shapely.boundary(geom), shapely.boundary(b_geom))
    middle = shapely.line_interpolate_point(shapely.line_merge(shared), 0.5, normalized=True)
    strip = shapely.intersection(b_geom, shapely.buffer(middle, 0.00015))  # a bite out of `other`
    at = _run(_editor_page)
    at.selectbox(key="editor.operation").set_value("annex").run()
    at.text_area(key="editor.wkt").input(strip.wkt).run()
    assert "请选择上级网格" in _texts(at)
    at.selectbox(key="editor.operation").set_value("transfer").run()
    # the strip lies in `other`; the receiver is the grid it overlaps next (none) → choose it
    at.selectbox(key="editor.transfer_to").set_value(code).run()
    assert f"涉及网格：{other}、{code}" in _texts(at)
    at.button(key="editor.preview_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    preview = at.session_state["editor.preview"]
    assert preview is not None and preview.operation == "transfer", _texts(at)
    assert {m.label for m in at.metric} >= {"调整住户", "调整事件", "受影响的人员分工"}
    assert "各网格员工作量均衡" in _texts(at)


def test_history_lists_changesets_and_rolls_back(editor_db: str, engine) -> None:
    with engine.connect() as conn:
        last_edit = conn.execute(text("SELECT id FROM changesets WHERE kind = 'edit' ORDER BY id DESC LIMIT 1")).scalar()
    assert last_edit is not None, "the editor tests above saved edits"
    at = _run(_history_page)
    assert at.title[0].value == "变更历史"
    table = at.dataframe[0].value
    assert int(table.iloc[0, 0]) == last_edit
    # the two-version comparison shows what the last edit changed, on both maps
    assert "新增" in _texts(at) and "停用" in _texts(at)
    # (version A, before the last edit, shows what was retired; B, now, no longer has it)
    _as_of, side_a, side_b = map_components(at)
    assert "gg-change-retired" in side_a["script"] and "gg-change-retired" not in side_b["script"]
    assert "gg-change-reshaped" in side_a["script"] and "gg-change-reshaped" in side_b["script"]
    at.selectbox(key="history.rollback_id").set_value(last_edit).run()
    at.button(key="history.rollback_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"已回退变更 #{last_edit}" in s.value for s in at.success), _texts(at)
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT kind FROM changesets ORDER BY id DESC LIMIT 1")).scalar()
        assert kind == "rollback"
    # rolling back the same changeset again is refused with a message, nothing written
    at.selectbox(key="history.rollback_id").set_value(last_edit).run()
    at.button(key="history.rollback_button").click().run()
    assert not at.exception
    assert at.error, _texts(at)
    # the map as of a date
    at.radio(key="history.mode").set_value("date").run()
    assert not at.exception
    assert any("个网格" in c.value for c in at.caption)


@pytest.mark.parametrize("typed", ["POLYGON((112.1 28.1, 112.2", "LINESTRING(a b, c d)", "not wkt at all"])
def test_a_malformed_wkt_is_a_clear_message_not_a_traceback(editor_db: str, typed: str) -> None:
    at = _run(_editor_page)
    at.selectbox(key="editor.operation").set_value("split").run()
    at.text_area(key="editor.wkt").input(typed).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = _texts(at)
    assert "无法识别输入的 WKT 图形" in texts, texts
    for internal in ("Traceback", "GEOS", "ParseException", "shapely", "Expected", "/work/"):
        assert internal not in texts, (internal, texts)
    assert not at.error  # not a failure of the page, a hint (nothing was sent)
    assert at.button(key="editor.preview_button").disabled


def test_split_carries_its_staff_the_planner_changes_one_and_the_result_is_shown(editor_db: str, engine) -> None:
    """Issue #13 point 4/7: the preview lists the split grid's staff with a proposal; the planner moves
    the worker to the other part in the table; saving moves them; the page shows the saved result."""
    from gis import clock

    with engine.connect() as conn:
        code, geom = _busiest_micro_grid(conn, offset=6)
        team = conn.execute(text(
            "SELECT count(*) FROM staff_assignments WHERE grid_code = :c AND end_date IS NULL"), {"c": code}).scalar()
    assert team >= 5
    at = _run(_editor_page)
    at.selectbox(key="editor.operation").set_value("split").run()
    at.text_area(key="editor.wkt").input(_line_across(geom).wkt).run()
    at.button(key="editor.preview_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    preview = at.session_state["editor.preview"]
    moves = preview.staff_moves
    assert len(moves) == team and f"随边界调整的人员（{team} 人次）" in _texts(at)
    assert "新网格的岗位情况" in _texts(at) and set(preview.staff_flags["status"]) == {"shared"}
    worker_row = int(moves.index[moves["role"] == "micro_worker"][0])
    worker_id = int(moves.at[worker_row, "assignment_id"])
    other = next(c for c in preview.result.added if c != moves.at[worker_row, "to_codes"][0])
    round_ = at.session_state["editor.round"]
    at.session_state[f"editor.staff.{round_}"] = {
        "edited_rows": {worker_row: {"去向（首个为主网格）": other}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    changed = at.session_state["editor.preview"].staff_moves.set_index("assignment_id")
    assert changed.at[worker_id, "to_codes"] == (other,) and changed.at[worker_id, "rule"] == "planner"
    at.text_input(key="editor.reason").input("拆分并调整人员").run()
    at.button(key="editor.save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    texts = _texts(at)
    assert any("已保存变更集" in s.value for s in at.success) and "已保存的变更 #" in texts
    assert f"→ {other}" in texts
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM staff_assignments WHERE grid_code = :c AND (end_date IS NULL OR end_date >= :d)"),
            {"c": code, "d": clock.today()}).scalar() == 0
        assert conn.execute(text(
            "SELECT grid_code FROM staff_assignments WHERE id > :i AND role = 'micro_worker' "
            "AND staff_id = (SELECT staff_id FROM staff_assignments WHERE id = :i)"), {"i": worker_id}).scalar() == other
