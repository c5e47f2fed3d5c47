"""A notice on a worker's home (我的工作台) on a phone (390×844, touch), in headless Debian Chromium:
the street leader publishes it to the worker's micro-grid, the worker sees its kind, title, text and
validity above the map and taps 我已阅读; the read receipt is in the database. Screenshots:
var/artifacts/street-home-notice-phone-<step>.png."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from harness import PHONE, log_in, offline_tab, running_app, settle
from harness import artifacts as _artifacts
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.e2e, pytest.mark.db]

WORKER = "worker-001"
TITLE = "冬季用电安全提醒"
BODY = "入冬以来电暖器使用增多，请勿私拉乱接电线，人走断电。如发现隐患请联系网格员。"


@pytest.fixture(scope="module")
def notice_db(throwaway_databases, demo_data) -> Iterator[dict]:
    """A demo copy with one current notice the street leader sent to worker-001's micro-grid."""
    from testdb import demo_copy

    from governance.notices import Notice
    from services.auth import owner_session
    from services.notices import publish
    from store.engine import OWNER, make_engine

    url = demo_copy(throwaway_databases, demo_data)
    owner = make_engine(url, role=OWNER)
    app = make_engine(throwaway_databases.app_url(url))
    try:
        with owner.connect() as conn:
            staff_id, code = conn.execute(text(
                "SELECT a.staff_id, s.grid_code FROM accounts a JOIN staff_assignments s ON s.staff_id = a.staff_id "
                "WHERE a.name = :n AND s.end_date IS NULL AND s.role = 'micro_worker' ORDER BY s.grid_code LIMIT 1"),
                {"n": WORKER}).one()
        now = dt.datetime.now(dt.UTC)
        notice_id = publish(app, owner_session(owner, app, "leader"), Notice(
            id=None, kind="public_safety", title=TITLE, body=BODY, valid_from=now - dt.timedelta(hours=1),
            valid_to=now + dt.timedelta(days=10), grid_codes=(code,)))
    finally:
        owner.dispose()
        app.dispose()
    yield {"url": url, "staff_id": staff_id, "code": code, "notice_id": notice_id}


def test_worker_reads_a_notice_on_the_phone(browser, notice_db: dict) -> None:
    with running_app(notice_db["url"], log_name="e2e-street-notice-streamlit.log") as base, \
            offline_tab(browser, **PHONE) as state:
        page = state.page
        log_in(page, base, WORKER)
        page.get_by_role("heading", name="我的工作台").wait_for(timeout=60_000)
        box = page.locator(".st-key-home-notices")
        box.wait_for(timeout=60_000)
        settle(page)
        text_shown = box.inner_text()
        assert f"【公共安全】{TITLE}" in text_shown and BODY in text_shown and "有效期" in text_shown
        unread = re.search(r"(\d+) 条未读", text_shown)  # the demo's own notices for the grid are unread too
        assert unread and int(unread.group(1)) >= 1, text_shown
        assert text_shown.index(TITLE) < text_shown.index("我已阅读"), "the newest notice is not the first"
        notice_box = box.bounding_box()
        assert notice_box["x"] >= 0 and notice_box["x"] + notice_box["width"] <= PHONE["viewport"]["width"] + 1
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the page scrolls sideways: {width}"
        page.screenshot(path=str(_artifacts() / "street-home-notice-phone-1-unread.png"))
        box.get_by_role("button", name="我已阅读").first.click()  # the newest notice: this test's
        page.get_by_text("已标记为已读").first.wait_for(timeout=60_000)
        settle(page)
        page.screenshot(path=str(_artifacts() / "street-home-notice-phone-2-read.png"))
        assert f"{int(unread.group(1)) - 1} 条未读" in page.locator(".st-key-home-notices").inner_text()
        engine = create_engine(notice_db["url"])
        try:
            with engine.connect() as conn:
                reads = conn.execute(text("SELECT count(*) FROM notice_reads WHERE notice_id = :n AND staff_id = :s"),
                                     {"n": notice_db["notice_id"], "s": notice_db["staff_id"]}).scalar_one()
        finally:
            engine.dispose()
        assert reads == 1
        assert state.external == [] and state.dialogs == []
