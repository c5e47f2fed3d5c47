"""Helpers shared by the AppTest modules (pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest


#: The session every page run logs in with (set by ``conftest.app_pointed_at``).
SESSION: dict = {"token": None, "engines": None}


def logged_in(at: AppTest, token: str | None = None) -> AppTest:
    """``at`` with a login session (the one of :data:`SESSION` unless ``token`` is given)."""
    chosen = token if token is not None else SESSION["token"]
    if chosen:
        at.session_state["auth.token"] = chosen
    return at


def session_for(account: str, *, minutes: int = 60) -> str:
    """A new session token for demo account ``account`` on the database the app points at."""
    from services.auth import owner_session

    owner, app = SESSION["engines"]
    return owner_session(owner, app, account, minutes=minutes).session_token


def run_page(fn: Callable[[], None], *, timeout: float, token: str | None = None) -> AppTest:
    """Run a page function once with AppTest, logged in; fail on any exception the page raised."""
    at = logged_in(AppTest.from_function(fn, default_timeout=timeout), token)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_texts(at: AppTest) -> str:
    """Every markdown, caption, subheader and alert text of a run, one per line."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    parts += [e.value for e in at.success] + [e.value for e in at.info] + [e.value for e in at.error]
    parts += [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts)


def map_components(at: AppTest) -> list[dict]:
    """The arguments of every streamlit-folium map of a run (what the browser receives), in order."""
    import json

    return [
        json.loads(element.proto.json_args)
        for element in at.get("component_instance")
        if element.proto.component_name.endswith("st_folium")
    ]
