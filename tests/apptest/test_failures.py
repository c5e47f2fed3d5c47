"""A failure a page does not handle is one message in the reader's language, never a traceback (issue #14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_support import logged_in
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def _fail_with(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> AppTest:
    from app_pages import electronic_map

    def render() -> None:
        raise exc

    monkeypatch.setattr(electronic_map, "render", render)
    at = logged_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=90))
    at.run()
    return at


def test_an_unexpected_error_is_one_message(app_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _fail_with(monkeypatch, RuntimeError("boom: internal detail"))
    assert not at.exception, [e.value for e in at.exception]
    import re

    assert len(at.error) == 1 and "页面出错" in at.error[0].value
    assert re.search(r"错误编号 [0-9a-f]{8}", at.error[0].value), at.error[0].value  # the id logged with the traceback
    assert "boom" not in at.error[0].value and "RuntimeError" not in at.error[0].value  # no internals


def test_a_lost_database_connection_is_one_message(app_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg
    from sqlalchemy.exc import OperationalError

    lost = OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly"))
    at = _fail_with(monkeypatch, lost)
    assert not at.exception, [e.value for e in at.exception]
    text = at.error[0].value
    assert len(at.error) == 1 and "连接中断" in text and "未写入任何内容" in text, text
    assert "gridgov" not in text and "server closed" not in text  # worded by its code, no CLI hint
