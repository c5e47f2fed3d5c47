"""Shared fixtures. Database tests run against a real PostGIS and never skip.

Shape (pypi/warehouse's): one throwaway database per test session, created on the project's
own cluster (or on the server of ``DATABASE_URL``), migrated once with Alembic, loaded once
with the demo subdistrict; each test gets a connection inside a transaction that is rolled
back afterwards (``db_session`` / ``db_conn``), so tests cannot see each other's writes.
"""

from __future__ import annotations

import os
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# ``tests.db._cli`` must be this folder's, even when a package in the environment ships a top-level
# ``tests`` package (pygeoapi's wheel does): that regular package would shadow this namespace package.
if list(getattr(sys.modules.get("tests"), "__path__", [])) != [str(Path(__file__).resolve().parent)]:
    sys.modules["tests"] = types.ModuleType("tests")
    sys.modules["tests"].__path__ = [str(Path(__file__).resolve().parent)]  # type: ignore[attr-defined]
#: Real-world files published by others, vendored unchanged (origin and licence: tests/data/real/PROVENANCE.md).
TESTDATA = PROJECT_ROOT / "tests" / "data" / "real"


def _server_urls() -> tuple[str, str, str | None]:
    """(superuser URL, owner URL, application-role URL) of a maintenance database on the server tests use.

    The local cluster (started if needed) has all three; with ``DATABASE_URL`` the superuser is the
    owner of that URL (it must be allowed to create databases and PostGIS) and the application role
    comes from ``GRIDGOV_APP_DATABASE_URL``.
    """
    from store.engine import app_database_url, database_url, local_cluster
    from gis.settings import Settings

    settings = Settings.from_env()
    if not settings.database_url:
        cluster = local_cluster(settings)
        cluster.start()  # fails loudly when PostGIS is not installed
        return (cluster.url("postgres", role="superuser"), cluster.url("postgres", role="owner"),
                cluster.url("postgres", role="app"))
    owner = make_url(database_url(settings)).set(database="postgres").render_as_string(hide_password=False)
    app = make_url(app_database_url(settings)).render_as_string(hide_password=False) if settings.app_database_url else None
    return owner, owner, app


_HASHES: dict[str, str] = {}


def _admin_hash(hasher, password: str) -> str:  # noqa: ANN001
    if password not in _HASHES:
        _HASHES[password] = hasher(password)
    return _HASHES[password]


class ThrowawayDatabases:
    """Creates migrated, empty PostGIS databases for tests and drops them at the end.

    Each database belongs to the owner role, has PostGIS (created by the superuser), the schema
    (migrated by the owner), the permission matrix and the application role's grants — exactly what
    ``gridgov init`` makes. :meth:`create` returns the owner's URL; :meth:`app_url` gives the
    application role's URL of the same database.
    """

    def __init__(self) -> None:
        self.superuser_url, self.owner_url, self._app_url = _server_urls()
        self._admin = create_engine(self.superuser_url, isolation_level="AUTOCOMMIT")
        self._owner_role = make_url(self.owner_url).username
        self._created: list[str] = []

    def create(self, *, migrate: bool = True) -> str:
        from store.migrate import prepare

        name = f"gridgov_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{self._owner_role}"'))
        self._created.append(name)
        superuser = create_engine(make_url(self.superuser_url).set(database=name), isolation_level="AUTOCOMMIT")
        with superuser.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        superuser.dispose()
        url = make_url(self.owner_url).set(database=name).render_as_string(hide_password=False)
        if migrate:
            engine = create_engine(url)
            todo = prepare(engine, app_role=make_url(self._app_url).username if self._app_url else None)
            assert not todo, f"the test server cannot grant the application role: {todo}"
            with engine.begin() as conn:  # an account to act as (CLI tests: GRIDGOV_ACTOR=admin)
                from access.passwords import hash_password
                from demo.generate import DEMO_PASSWORD
                from store.accounts import create_account

                create_account(conn, "admin", "admin", password_hash=_admin_hash(hash_password, DEMO_PASSWORD))
            engine.dispose()
        return url

    def app_url(self, owner_url: str) -> str:
        """The application role's URL of the database ``owner_url`` names."""
        if self._app_url is None:
            raise RuntimeError("set GRIDGOV_APP_DATABASE_URL to run the tests against DATABASE_URL")
        return make_url(self._app_url).set(database=make_url(owner_url).database).render_as_string(hide_password=False)

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


from testdb import DATABASES as _DATABASES, database_env, demo_copy, use_database  # noqa: E402,F401


@pytest.fixture(scope="session")
def throwaway_databases() -> Iterator[ThrowawayDatabases]:
    dbs = ThrowawayDatabases()
    _DATABASES.append(dbs)
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
    """The owner's engine on the session's demo database (bypasses row-level security: set-up, checks)."""
    from store.engine import OWNER, make_engine

    eng = make_engine(database_url, role=OWNER)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def app_engine(database_url: str, throwaway_databases: "ThrowawayDatabases") -> Iterator[Engine]:
    """The application role's engine on the session's demo database: what the app, CLI and API use."""
    from store.engine import make_engine

    eng = make_engine(throwaway_databases.app_url(database_url))
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def login_as(engine: Engine, app_engine: Engine):
    """``login_as(name)`` → an :class:`access.actor.Actor` on a fresh session of demo account ``name``."""
    from services.auth import owner_session

    def _login(name: str):
        return owner_session(engine, app_engine, name)

    return _login


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




@pytest.fixture()
def demo_url(throwaway_databases: ThrowawayDatabases, demo_data, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A committed copy of the demo in its own database, used through ``DATABASE_URL`` and
    ``GRIDGOV_APP_DATABASE_URL`` (CLI tests); commands act as the demo's ``admin`` unless they say ``--as``."""
    from gis.settings import get_settings

    url = demo_copy(throwaway_databases, demo_data)
    use_database(monkeypatch, url)
    yield url
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _own_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A home directory of the test run's own, so `gridgov login` sessions of the person running the
    tests (``~/.config/gridgov``) never leak into a test, and the tests' never into theirs."""
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    yield
    if old is None:
        os.environ.pop("HOME", None)
    else:
        os.environ["HOME"] = old
