"""Run the Alembic migrations programmatically (``gridgov init``, tests, ``make``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

__all__ = ["alembic_config", "upgrade", "current_revision", "head_revision"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate ``engine``'s database to ``revision`` (default: the latest)."""
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def prepare(engine: Engine, *, app_role: str | None) -> list[str]:
    """Migrate, write the permission matrix, and grant the application role its rights.

    Returns the SQL an administrator must run by hand when ``engine``'s role may not grant
    (an empty list when everything was done here).
    """
    from sqlalchemy.exc import ProgrammingError

    from store.security import app_role_sql, check_app_role, grant_app_role, sync_access

    upgrade(engine)
    with engine.begin() as conn:
        sync_access(conn)
    if app_role is None:
        return []
    try:
        with engine.begin() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(r)s", {"r": app_role}).first()
            if exists is None:
                return app_role_sql(app_role, create=True)
            grant_app_role(conn, app_role)
            check_app_role(conn, app_role)
    except ProgrammingError:
        return app_role_sql(app_role)
    return []
