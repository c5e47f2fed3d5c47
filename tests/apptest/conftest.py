"""Fixtures for the AppTest suites: the app's settings pointed at a demo database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text


@contextmanager
def app_pointed_at(url: str) -> Iterator[str]:
    """Point the app's settings (DATABASE_URL) and caches at ``url`` for the duration."""
    import streamlit as st

    from app_pages import common
    from gis.settings import get_settings

    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    common.get_engine.clear()
    common.data_token.clear()
    st.cache_data.clear()
    try:
        yield url
    finally:
        if old is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = old
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
