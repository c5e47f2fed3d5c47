"""The street-practice pages of issue #17 driven with AppTest on a demo copy of their own, each main
action with its visible result checked against the database (owner SQL) or the service:

* a notice a grid head publishes shows on the home of a worker in the targeted grid, not on another
  grid's; marking it read takes the worker off the not-read list of the notices page;
* a spot-check outcome recorded by the inspector shows in the work list, and a failure creates a
  reminder talk (listed, and in the database);
* an evaluation round opened by the planner lists its code count (= the households of its grid) and
  its codes CSV gives each code's public address;
* the assessment page's three-in-one total of a worker the leader rated equals the service's.
"""

from __future__ import annotations

import pytest
import pandas as pd
from apptest_support import SESSION, logged_in, page_texts, session_for
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.db

TIMEOUT = 180


def _home() -> None:
    from app_pages import home

    home.render()


def _notices() -> None:
    from app_pages import notices

    notices.render()


def _spotchecks() -> None:
    from app_pages import spotchecks

    spotchecks.render()


def _talks() -> None:
    from app_pages import talks

    talks.render()


def _overview() -> None:
    from app_pages import overview

    overview.render()


def _evaluation() -> None:
    from app_pages import evaluation

    evaluation.render()


def _assessment() -> None:
    from app_pages import assessment

    assessment.render()


def _run(page, account: str, **state) -> AppTest:
    at = logged_in(AppTest.from_function(page, default_timeout=TIMEOUT), session_for(account))
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _submit(at: AppTest, label_key: str) -> AppTest:
    from i18n.catalogue import translate

    label = translate(label_key, "zh")
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no button {label!r}"
    buttons[0].click().run()
    return at


