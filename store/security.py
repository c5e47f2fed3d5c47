"""The database side of access control: the permission matrix in the database, the application role's
grants, and the checks that the roles are what they must be.

:func:`sync_access` writes :mod:`access.permissions` (role → table access, role → permissions) into
``role_access`` / ``role_permissions``, which the row-level security policies and the
``gridgov.*`` functions of migration 0002 read; :func:`grant_app_role` gives the application role
exactly what it needs (and nothing on the account tables: it reaches them only through the
``gridgov.*`` functions); :func:`app_role_sql` is the same as SQL text for an administrator who
must run it by hand. ``gridgov init`` runs all of it after the migrations.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from access.permissions import RESOURCES, ROLE_PERMISSIONS, TABLE_ACCESS

__all__ = ["sync_access", "grant_app_role", "app_role_sql", "check_app_role", "AppRoleError"]

#: Tables the application reads and writes under row-level security.
_GOVERNED = (*RESOURCES,)
#: Tables whose rows follow another governed row's rights (policies of migration 0006): photos.
_ATTACHED = ("photos",)
#: Tables every connected account reads; written only with a permission (policies).
_PUBLIC_READ = ("grid_codes", "grids", "grid_versions", "code_lineage", "changesets", "staff")
#: Tables of the HTTP API (migration 0004), under row-level security by their incident's grid.
_API_TABLES = ("incident_submissions", "incident_contacts")
#: The street's practices' tables under permission policies (migration 0003).
_PRACTICE_TABLES = ("evaluation_rounds", "spot_check_draws", "notices", "notice_reads")
#: Columns the application role may not read (they are reached only through ``gridgov.*`` functions):
#: the evaluation codes' salt, camera stream addresses (they carry credentials).
_HIDDEN_COLUMNS = {
    "evaluation_rounds": ("id", "title", "period", "grid_codes", "questions", "opens_at", "closes_at", "min_group",
                          "status", "closed_at", "created_by", "created_at", "version"),
    "cameras": ("id", "camera_key", "name", "type", "status", "geom", "grid_code", "created_at", "updated_at"),
}


class AppRoleError(RuntimeError):
    """The application role is privileged (superuser, BYPASSRLS, or owns tables)."""


def sync_access(db: Connection) -> None:
    """Replace ``role_access`` and ``role_permissions`` with the matrix of :mod:`access.permissions`."""
    db.execute(text("DELETE FROM role_access"))
    db.execute(text("DELETE FROM role_permissions"))
    rows = [
        {"role": role, "resource": resource, "read": access.read, "write": access.write}
        for role, tables in TABLE_ACCESS.items()
        for resource, access in tables.items()
    ]
    db.execute(text("INSERT INTO role_access (role, resource, read, write) VALUES (:role, :resource, :read, :write)"), rows)
    perms = [{"role": role, "permission": p} for role, permissions in ROLE_PERMISSIONS.items() for p in sorted(permissions)]
    db.execute(text("INSERT INTO role_permissions (role, permission) VALUES (:role, :permission)"), perms)


def app_role_sql(role: str, *, password: str | None = None, create: bool = False) -> list[str]:
    """The statements that create (optionally) and grant the application role ``role``."""
    ident = '"' + role.replace('"', '""') + '"'
    statements = []
    if create:
        secret = "" if password is None else " PASSWORD '" + password.replace("'", "''") + "'"
        statements.append(f"CREATE ROLE {ident} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT{secret}")
    statements += [
        f"GRANT USAGE ON SCHEMA public, gridgov TO {ident}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(_PUBLIC_READ)} TO {ident}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(_GOVERNED)} TO {ident}",
        f"GRANT SELECT, INSERT ON {', '.join(_ATTACHED)} TO {ident}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(_PRACTICE_TABLES)} TO {ident}",
        # the evaluation codes: the application inserts them, and never reads or changes them
        f"REVOKE ALL ON evaluation_codes FROM {ident}",
        f"GRANT INSERT ON evaluation_codes TO {ident}",
        *(statement for table, columns in _HIDDEN_COLUMNS.items() for statement in (
            f"REVOKE SELECT ON {table} FROM {ident}",
            f"GRANT SELECT ({', '.join(columns)}) ON {table} TO {ident}",
        )),
        f"GRANT INSERT ON audit_log TO {ident}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(_API_TABLES)} TO {ident}",
        f"GRANT USAGE ON SCHEMA gridgov_gis TO {ident}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA gridgov_gis TO {ident}",
        f"REVOKE ALL ON accounts, account_grants, sessions, role_access, role_permissions FROM {ident}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ident}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA gridgov TO {ident}",
    ]
    return statements


def grant_app_role(db: Connection, role: str) -> None:
    """Grant the application role its rights in this database (idempotent)."""
    for statement in app_role_sql(role):
        db.exec_driver_sql(statement)


def check_app_role(db: Connection, role: str) -> None:
    """Refuse an application role that is a superuser, has BYPASSRLS or owns anything in the database.

    Raises
    ------
    AppRoleError
        Naming what is wrong.
    """
    row = db.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if row is None:
        raise AppRoleError(f"the application role {role!r} does not exist")
    if row.rolsuper or row.rolbypassrls:
        raise AppRoleError(f"the application role {role!r} is a superuser or has BYPASSRLS; it must have neither")
    owned = db.execute(
        text("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE pg_get_userbyid(c.relowner) = :r AND n.nspname NOT IN ('pg_catalog', 'information_schema')"),
        {"r": role},
    ).scalar_one()
    if owned:
        raise AppRoleError(f"the application role {role!r} owns {owned} table(s); it must own nothing")
