"""Engines and units of work.

No module-level engine: call :func:`make_engine` (the app caches it with
``st.cache_resource``, the CLI makes one per command, tests one per session).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from store.cluster import LocalCluster
from gis.errors import DatabaseUnavailableError, PostGISMissingError
from gis.settings import Settings, get_settings

__all__ = ["local_cluster", "database_url", "make_engine", "session_scope", "check_postgis"]

logger = logging.getLogger(__name__)


def local_cluster(settings: Settings | None = None) -> LocalCluster:
    """The project-local cluster under ``settings.data_dir / "pg"``."""
    settings = settings or get_settings()
    return LocalCluster(settings.data_dir / "pg", preferred_port=settings.pg_port)


def _normalize_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def database_url(settings: Settings | None = None) -> str:
    """``DATABASE_URL`` when set, else the local cluster's URL."""
    settings = settings or get_settings()
    if settings.database_url:
        return _normalize_url(settings.database_url)
    return local_cluster(settings).url()


def make_engine(url: str | None = None, *, settings: Settings | None = None, check: bool = True, **kwargs) -> Engine:
    """A SQLAlchemy engine for ``url`` (default :func:`database_url`).

    With ``check`` the connection is tried at once and PostGIS is required, so a
    misconfiguration surfaces as one clear error instead of a failure deep in a query.

    Raises
    ------
    DatabaseUnavailableError
        The server cannot be reached (for the local cluster: it is not running).
    PostGISMissingError
        The database has no PostGIS extension and it cannot be created.
    """
    given = url
    url = _normalize_url(url) if url else database_url(settings)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
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
                        "(install postgis for its PostgreSQL version, e.g. postgresql-15-postgis-3)"
                    )
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                conn.commit()
                version = available
    except OperationalError as exc:
        configured = bool((settings or get_settings()).database_url) if url is None else True
        hint = ("check DATABASE_URL (the server, port, user and database it names)" if configured
                else "run `gridgov db up` (or `make run`) to start the local cluster")
        reason = " ".join(str(exc.orig).split())
        raise DatabaseUnavailableError(f"cannot connect to {where}: {reason}; {hint}") from exc
    except PostGISMissingError:
        raise
    except Exception as exc:  # permission denied creating the extension, ...
        if "postgis" in str(exc).lower() or "extension" in str(exc).lower():
            raise PostGISMissingError(f"the database at {where} has no PostGIS and it cannot be created: {exc}") from exc
        raise
    return str(version)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine) as session, session.begin():
        yield session
