"""``gridgov login|logout|whoami``, ``gridgov user …``, ``gridgov token …`` and ``gridgov audit``.

``login`` opens a session for this OS user (the token is kept in ``~/.config/gridgov/session.json``,
mode 0600); later commands act as that account. ``user`` and ``token`` are owner commands: they
need the database owner's credentials (``DATABASE_URL``, or the local cluster's passwords file,
readable only by root). ``audit`` reads the trail as the acting account (``view_audit``).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from typing import Any, Optional

import typer

from cli.main import JSON_HELP, GridGovUsage, current_actor, emit, fail, open_engine, open_owner_engine, parse_as_of, session_file

__all__ = ["register"]

user_app = typer.Typer(help="Accounts (owner command): add, list, disable, enable, passwd, grant, revoke.",
                       no_args_is_help=True)
token_app = typer.Typer(help="API tokens (owner command): create, list, revoke.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help=JSON_HELP)
_STDIN = typer.Option(False, "--password-stdin", help="Read the password from standard input (one line).")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.command("audit")(audit)


def _read_password(from_stdin: bool, prompt: str = "password") -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise GridGovUsage("--password-stdin was given but standard input is empty")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise GridGovUsage("no terminal to ask for the password: give it on standard input with --password-stdin")
    return getpass.getpass(f"{prompt}: ")


def _save_session(token: str, account: str) -> None:
    path = session_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"token": token, "account": account, "at": dt.datetime.now(dt.UTC).isoformat()}, handle)
    os.chmod(path, 0o600)


# -- login, logout, whoami -----------------------------------------------------------------------------
def login(
    name: str = typer.Argument(..., help="Account name."),
    password_stdin: bool = _STDIN,
    as_json: bool = _JSON,
) -> None:
    """Log in as an account; later commands act as it (the session ends after the idle time)."""
    from services.auth import LoginRefused
    from services.auth import login as do_login
    from store.engine import APP, make_engine

    password = _read_password(password_stdin)
    try:
        result = do_login(make_engine(role=APP), name, password, kind="cli")
    except LoginRefused as exc:
        raise fail(f"login refused: {exc}", 1) from None
    _save_session(result.token, result.actor.name)
    emit({"account": result.actor.name, "role": result.actor.role, "scope": str(result.actor.scope),
          "session_file": str(session_file())}, as_json=as_json,
         render=lambda d: typer.echo(f"logged in as {d['account']} ({d['role']}, {d['scope']})"))


def logout() -> None:
    """End this OS user's session (in the database) and forget its token."""
    from services.auth import logout as do_logout
    from store.engine import APP, make_engine

    path = session_file()
    try:
        token = json.loads(path.read_text()).get("token")
    except (FileNotFoundError, ValueError):
        token = None
    if token:
        do_logout(make_engine(role=APP), token)
    path.unlink(missing_ok=True)
    typer.echo("logged out")


def whoami(as_json: bool = _JSON) -> None:
    """The account this command acts as, its role and the grids it may see."""
    actor = current_actor()
    emit({"account": actor.name, "role": actor.role, "staff_id": actor.staff_id, "scope": str(actor.scope),
          "read_only": actor.read_only}, as_json=as_json,
         render=lambda d: typer.echo(f"{d['account']} ({d['role']}; grids: {d['scope']})"))


# -- users (owner) --------------------------------------------------------------------------------------
@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="Account name (lower-case letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help="admin, leader, planner, grid_head, worker, police, doctor, "
                                                 "supervisor, coordinator, inspector."),
    grid: list[str] = typer.Option([], "--grid", help="A grid code the account may see (repeat for several)."),
    staff: Optional[str] = typer.Option(None, "--staff", help="The staff record (staff key or id) of this person."),
    display_name: str = typer.Option("", "--display-name", help="Name shown on pages."),
    street_wide: Optional[bool] = typer.Option(None, "--street-wide/--scoped",
                                               help="See the whole street (default: admin, planner, inspector)."),
    password_stdin: bool = _STDIN,
) -> None:
    """Create an account; its password comes from standard input (--password-stdin) or a prompt."""
    from services.auth import new_password_hash
    from store import accounts
    from store.governance import staff_id_by_key

    password = _read_password(password_stdin)
    engine = open_owner_engine()
    with engine.begin() as db:
        staff_id = None
        if staff:
            staff_id = int(staff) if staff.isdigit() else staff_id_by_key(db, [staff]).get(staff)
            if staff_id is None:
                raise fail(f"no staff member has the key {staff!r}", 1)
        accounts.create_account(db, name.strip().lower(), role, password_hash=new_password_hash(name, password),
                                display_name=display_name, staff_id=staff_id, grants=grid, street_wide=street_wide)
    typer.echo(f"account {name} created ({role})")


