"""The public, login-free pages in headless Debian Chromium on a phone (390×844, touch), served by
``streamlit run serve.py`` as residents reach them: the QR link of an evaluation slip, answered by
taps and submitted once; an incident's status by its reference; a grid's contact card with a notice.
No login, no sideways scroll, tap targets of at least 44 px; answers checked against SQL.
Screenshots: var/artifacts/public-phone-<step>.png."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from harness import PHONE, offline_tab, running_app
from harness import artifacts as _artifacts
from sqlalchemy import text

from testdb import demo_copy

pytestmark = [pytest.mark.e2e, pytest.mark.db]


@pytest.fixture(scope="module")
def public_db(throwaway_databases, demo_data) -> Iterator[dict]:
    """A demo copy with an open evaluation round (its slips kept here, as the printed slips would be),
    a public notice on one micro-grid, and an incident with a reference code and a reply."""
    from governance.feedback import format_reference
    from governance.notices import Notice
    from services import evaluation, notices
    from services.auth import owner_session
    from services.incidents import report_incident
    from store.engine import OWNER, make_engine

    url = demo_copy(throwaway_databases, demo_data)
    owner = make_engine(url, role=OWNER)
    app = make_engine(throwaway_databases.app_url(url))
    try:
        with owner.connect() as db:
            grid = db.execute(text(
                "SELECT grid_code FROM households WHERE grid_code IS NOT NULL GROUP BY grid_code "
                "HAVING count(*) >= 5 ORDER BY grid_code LIMIT 1")).scalar_one()
            lon, lat = db.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids "
                                       "WHERE code = :c) s"), {"c": grid}).one()
        now = dt.datetime.now(dt.UTC)
        planner = owner_session(owner, app, "planner")
        row = evaluation.open_round(app, planner, title="2026年第四季度网格员民主测评", period="2026-Q4",
                                    grid_codes=[grid], opens_at=now - dt.timedelta(hours=1),
                                    closes_at=now + dt.timedelta(days=14))
        slips = evaluation.issue_codes(app, planner, row.id).slips
        notices.publish(app, owner_session(owner, app, "leader"), Notice(
            id=None, kind="public_safety", title="冬季用火用电安全提示",
            body="天气干燥，请勿私拉电线、楼道充电；发现隐患请联系网格员。",
            valid_from=now - dt.timedelta(hours=1), valid_to=now + dt.timedelta(days=10), grid_codes=(grid,)))
        reported = report_incident(app, owner_session(owner, app, "admin"), lon=float(lon), lat=float(lat),
                                      category="municipal", description="路灯不亮，联系人李建国 13700001234",
                                      address="和平里5号楼东侧", reporter_name="李建国")
        incident_id, reference = reported.id, reported.reference  # the reporter's code, given by the report
        with owner.begin() as db:  # test set-up: the incident handled, with a public reply
            db.execute(text("UPDATE incidents SET status = 'handled', disposition = 'research_assign', "
                            "public_reply = '已联系市政维修，路灯于当日修复。' WHERE id = :i"),
                       {"i": incident_id})
        yield {"url": url, "round": row.id, "slips": slips, "grid": grid, "reference": format_reference(reference)}
    finally:
        owner.dispose()
        app.dispose()


@pytest.fixture(scope="module")
def app_url(public_db: dict) -> Iterator[str]:
    with running_app(public_db["url"], log_name="e2e-public-streamlit.log") as base:
        yield base


def _shot(page, step: str) -> None:
    page.screenshot(path=str(_artifacts() / f"public-phone-{step}.png"), full_page=True)


def _fits_the_phone(page) -> None:
    """No sideways scroll; every button, choice and link button at least 44 px high."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    small = page.evaluate(
        "() => [...document.querySelectorAll('button, label.choice, a.button, header a, input[type=text]')]"
        ".map(e => [e.textContent.trim().slice(0, 20), e.getBoundingClientRect().height])"
        ".filter(([_, h]) => h < 44)")
    assert small == [], f"tap targets under 44 px: {small}"


