"""Fixtures for the AppTest suites: the app's settings pointed at the session's demo database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    """Point the app's settings at the test database for the duration of the module."""
    import os

    from gis.settings import get_settings

    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()
    from app_pages import common

    common.get_engine.clear()
    common.data_token.clear()
    import streamlit as st

    st.cache_data.clear()
    yield database_url
    if old is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = old
    get_settings.cache_clear()
    common.get_engine.clear()
    st.cache_data.clear()


@pytest.fixture(scope="module")
def sql(app_db: str):
    engine = create_engine(app_db)

    def run(query: str, **params):
        with engine.connect() as conn:
            return conn.execute(text(query), params).all()

    yield run
    engine.dispose()