@user_app.command("list")
def user_list(as_json: bool = _JSON) -> None:
    """Every account: role, grids, staff record, disabled or locked, last seen."""
    from store import accounts

    with open_owner_engine().connect() as db:
        frame = accounts.list_accounts(db)
    records = frame.to_dict("records")

    def render(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            flags = " disabled" if r["disabled"] else ""
            if r["locked_until"] is not None and r["locked_until"] > dt.datetime.now(dt.UTC):
                flags += f" locked until {r['locked_until']:%Y-%m-%d %H:%M}"
            grids = "whole street" if r["street_wide"] else (", ".join(r["grants"]) or "no grids")
            typer.echo(f"{r['name']}\t{r['role']}\t{grids}{flags}")

    emit(records, as_json=as_json, render=render)


def _owner_db():  # noqa: ANN202
    return open_owner_engine().begin()


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Disable an account: every session and API token of it ends at its next request."""
    from store import accounts

    with _owner_db() as db:
        accounts.set_disabled(db, name.strip().lower(), True)
    typer.echo(f"account {name} disabled")


@user_app.command("enable")
def user_enable(name: str) -> None:
    """Enable a disabled account."""
    from store import accounts

    with _owner_db() as db:
        accounts.set_disabled(db, name.strip().lower(), False)
    typer.echo(f"account {name} enabled")


@user_app.command("passwd")
def user_passwd(name: str, password_stdin: bool = _STDIN) -> None:
    """Set a new password (ends every login session of the account, unlocks it)."""
    from services.auth import new_password_hash
    from store import accounts

    password = _read_password(password_stdin, prompt=f"new password for {name}")
    with _owner_db() as db:
        accounts.set_password_hash(db, name.strip().lower(), new_password_hash(name, password))
    typer.echo(f"password of {name} changed; its sessions have ended")


@user_app.command("grant")
def user_grant(name: str, grid: list[str] = typer.Argument(..., help="Grid codes.")) -> None:
    """Let an account see grids (and everything below them)."""
    from store import accounts

    with _owner_db() as db:
        accounts.grant_codes(db, name.strip().lower(), [g.strip() for g in grid])
    typer.echo(f"granted {', '.join(grid)} to {name}")


@user_app.command("revoke")
def user_revoke(name: str, grid: list[str] = typer.Argument(..., help="Grid codes.")) -> None:
    """Take grids out of an account's scope."""
    from store import accounts

    with _owner_db() as db:
        accounts.revoke_codes(db, name.strip().lower(), [g.strip() for g in grid])
    typer.echo(f"revoked {', '.join(grid)} from {name}")


# -- API tokens (owner) ----------------------------------------------------------------------------------
def _role_engine():  # noqa: ANN202 - sqlalchemy Engine, or None
    """An engine that may create and alter login roles: the local cluster's superuser, else the owner
    (with DATABASE_URL; whether it has CREATEROLE is checked before it is used)."""
    from gis.settings import get_settings
    from store.engine import local_cluster, make_engine

    settings = get_settings()
    if settings.database_url:
        return open_owner_engine()
    owner = open_owner_engine()
    database = owner.url.database
    return make_engine(local_cluster(settings).url(database, role="superuser"), check=False)


@token_app.command("create")
def token_create(
    user: str = typer.Option(..., "--user", help="The account the token acts as."),
    expires: Optional[int] = typer.Option(90, "--expires", help="Days until the token expires (0: never)."),
    read_only: bool = typer.Option(False, "--read-only", help="The token may only read."),
    label: str = typer.Option("", "--label", help="What the token is for (e.g. 12345 hotline)."),
    rate: Optional[int] = typer.Option(None, "--rate", help="Requests per minute this token may make "
                                                             "(default: the GRIDGOV_API_RATE setting)."),
    database: bool = typer.Option(False, "--database", help="A database login instead (its own PostgreSQL role, "
                                                            "read-only, under the account's row-level security), "
                                                            "for QGIS and other desktop GIS."),
    as_json: bool = _JSON,
) -> None:
    """Create an API token (shown once; only its hash is kept), or with --database a read-only database login."""
    from services.auth import create_api_token, create_db_login

    days = None if not expires else expires
    if database:
        if rate is not None:
            raise GridGovUsage("--rate limits API tokens; a database login (--database) has no rate")
        owner = open_owner_engine()
        login = create_db_login(owner, _role_engine(), user, days=days, label=label)
        url = owner.url
        data = {"id": login.token_id, "user": user, "kind": "db", "read_only": True, "role": login.role,
                "password": login.password, "host": url.host, "port": url.port, "database": url.database,
                "expires_at": login.expires_at.isoformat(), "role_created": login.created, "sql": list(login.sql)}

        def render(d: dict[str, Any]) -> None:
            typer.echo(f"database login {d['id']} for {d['user']} (read-only; the password is shown once):")
            typer.echo(f"  host={d['host']} port={d['port']} dbname={d['database']} user={d['role']}")
            typer.echo(f"  password={d['password']}")
            if not d["role_created"]:
                typer.echo("the role could not be created with these credentials; a database administrator "
                           "must run:")
                for statement in d["sql"]:
                    typer.echo(f"  {statement};")

        emit(data, as_json=as_json, render=render)
        return
    token, token_id = create_api_token(open_owner_engine(), user, days=days, read_only=read_only, label=label,
                                       rate_per_minute=rate)
    emit({"id": token_id, "token": token, "user": user, "read_only": read_only, "expires_days": expires or None,
          "rate_per_minute": rate},
         as_json=as_json, render=lambda d: typer.echo(f"token {d['id']} for {d['user']} (shown once):\n{d['token']}"))


@token_app.command("list")
def token_list(as_json: bool = _JSON) -> None:
    """API tokens and database logins (never the tokens themselves): id, account, kind, label, read-only, expiry."""
    from store import accounts

    with open_owner_engine().connect() as db:
        records = accounts.api_tokens(db).to_dict("records")
    for r in records:
        for key in ("rate_per_minute",):
            if r[key] is not None and r[key] == r[key]:
                r[key] = int(r[key])
            else:
                r[key] = None
    emit(records, as_json=as_json, render=lambda rows: [
        typer.echo(f"{r['id']}\t{r['account']}\t{r['kind']}{' ' + r['db_role'] if r['db_role'] else ''}\t{r['label']}\t"
                   f"{'read-only' if r['read_only'] else 'read-write'}\t"
                   f"{'revoked' if r['revoked_at'] is not None else 'expires ' + str(r['expires_at'])[:10]}")
        for r in rows])


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke an API token or a database login (its role then refuses logins)."""
    from services.auth import revoke_token

    role = revoke_token(open_owner_engine(), _role_engine(), token_id)
    typer.echo(f"token {token_id} revoked" + (f" (database login {role})" if role else ""))


# -- audit -------------------------------------------------------------------------------------------------
def audit(
    user: Optional[str] = typer.Option(None, "--user", help="Only this account's entries."),
    since: Optional[str] = typer.Option(None, "--since", help="Only entries since: YYYY-MM-DD or an ISO timestamp."),
    action: Optional[str] = typer.Option(None, "--action", help="Only this action (insert, update, login, export …)."),
    limit: int = typer.Option(200, "--limit", help="At most this many entries, newest first."),
    as_json: bool = _JSON,
) -> None:
    """The audit trail (needs the view_audit permission: admin, inspector)."""
    from store import audit as audit_store

    start = parse_as_of(since, option="--since", end_of_day=False)
    with open_engine().connect() as db:
        frame = audit_store.entries(db, since=start, account=user, action=action, limit=limit)
    records = frame.to_dict("records")
    emit(records, as_json=as_json, render=lambda rows: [
        typer.echo(f"{r['at']:%Y-%m-%d %H:%M:%S}\t{r['account_name'] or '-'}\t{r['action']}\t{r['object_type']}\t"
                   f"{r['row_count']}") for r in rows])