def _one(url: str, sql: str, **params):
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).one()
    finally:
        engine.dispose()


def test_resident_answers_from_the_qr_link_on_a_phone(browser, app_url: str, public_db: dict) -> None:
    slip = public_db["slips"][0]
    link = f"{app_url}/public/evaluate?round={public_db['round']}&code={slip.code}"
    before = _one(public_db["url"], "SELECT count(*) AS n FROM evaluation_responses WHERE round_id = :r",
                  r=public_db["round"]).n
    with offline_tab(browser, **PHONE) as state:
        page = state.page
        page.goto(link)
        page.get_by_role("heading", name="网格服务群众满意度测评").wait_for(timeout=30_000)
        _shot(page, "1-questions")
        _fits_the_phone(page)
        assert page.url.startswith(link.split("?")[0]) and "/login" not in page.url  # no login asked
        groups = page.locator("fieldset")
        groups.nth(0).get_by_text("很满意").tap()
        groups.nth(1).get_by_text("满意", exact=True).tap()
        groups.nth(2).get_by_text("不了解，跳过").tap()
        groups.nth(3).get_by_text("知道", exact=True).tap()
        page.locator("textarea#comment").fill("网格员上门很及时，谢谢！")
        assert page.locator("input[name=service]:checked").get_attribute("value") == "5"
        _shot(page, "2-answered")
        page.get_by_role("button", name="提交").tap()
        page.wait_for_url("**/public/evaluate/done**", timeout=30_000)
        page.get_by_text("提交成功，感谢您的参与！").wait_for(timeout=10_000)
        _shot(page, "3-thanks")
        _fits_the_phone(page)
        # the slip again: refused in words
        page.goto(link)
        page.get_by_text("这个测评码已经提交过，每个测评码只能提交一次。").wait_for(timeout=10_000)
        _shot(page, "4-used")
        _fits_the_phone(page)
        assert state.external == [] and state.console_errors == []
    stored = _one(public_db["url"], "SELECT count(*) AS n, max(service) AS service, max(responsiveness) AS resp, "
                                    "bool_and(knows_worker) AS knows, max(comment) AS comment, max(grid_code) AS grid "
                                    "FROM evaluation_responses WHERE round_id = :r", r=public_db["round"])
    assert stored.n == before + 1
    assert (stored.service, stored.resp, stored.knows, stored.comment, stored.grid) == (
        5, 4, True, "网格员上门很及时，谢谢！", slip.grid_code)


def test_status_and_contact_card_on_a_phone(browser, app_url: str, public_db: dict) -> None:
    with offline_tab(browser, **PHONE) as state:
        page = state.page
        page.goto(f"{app_url}/public/status")
        page.get_by_label("请输入回执上的查询码").fill(public_db["reference"].replace("-", "").lower())
        page.get_by_role("button", name="查询").tap()
        page.get_by_text("已联系市政维修，路灯于当日修复。").wait_for(timeout=30_000)
        _shot(page, "5-status")
        _fits_the_phone(page)
        body = page.inner_text("body")
        assert "已处置" in body and "研究交办" in body and "市政设施" in body
        assert not [p for p in ("李建国", "13700001234", "和平里", "路灯不亮") if p in body]

        page.goto(f"{app_url}/public/grid/{public_db['grid']}")
        page.get_by_role("heading", name="网格公示卡").wait_for(timeout=30_000)
        page.get_by_text("冬季用火用电安全提示").wait_for(timeout=10_000)
        _shot(page, "6-card")
        _fits_the_phone(page)
        assert page.locator("ul.contacts li").count() >= 1
        page.get_by_role("link", name="参加网格服务满意度测评").tap()
        page.get_by_label("请输入测评纸条上的测评码").wait_for(timeout=10_000)
        page.get_by_role("link", name="English").tap()
        page.get_by_role("heading", name="Residents' evaluation of grid services").wait_for(timeout=10_000)
        _shot(page, "7-evaluate-en")
        _fits_the_phone(page)
        assert state.external == [] and state.console_errors == []
