"""Every page, as every role, in Chinese: no English sentence, raw key, None/nan, traceback or CLI flag (issue #13.6).

Each page a role's navigation offers (``app.pages_for``) is run with AppTest, logged in as a demo
account of that role, in zh (the default). The text a person reads is gathered from the run —
titles, headers, markdown, captions, alerts, widget labels and options, metrics, tab and expander
labels, and the column names and text cells of tables — and scanned (:func:`zh_scan.problems_in`,
shared with the browser scan tests/e2e/test_zh_browser.py) for

* an English sentence: three or more English words in a row (data values such as grid names and
  account names are Chinese or codes, so any such run is UI text that was not translated);
* a raw key: a domain code shown instead of its label (``dispute``, ``reported``, ``worker`` …) or a
  catalogue key (``nav.map``);
* ``None``, ``nan``, ``NaN``, ``NaT``;
* ``Traceback`` or a server path;
* a command-line flag (``--by``, ``--expected-version``).

The scan itself is checked on planted text, so the test can fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from apptest_support import session_for
from streamlit.testing.v1 import AppTest
from zh_scan import DEMO_ACCOUNTS, problems_in

pytestmark = pytest.mark.db

TIMEOUT = 180

#: One demo account per role (README: the demo accounts).
ACCOUNTS = DEMO_ACCOUNTS

#: Demo account names that are also role codes (``admin``, ``police`` …): as a whole value (the account
#: column of the admin page) they are data, not a role key shown unlabelled.
ACCOUNT_NAMES = set(ACCOUNTS.values())


def _attr(element: object, *names: str) -> Iterator[str]:
    for name in names:
        try:
            value = getattr(element, name)
        except Exception:  # noqa: BLE001 - an element kind without that attribute
            continue
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            yield from (str(v) for v in value)
        else:
            yield str(value)


def _frame_texts(frame: pd.DataFrame) -> Iterator[str]:
    yield from (str(c) for c in frame.columns)
    if frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex):
        yield from (str(i) for i in frame.index)
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            for value in values.head(200):
                if value is None or (isinstance(value, float) and value != value):
                    yield "None"  # what the grid would show
                elif isinstance(value, str):
                    yield value


def shown_texts(at: AppTest) -> list[str]:
    """Everything a person reads on the run's page (see the module docstring)."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "success", "info", "warning",
                 "error", "exception", "latex"):
        for element in getattr(at, kind, []):
            out += list(_attr(element, "value"))
    for kind in ("button", "checkbox", "toggle", "text_input", "text_area", "number_input", "date_input",
                 "time_input", "color_picker", "slider", "select_slider"):
        for element in getattr(at, kind, []):
            out += list(_attr(element, "label", "help", "placeholder"))
    for kind in ("selectbox", "multiselect", "radio"):
        for element in getattr(at, kind, []):
            out += list(_attr(element, "label", "help", "placeholder", "options"))
    for element in at.metric:
        out += list(_attr(element, "label", "value", "delta"))
    for element in at.tabs:
        out += list(_attr(element, "label"))
    for element in at.expander:
        out += list(_attr(element, "label"))
    for kind in ("dataframe", "table"):
        for element in getattr(at, kind, []):
            try:
                frame = element.value
            except Exception:  # noqa: BLE001
                continue
            if isinstance(frame, pd.DataFrame):
                out += list(_frame_texts(frame))
    for element in at.get("download_button"):
        out += list(_attr(element, "label"))
    return [t for t in out if t]


def _page(module: str) -> None:
    import importlib

    importlib.import_module(f"app_pages.{module}").render()


def _cases() -> list[tuple[str, str]]:
    from app import pages_for

    return [(role, module) for role in ACCOUNTS for section in pages_for(role).values() for module, _, _ in section]


@pytest.fixture(scope="module")
def tokens(app_db: str) -> dict[str, str]:
    return {role: session_for(account) for role, account in ACCOUNTS.items()}


@pytest.mark.parametrize(("role", "module"), _cases())
def test_every_page_as_every_role_is_chinese_with_no_internals(tokens: dict[str, str], role: str, module: str) -> None:
    at = AppTest.from_function(_page, args=(module,), default_timeout=TIMEOUT)
    at.session_state["auth.token"] = tokens[role]
    at.session_state["ui.lang"] = "zh"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = shown_texts(at)
    assert at.title and texts, f"{module} as {role} rendered nothing"
    bad = sorted({f"{p} in {t[:120]!r}" for t in texts for p in problems_in(t)
                  if not (t in ACCOUNT_NAMES and p.startswith("raw code"))})
    assert bad == [], f"{module} as {role} ({ACCOUNTS[role]}):\n" + "\n".join(bad)


def test_the_app_shell_of_each_role_is_chinese(tokens: dict[str, str]) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for role in ("worker", "leader", "planner"):
        at = AppTest.from_file(str(root / "app.py"), default_timeout=TIMEOUT)
        at.session_state["auth.token"] = tokens[role]
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        texts = shown_texts(at) + [str(e.value) for e in at.sidebar.caption]
        bad = sorted({p for t in texts for p in problems_in(t)})
        assert bad == [], (role, bad)


@pytest.mark.parametrize("planted", [
    "操作未执行：actor is empty; say who makes the change (--by NAME)",
    "类别：dispute",
    "状态：reported",
    "负责人：None",
    "超期 nan 小时",
    'Traceback (most recent call last):\n  File "/work/main/app.py", line 3',
    "请使用 --expected-version",
    "nav.map",
])
def test_the_scan_finds_what_it_looks_for(planted: str) -> None:
    assert problems_in(planted), planted


@pytest.mark.parametrize("fine", [
    "网格 430603003002001002 擂鼓台社区第一网格2号微网格", "账号：worker-001（微网格员）", "语言 / Language",
    "面积（平方米）", "2026-11-30 18:05", "已办结 12 件，办结率 85.0%", "下载公示卡（PNG）",
])
def test_the_scan_lets_chinese_text_data_and_codes_pass(fine: str) -> None:
    assert problems_in(fine) == [], fine

