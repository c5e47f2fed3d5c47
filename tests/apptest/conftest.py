"""Fixtures for the AppTest suites: the app's settings pointed at a demo database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text


@contextmanager
def app_pointed_at(url: str, *, account: str = "admin") -> Iterator[str]:
    """Point the app's settings (DATABASE_URL, GRIDGOV_APP_DATABASE_URL) and caches at ``url`` for the
    duration, with a session of demo account ``account`` that every page run logs in with
    (:data:`apptest_support.SESSION`)."""
    import apptest_support
    import streamlit as st
    from testdb import database_env

    from app_pages import common
    from gis.settings import get_settings
    from services.auth import owner_session
    from store.engine import APP, OWNER, make_engine

    names = ("DATABASE_URL", "GRIDGOV_APP_DATABASE_URL")
    old = {name: os.environ.get(name) for name in names}
    os.environ.update({k: v for k, v in database_env(url, actor=None).items() if k in names})
    get_settings.cache_clear()
    common.get_engine.clear()
    common.data_token.clear()
    st.cache_data.clear()
    owner, app = make_engine(role=OWNER), make_engine(role=APP)
    apptest_support.SESSION["token"] = owner_session(owner, app, account, minutes=240).session_token
    apptest_support.SESSION["engines"] = (owner, app)
    try:
        yield url
    finally:
        apptest_support.SESSION["token"] = None
        owner.dispose()
        app.dispose()
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        common.get_engine.clear()
        st.cache_data.clear()


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    """The session's shared demo database (read-only pages)."""
    with app_pointed_at(database_url) as url:
        yield url


@pytest.fixture(scope="module")
def private_demo_db(throwaway_databases, demo_data) -> Iterator[str]:
    """A committed demo database of the module's own (for pages that write)."""
    from store.seed import load_demo

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
    engine.dispose()
    with app_pointed_at(url):
        yield url


@pytest.fixture(scope="module")
def sql(app_db: str):
    engine = create_engine(app_db)

    def run(query: str, **params):
        with engine.connect() as conn:
            return conn.execute(text(query), params).all()

    yield run
    engine.dispose()
