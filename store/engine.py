"""Engines and the binding of every transaction to the acting account.

No module-level engine: call :func:`make_engine` (the app caches it with
``st.cache_resource``, the CLI makes one per command, tests one per session).

Two database roles (see :mod:`store.cluster`): the **owner** (migrations, owner commands) and the
**application role** (everything else: owns nothing, no BYPASSRLS). An application engine binds
each transaction to the account acting in the current context (:data:`CURRENT_SESSION`, set by
:func:`store.session.acting_as`): its first statement is ``set_config('gridgov.session', token,
true)``, which lasts that transaction only — so a pooled connection never carries one person's
scope into another's transaction, and a transaction with no account set sees nothing (the
row-level security policies find no session). The token is never user input: it is the
server-side session the person logged in with.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gis.errors import ConfigurationError, DatabaseUnavailableError, PostGISMissingError
from gis.settings import Settings, get_settings
from store.cluster import LocalCluster

__all__ = [
    "CURRENT_SESSION",
    "CURRENT_ACTOR_NAME",
    "bind_current_actor",
    "local_cluster",
    "database_url",
    "app_database_url",
    "make_engine",
    "session_scope",
    "check_postgis",
    "OWNER",
    "APP",
]

logger = logging.getLogger(__name__)

OWNER = "owner"
APP = "app"

#: The session token of the account acting in this context (thread / task); ``None``: nobody.
CURRENT_SESSION: ContextVar[str | None] = ContextVar("gridgov_session", default=None)
#: The acting name recorded by the database's audit triggers for owner-role writes (scripts).
CURRENT_ACTOR_NAME: ContextVar[str | None] = ContextVar("gridgov_actor", default=None)


def local_cluster(settings: Settings | None = None) -> LocalCluster:
    """The project-local cluster under ``settings.data_dir / "pg"``."""
    settings = settings or get_settings()
    return LocalCluster(settings.data_dir / "pg", preferred_port=settings.pg_port)


def _normalize_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def database_url(settings: Settings | None = None, *, role: str = OWNER) -> str:
    """The URL for ``role``: ``owner`` (``DATABASE_URL``, else the local cluster's owner) or ``app``."""
    settings = settings or get_settings()
    if role == APP:
        return app_database_url(settings)
    if role != OWNER:
        raise ValueError(f"role was {role!r} but is expected to be {OWNER!r} or {APP!r}")
    if settings.database_url:
        return _normalize_url(settings.database_url)
    return local_cluster(settings).url(role="owner")


def app_database_url(settings: Settings | None = None) -> str:
    """The application role's URL: ``GRIDGOV_APP_DATABASE_URL``, else the local cluster's ``gridgov_app``."""
    settings = settings or get_settings()
    if settings.app_database_url:
        return _normalize_url(settings.app_database_url)
    if settings.database_url:
        raise ConfigurationError(
            "DATABASE_URL is set but GRIDGOV_APP_DATABASE_URL is not: the app connects as a role that owns "
            "nothing and has no BYPASSRLS; create it (`gridgov init` prints the SQL) and set "
            "GRIDGOV_APP_DATABASE_URL to its URL", code="config.app_database_url"
        )
    return local_cluster(settings).url(role="app")


def bind_current_actor(conn) -> None:  # noqa: ANN001 - sqlalchemy Connection
    """Bind the account acting in this context (:data:`CURRENT_SESSION`, :data:`CURRENT_ACTOR_NAME`) to
    ``conn``'s transaction from now until it ends: what every engine's transaction does first, and what
    :func:`store.session.inline_units` does for each unit of work it runs inside a caller's transaction."""
    token = CURRENT_SESSION.get()
    actor = CURRENT_ACTOR_NAME.get()
    conn.exec_driver_sql(
        "SELECT set_config('gridgov.session', %(token)s, true), set_config('gridgov.actor', %(actor)s, true)",
        {"token": token or "", "actor": actor or ""},
    )


def _bind_to_account(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001 - sqlalchemy Connection
        bind_current_actor(conn)


def make_engine(
    url: str | None = None, *, role: str = APP, settings: Settings | None = None, check: bool = True, **kwargs
) -> Engine:
    """A SQLAlchemy engine for ``url`` (default: the configured URL of ``role``).

    Every transaction of the engine is bound to the account acting in the current context (see
    the module docstring); for the owner role only the acting name is recorded (the owner
    bypasses row-level security). With ``check`` the connection is tried at once and PostGIS is
    required, so a misconfiguration surfaces as one clear error.

    Raises
    ------
    DatabaseUnavailableError
        The server cannot be reached (for the local cluster: it is not running).
    PostGISMissingError
        The database has no PostGIS extension and it cannot be created.
    """
    given = url
    url = _normalize_url(url) if url else database_url(settings, role=role)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    _bind_to_account(engine)
    if check:
        check_postgis(engine, url=given, settings=settings)
    return engine


def check_postgis(engine: Engine, *, url: str | None = None, settings: Settings | None = None) -> str:
    """Return the PostGIS version of ``engine``'s database, creating the extension if possible."""
    where = make_url(str(engine.url)).render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()
            if version is None:
                available = conn.execute(
                    text("SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'")
                ).scalar()
                if available is None:
                    raise PostGISMissingError(
                        f"the database at {where} has no PostGIS: the server lacks the extension "
                        "(install postgis for its PostgreSQL version, e.g. postgresql-15-postgis-3)", code="db.postgis_missing"
                    )
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                conn.commit()
                version = available
    except OperationalError as exc:
        configured = bool((settings or get_settings()).database_url) if url is None else True
        hint = ("check DATABASE_URL (the server, port, user and database it names)" if configured
                else "run `gridgov db up` (or `make run`) to start the local cluster")
        reason = " ".join(str(exc.orig).split())
        raise DatabaseUnavailableError(f"cannot connect to {where}: {reason}; {hint}", code="db.unavailable") from exc
    except PostGISMissingError:
        raise
    except Exception as exc:  # permission denied creating the extension, ...
        if "postgis" in str(exc).lower() or "extension" in str(exc).lower():
            raise PostGISMissingError(f"the database at {where} has no PostGIS and it cannot be created: {exc}", code="db.postgis_missing") from exc
        raise
    return str(version)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine) as session, session.begin():
        yield session
