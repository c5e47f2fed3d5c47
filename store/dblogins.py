"""Database logins: a read-only account's own PostgreSQL role, for desktop GIS (QGIS, ogr2ogr, psql).

A database login is a LOGIN role (``gg_<account>_<random>``: no superuser, no BYPASSRLS, no
CREATEDB/CREATEROLE, owns nothing) whose password is a token shown once (stored by PostgreSQL
as a SCRAM-SHA-256 verifier computed here, so the password never reaches the server's log), and
a ``sessions`` row of kind ``db`` (read-only, with an expiry) naming the role. Migration 0004
binds a transaction of that role to the session: ``gridgov.session_id()`` finds the live ``db``
session whose ``db_role`` is the ``session_user`` when no ``gridgov.session`` is set, so the
same row-level security policies apply as to the account's app and API sessions; a revoked or
expired session sees nothing, not even the boundaries.

What the role may read (:func:`grant_sql`, run by the owner): the boundary tables, the views of
schema ``gridgov_gis`` (grids, grid versions, incident points without personal fields, incident
counts) and, column by column, only the non-personal columns of ``incidents`` the views need.
No households, residents, contacts, visits, accounts, sessions or audit trail; and of the
``gridgov.*`` functions only those the policies call (never the login functions).

Creating and disabling the role needs ``CREATEROLE`` (the local cluster's superuser, or a
server administrator: :func:`create_role_sql` is the SQL to hand over).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy import text

from store.sql import Executor

__all__ = [
    "ROLE_PREFIX",
    "role_name",
    "scram_verifier",
    "create_role_sql",
    "grant_sql",
    "disable_role_sql",
    "create_role",
    "grant_login",
    "disable_role",
    "may_create_roles",
]

ROLE_PREFIX = "gg_"
#: Tables a database login reads whole (boundaries: readable by every connected account anyway).
_TABLES = ("grid_codes", "grids", "grid_versions", "code_lineage")
#: The columns of ``incidents`` behind the published views (no description, address, reporter).
_INCIDENT_COLUMNS = ("id", "category", "status", "disposition", "reported_at", "deadline", "closed_at",
                     "updated_at", "grid_code", "geom")
#: The ``gridgov.*`` functions row-level security calls for a database login.
_FUNCTIONS = ("session_id()", "session_account()", "read_only()", "access(text, text)", "sees_all(text, text)",
              "patterns(text, text)", "can(text)", "is_db_login()")
_SCRAM_ITERATIONS = 4096


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def role_name(account: str) -> str:
    """A new role name for ``account``'s login: ``gg_<account>_<6 hex>`` (≤ 63 characters)."""
    stem = re.sub(r"[^a-z0-9_]", "_", account.lower())[:50]
    return f"{ROLE_PREFIX}{stem}_{secrets.token_hex(3)}"


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = _SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677, as libpq makes it)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def create_role_sql(role: str, verifier: str, *, valid_until: dt.datetime | None) -> list[str]:
    """``CREATE ROLE`` of a database login (for a role with CREATEROLE; the password as its verifier)."""
    until = "" if valid_until is None else f" VALID UNTIL '{valid_until.astimezone(dt.UTC).isoformat()}'"
    return [f"CREATE ROLE {_ident(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT "
            f"NOREPLICATION CONNECTION LIMIT 10 PASSWORD '{verifier}'{until}"]


def grant_sql(role: str) -> list[str]:
    """What the owner grants a database login in this database (reading only)."""
    ident = _ident(role)
    return [
        f"GRANT USAGE ON SCHEMA gridgov, gridgov_gis TO {ident}",
        f"GRANT SELECT ON {', '.join(_TABLES)} TO {ident}",
        f"GRANT SELECT ({', '.join(_INCIDENT_COLUMNS)}) ON incidents TO {ident}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA gridgov_gis TO {ident}",
        *[f"GRANT EXECUTE ON FUNCTION gridgov.{fn} TO {ident}" for fn in _FUNCTIONS],
    ]


def disable_role_sql(role: str) -> list[str]:
    """Stop a database login from connecting (its session is revoked separately)."""
    return [f"ALTER ROLE {_ident(role)} NOLOGIN"]


def may_create_roles(db: Executor) -> bool:
    """Whether the connected role may create login roles (superuser or CREATEROLE)."""
    return bool(db.execute(text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar())


def create_role(db: Executor, role: str, verifier: str, *, valid_until: dt.datetime | None) -> None:
    """Create the login role (``db`` needs CREATEROLE)."""
    for statement in create_role_sql(role, verifier, valid_until=valid_until):
        db.exec_driver_sql(statement)


def grant_login(db: Executor, role: str) -> None:
    """Grant the login role what it reads (``db``: the owner of this database's tables)."""
    for statement in grant_sql(role):
        db.exec_driver_sql(statement)


def disable_role(db: Executor, role: str) -> None:
    """``ALTER ROLE … NOLOGIN`` (``db`` needs CREATEROLE); nothing when the role does not exist."""
    if db.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
        return
    for statement in disable_role_sql(role):
        db.exec_driver_sql(statement)
