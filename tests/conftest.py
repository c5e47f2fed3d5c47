"""Shared fixtures. Database tests run against a real PostGIS and never skip.

Shape (pypi/warehouse's): one throwaway database per test session, created on the project's
own cluster (or on the server of ``DATABASE_URL``), migrated once with Alembic, loaded once
with the demo subdistrict; each test gets a connection inside a transaction that is rolled
back afterwards (``db_session`` / ``db_conn``), so tests cannot see each other's writes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Real-world files published by others, vendored unchanged (origin and licence: tests/data/real/PROVENANCE.md).
TESTDATA = PROJECT_ROOT / "tests" / "data" / "real"


def _admin_url() -> str:
    """URL of a maintenance database on the server tests use (starting the local cluster if needed)."""
    from store.engine import database_url, local_cluster
    from gis.settings import Settings

    settings = Settings.from_env()
    if not settings.database_url:
        local_cluster(settings).start()  # fails loudly when PostGIS is not installed
    url = make_url(database_url(settings))
    return url.set(database="postgres").render_as_string(hide_password=False)


class ThrowawayDatabases:
    """Creates migrated, empty PostGIS databases for tests and drops them at the end."""

    def __init__(self) -> None:
        self._admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        self._created: list[str] = []

    def create(self, *, migrate: bool = True) -> str:
        from store.migrate import upgrade

        name = f"gridgov_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        url = make_url(self._admin.url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        if migrate:
            upgrade(engine)
        engine.dispose()
        return url

    def copy(self, url: str) -> str:
        """A new database copied from the one at ``url`` (``CREATE DATABASE … TEMPLATE``); its URL.

        Other sessions on the source are ended first (a template must have none).
        """
        source = make_url(url).database
        name = f"gridgov_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with self._admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": source})
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        self._created.append(name)
        return make_url(url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin.connect() as conn:
            for name in self._created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def throwaway_databases() -> Iterator[ThrowawayDatabases]:
    dbs = ThrowawayDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def database_url(throwaway_databases: ThrowawayDatabases) -> str:
    """URL of this session's migrated test database with the demo subdistrict loaded (committed)."""
    from store.seed import load_demo

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data_cached())
    engine.dispose()
    return url


_DEMO = None


def demo_data_cached():
    """The default demo (seed 7), generated once per test session."""
    global _DEMO
    if _DEMO is None:
        from demo.generate import generate_demo

        _DEMO = generate_demo()
    return _DEMO


@pytest.fixture(scope="session")
def demo_data():
    return demo_data_cached()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    from store.engine import make_engine

    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def db_conn(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            if trans.is_active:
                trans.rollback()


@pytest.fixture()
def db_session(db_conn: Connection) -> Iterator[Session]:
    """An ORM session bound to ``db_conn``; its commits become savepoints, all rolled back."""
    with Session(bind=db_conn, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture()
def empty_database_url(throwaway_databases: ThrowawayDatabases) -> str:
    """A fresh, migrated database with no data (for tests that commit)."""
    return throwaway_databases.create()


@pytest.fixture(scope="session")
def testdata() -> Path:
    """``tests/data/real`` (read-only real-world files; see its PROVENANCE.md)."""
    if not TESTDATA.is_dir():
        raise FileNotFoundError(f"real-world test data expected at {TESTDATA}")
    return TESTDATA


#: Fixtures that reach the project's PostGIS: a test using one is a database test.
DATABASE_FIXTURES = frozenset(
    {"database_url", "engine", "db_conn", "db_session", "empty_database_url", "throwaway_databases"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder (tests/db, tests/apptest: ``db``; tests/e2e: ``e2e`` and ``db``), and refuse a
    test under tests/unit that asks for the database: unit tests are pure."""
    misplaced = []
    for item in items:
        parts = Path(str(item.fspath)).relative_to(PROJECT_ROOT / "tests").parts
        folder = parts[0] if len(parts) > 1 else ""
        if folder in ("db", "apptest", "e2e"):
            item.add_marker(pytest.mark.db)
        if folder == "e2e":
            item.add_marker(pytest.mark.e2e)
        if folder == "unit" and DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError(f"unit tests must not use the database (move them to tests/db): {misplaced}")


def demo_copy(dbs: "ThrowawayDatabases", data) -> str:
    """A new database holding a committed copy of the demo; returns its URL."""
    from store.seed import load_demo

    url = dbs.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, data)
    engine.dispose()
    return url


@pytest.fixture()
def demo_url(throwaway_databases: ThrowawayDatabases, demo_data, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A committed copy of the demo in its own database, used through ``DATABASE_URL`` (CLI tests)."""
    from gis.settings import get_settings

    url = demo_copy(throwaway_databases, demo_data)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