def _table(at: AppTest, column: str):
    """The first table of the run with ``column`` (zh label)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a column {column!r}")


def _not_read(at: AppTest):
    """The not-read list of the notices page (staff, grid, role)."""
    from i18n.catalogue import translate

    wanted = {translate("field.staff", "zh"), translate("field.role", "zh")}
    for frame in at.dataframe:
        if wanted <= set(frame.value.columns):
            return frame.value
    raise AssertionError("the not-read list is not shown")


@pytest.fixture(scope="module")
def owner(private_demo_db: str):
    engine = create_engine(private_demo_db)

    def run(query: str, **params):
        with engine.begin() as conn:
            return conn.execute(text(query), params).all()

    yield run
    engine.dispose()


def test_notice_reaches_its_grid_only_and_reading_it_leaves_the_not_read_list(owner) -> None:
    from i18n.catalogue import translate

    (grid,), = owner("SELECT s.grid_code FROM accounts a JOIN staff_assignments s ON s.staff_id = a.staff_id "
                     "WHERE a.name = 'head-001' AND s.end_date IS NULL AND s.role = 'grid_head' ORDER BY s.grid_code LIMIT 1")
    (inside, inside_name), = owner(
        "SELECT a.name, st.name FROM accounts a JOIN staff st ON st.id = a.staff_id JOIN staff_assignments s "
        "ON s.staff_id = a.staff_id WHERE a.role = 'worker' AND s.end_date IS NULL AND s.grid_code LIKE :p "
        "ORDER BY a.name LIMIT 1", p=grid + "%")
    (outside,), = owner(
        "SELECT a.name FROM accounts a WHERE a.role = 'worker' AND NOT EXISTS (SELECT 1 FROM staff_assignments s "
        "WHERE s.staff_id = a.staff_id AND s.end_date IS NULL AND s.grid_code LIKE :p) ORDER BY a.name LIMIT 1",
        p=grid + "%")
    title = "停水通知 AppTest"

    at = _run(_notices, "head-001")
    at.selectbox(key="notices.kind.0").set_value("street_work")
    at.text_input(key="notices.title.0").input(title)
    at.text_area(key="notices.body.0").input("明日9时至17时停水，请提前储水。")
    at.multiselect(key="notices.grids.0").select(grid)
    _submit(at, "sp.notice.publish_button")
    _ok(at)
    (notice_id, author, targets), = owner(
        "SELECT n.id, n.author, array_agg(t.grid_code) FROM notices n JOIN notice_targets t ON t.notice_id = n.id "
        "WHERE n.title = :t GROUP BY n.id", t=title)
    assert author == "head-001" and targets == [grid]
    assert translate("sp.notice.published", "zh", id=notice_id, title=title) in page_texts(at)
    unread = _not_read(at)
    assert inside_name in set(unread[translate("field.staff", "zh")])
    assert "【街道工作】停水通知 AppTest" in "\n".join(c.value for c in at.code)  # the WeChat text

    home = _run(_home, inside)
    assert title in page_texts(home)
    assert home.button(key=f"home.notice_read.{notice_id}").label == translate("sp.notice.mark_read", "zh")
    other = _run(_home, outside)
    assert title not in page_texts(other)
    assert not [b for b in other.button if b.key == f"home.notice_read.{notice_id}"]

    home.button(key=f"home.notice_read.{notice_id}").click().run()
    _ok(home)
    assert owner("SELECT count(*) FROM notice_reads r JOIN accounts a ON a.staff_id = r.staff_id "
                 "WHERE r.notice_id = :n AND a.name = :w", n=notice_id, w=inside)[0][0] == 1
    assert not [b for b in home.button if b.key == f"home.notice_read.{notice_id}"]
    assert translate("sp.notice.marked", "zh", title=title) in page_texts(home)

    again = _run(_notices, "head-001", **{"notices.pick": int(notice_id)})
    unread_now = _not_read(again)
    assert inside_name not in set(unread_now[translate("field.staff", "zh")])
    assert len(unread_now) == len(unread) - 1


def test_spot_check_outcome_is_listed_and_a_failure_gives_a_reminder_talk(owner) -> None:
    from i18n.catalogue import translate

    at = _run(_spotchecks, "inspector")
    at.text_input(key="spot.seed").input("20261201")
    _submit(at, "sp.spot.draw_button")
    _ok(at)
    (draw_id, seed, items), = owner("SELECT d.id, d.seed, count(i.id) FROM spot_check_draws d "
                                    "JOIN spot_check_items i ON i.draw_id = d.id GROUP BY d.id ORDER BY d.id DESC LIMIT 1")
    assert seed == 20261201 and items > 0
    assert "20261201" in page_texts(at)
    (item_id, order, staff_name), = owner("SELECT i.id, i.ord, s.name FROM spot_check_items i JOIN staff s ON s.id = i.staff_id "
                                   "WHERE i.draw_id = :d ORDER BY i.ord LIMIT 1", d=draw_id)
    assert at.selectbox(key="spot.item.0").value == item_id
    at.selectbox(key="spot.outcome.0").set_value("not_visited")
    at.selectbox(key="spot.method.0").set_value("door")
    at.text_area(key="spot.note.0").input("住户称本月无人上门")
    _submit(at, "sp.spot.record")
    _ok(at)
    (outcome, method, talk_staff, talk_status), = owner(
        "SELECT o.outcome, o.method, t.staff_id, t.status FROM spot_check_outcomes o "
        "JOIN reminder_talks t ON t.outcome_id = o.id WHERE o.item_id = :i", i=item_id)
    assert (outcome, method, talk_status) == ("not_visited", "door", "open")
    work = _table(at, translate("sp.spot.outcome", "zh"))
    recorded = work.loc[work[translate("sp.spot.order", "zh")] == order]
    assert recorded[translate("sp.spot.outcome", "zh")].iloc[0] == translate("spot_outcome.not_visited", "zh")
    assert recorded[translate("sp.spot.note", "zh")].iloc[0] == "住户称本月无人上门"
    talks = _table(at, translate("sp.talk.leader", "zh"))
    assert staff_name in set(talks[translate("field.staff", "zh")])
    assert translate("task_status.open", "zh") in set(talks[translate("sp.talk.status", "zh")])

    # the leader the talk names holds it and marks it done on the reminder-talks page
    (talk_id, leader), = owner("SELECT t.id, a.name FROM reminder_talks t JOIN spot_check_outcomes o ON o.id = t.outcome_id "
                               "JOIN accounts a ON a.staff_id = t.leader_id WHERE o.item_id = :i ORDER BY a.name LIMIT 1",
                               i=item_id)
    page = _run(_talks, leader)
    assert page.selectbox(key="talks.pick.0").value == talk_id
    page.text_area(key="talks.note.0").input("已谈话，要求如实记录走访")
    _submit(page, "sp.talk.done_button")
    _ok(page)
    assert owner("SELECT status, note, done_by FROM reminder_talks WHERE id = :t", t=talk_id)[0] == (
        "done", "已谈话，要求如实记录走访", leader)
    assert translate("sp.talk.done", "zh", id=talk_id) in page_texts(page)


def test_evaluation_round_opened_lists_its_code_count(owner) -> None:
    from i18n.catalogue import translate

    (grid, households), = owner(
        "SELECT g.code, count(h.id) FROM grids g JOIN households h ON h.grid_code LIKE g.code || '%' "
        "WHERE g.level = 2 GROUP BY g.code ORDER BY g.code LIMIT 1")
    at = _run(_evaluation, "planner")
    at.multiselect(key="eval_admin.grids").set_value([grid])
    at.text_input(key="eval_admin.title").input("AppTest 测评")
    _submit(at, "sp.eval.open_button")
    _ok(at)
    (round_id,), = owner("SELECT id FROM evaluation_rounds WHERE title = 'AppTest 测评'")
    rounds = _table(at, translate("sp.eval.codes", "zh"))
    row = rounds.loc[rounds["ID"] == round_id]
    assert int(row[translate("sp.eval.codes", "zh")].iloc[0]) == households > 0
    made_round, count, csv = at.session_state["eval_admin.codes"]
    assert (made_round, count) == (round_id, households)
    lines = csv.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == households + 1
    assert f"/public/evaluate?round={round_id}&code=" in lines[1]
    assert translate("sp.eval.codes_ready", "zh", id=round_id, count=households) in page_texts(at)


def test_assessment_shows_the_three_in_one_total_of_the_service(owner) -> None:
    from i18n.catalogue import translate
    from services.auth import owner_session
    from services.three_in_one import compute

    period = _run(_assessment, "leader").selectbox(key="tio.period").options[1]  # last month (has visits)
    at = _run(_assessment, "leader", **{"tio.period": period})
    staff_id = at.selectbox(key="tio.rate_staff.0").value
    at.number_input(key="tio.rating.0").set_value(86.0)
    _submit(at, "sp.tio.rate_button")
    _ok(at)
    assert owner("SELECT rating, rated_by FROM leader_ratings WHERE staff_id = :s AND period = :p", s=staff_id,
                 p=period)[0] == (86, "leader")
    owner_engine, app_engine = SESSION["engines"]
    result, _inputs = compute(app_engine, owner_session(owner_engine, app_engine, "leader"), period)
    expected = result.workers.set_index("staff_id").loc[int(staff_id)]
    assert pd.notna(expected["total"]) and not expected["pending"]  # rated: no longer pending
    table = next(f.value for f in at.dataframe if {"ID", translate("sp.tio.awards", "zh")} <= set(f.value.columns))
    shown = table.loc[table["ID"] == int(staff_id)]
    assert len(shown) == 1
    assert shown[translate("tio.total", "zh")].iloc[0] == f"{expected['total']:.2f}"
    assert shown[translate("sp.tio.grade", "zh")].iloc[0] == translate(f"grade.{expected['grade']}", "zh")


def test_completeness_check_on_the_workers_home_counts_their_to_dos(owner) -> None:
    from i18n.catalogue import translate

    worker = "worker-001"
    home = _run(_home, worker)
    assert home.get("metric") and translate("sp.todo.verified_share", "zh") in [m.label for m in home.metric]
    home.button(key="home.completeness_check").click().run()
    _ok(home)
    (count,), = owner("SELECT count(*) FROM completeness_todos t JOIN accounts a ON a.staff_id = t.staff_id "
                      "WHERE a.name = :w", w=worker)
    shown = {m.label: m.value for m in home.metric}
    assert shown[translate("sp.todo.count", "zh")] == str(count)
    overview = _run(_overview, "leader")
    table = _table(overview, translate("sp.todo.verified_share", "zh"))
    (grids,), = owner("SELECT count(DISTINCT grid_code) FROM households WHERE grid_code IS NOT NULL")
    assert len(table) == grids
