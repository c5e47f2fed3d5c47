"""Helpers for tests that point GridGov at a test database (importable from every test folder)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine

#: The session's ThrowawayDatabases (set by the ``throwaway_databases`` fixture of tests/conftest.py).
DATABASES: list[Any] = []


def database_env(url: str, *, actor: str | None = "admin") -> dict[str, str]:
    """Environment variables that point GridGov at the test database ``url`` (owner URL) and its
    application role; commands act as ``actor`` (``--as``, honoured for the owner)."""
    env = {"DATABASE_URL": url, "GRIDGOV_APP_DATABASE_URL": DATABASES[-1].app_url(url)}
    if actor:
        env["GRIDGOV_ACTOR"] = actor
    return env


def use_database(monkeypatch: pytest.MonkeyPatch, url: str, *, actor: str | None = "admin") -> None:
    """Point this process's settings at the test database ``url`` (see :func:`database_env`)."""
    from gis.settings import get_settings

    for name, value in database_env(url, actor=actor).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def demo_copy(dbs: Any, data: Any) -> str:
    """A new database holding a committed copy of the demo; returns its URL."""
    from store.seed import load_demo

    url = dbs.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, data)
    engine.dispose()
    return url
