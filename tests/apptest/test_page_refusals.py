"""The page part of the permission matrix (issue 12, point 10), driven through the whole app with AppTest.

For every role (its demo account, logged in: the role comes from the database) every page of
``app.PAGES`` is requested by its address, as a person typing or bookmarking ``/editor`` would —
the browser asks the server for the page whose script hash is the hash of its url path, which is
what ``at._page_hash`` sets (AppTest's public ``switch_page`` only knows file pages). A page the
role may not open must show its title and the catalogue's refusal (zh, and en after the switch),
naming the role and what it may not do, and nothing else: no table, map, metric, chart or download.
A page the role may open must render without an exception and without a refusal. Expectations
come from :func:`access.permissions.may` and ``app.PAGES``; the pinned cells of
``tests/db/test_permissions.py`` pin the matrix itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_support import logged_in, session_for
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

import app
from access.permissions import ROLES, PermissionDenied, may
from i18n.catalogue import describe_error, translate

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120
ACCOUNTS = {
    "admin": "admin", "leader": "leader", "planner": "planner", "grid_head": "head-001", "worker": "worker-001",
    "police": "police", "doctor": "doctor", "supervisor": "supervisor", "coordinator": "coordinator",
    "inspector": "inspector",
}
#: Elements a refused page may show in its main area: its title, the refusal, the phone layout's CSS.
REFUSAL_ELEMENTS = {"title", "error", "html"}


def _pages() -> list[tuple[str, str, str]]:
    """(title key, url path, permission) of every page."""
    return [(title, path, permission) for entries in app.PAGES.values() for _m, title, path, permission in entries]


def _leaves(node) -> list:  # noqa: ANN001 - an AppTest tree node
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [leaf for child in children.values() for leaf in _leaves(child)]


def refusal_text(role: str, title_key: str, permission: str, lang: str = "zh") -> str:
    error = describe_error(PermissionDenied(role, permission), lang).rstrip("。.")
    return translate("page.refused", lang, page=translate(title_key, lang), error=error)


def _open(at: AppTest, path: str) -> AppTest:
    at._page_hash = calc_hash(path)  # what the browser sends for the address /<path>
    return at.run()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_by_its_address(role: str, app_db: str) -> None:
    assert set(ACCOUNTS) == set(ROLES)
    at = logged_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT), session_for(ACCOUNTS[role]))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    problems = []
    refused = 0
    shown: dict[str, str] = {}  # allowed page → its title: each address shows its own page, not the landing one
    for title_key, path, permission in _pages():
        _open(at, path)
        if at.exception:
            problems.append(f"{path}: {[e.value for e in at.exception][:1]}")
            continue
        errors = [e.value for e in at.error]
        if may(role, permission):
            if not at.title or any("无权" in e for e in errors):
                problems.append(f"{path}: allowed, but shows {[x.value for x in at.title]} {errors}")
            else:
                shown[path] = at.title[0].value
            continue
        refused += 1
        want = refusal_text(role, title_key, permission)
        kinds = {leaf.type for leaf in _leaves(at.main)}
        if [x.value for x in at.title] != [translate(title_key, "zh")] or errors != [want]:
            problems.append(f"{path}: expected the title and {want!r}, got {[x.value for x in at.title]} {errors}")
        if kinds - REFUSAL_ELEMENTS:
            problems.append(f"{path}: refused, but the page also shows {sorted(kinds - REFUSAL_ELEMENTS)}")
        if at.dataframe or at.metric or at.get("component_instance") or at.get("download_button"):
            problems.append(f"{path}: refused, but data reached the page")
    assert not problems, f"{role}:\n" + "\n".join(problems)
    assert len(set(shown.values())) == len(shown), shown
    assert refused == sum(not may(role, p) for _t, _p, p in _pages())
    if refused:  # the refusal follows the language switch
        title_key, path, permission = next(e for e in _pages() if not may(role, e[2]))
        at.sidebar.radio(key="ui.lang").set_value("en").run()
        _open(at, path)
        assert not at.exception
        assert [e.value for e in at.error] == [refusal_text(role, title_key, permission, "en")]


def test_every_role_is_refused_somewhere_but_admin() -> None:
    """The table above is not vacuous: each role but admin has pages it may not open (and admin none)."""
    for role in ROLES:
        refused = app.refused_pages_for(role)
        assert bool(refused) == (role != "admin"), role
        assert {p for _m, _t, p, _x in refused}.isdisjoint(
            {p for entries in app.pages_for(role).values() for _m, _t, p in entries})
