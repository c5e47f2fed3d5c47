"""Logging in and out, and who is acting: the one way a person becomes an :class:`access.actor.Actor`.

* :func:`login` checks a name and password (argon2id), counts failures (five in a row lock the
  account for 15 minutes — in the database, so a restart does not forget), and opens a
  server-side session whose random token the caller keeps (an HttpOnly cookie for the browser, a
  file only its owner can read for the CLI);
* :func:`actor_for_token` turns a token back into an actor at every request: the database checks
  that the session is neither revoked nor expired nor of a disabled account, restarts its idle
  timer, and reports the account's role, grants and staff record — so logout, ``user disable`` and
  a password change take effect at the next request, in every tab;
* :func:`login_oidc` opens a session for an account named by a verified OpenID Connect identity
  (the account must exist; role and grids come from GridGov, never from the token);
* :func:`owner_session` is the owner's ``--as NAME`` for scripts on the server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.passwords import check_password_rules, hash_password, new_token, token_hash, verify_password
from access.scope import Scope
from gis.errors import GridGovError, ValidationError
from gis.settings import Settings, get_settings
from store import accounts
from store.session import acting_as, inline_units, unit_of_work

__all__ = [
    "LoginRefused",
    "LoginResult",
    "login",
    "login_oidc",
    "logout",
    "actor_for_token",
    "session_end_reason",
    "owner_session",
    "transaction_session",
    "end_transaction_session",
    "create_api_token",
    "create_db_login",
    "DbLogin",
    "revoke_token",
    "new_password_hash",
    "actor_of_account",
]


class LoginRefused(GridGovError, PermissionError):
    """A login that did not succeed. ``reason``: ``wrong`` (unknown name or wrong password — the two
    are not told apart), ``locked`` (``until``), ``disabled``, ``no_account`` (single sign-on),
    ``ended`` (single sign-on: the session of this sign-in has ended — ``ended`` says why, one of
    :data:`store.accounts.SESSION_END_REASONS` — and is not reopened: sign in again)."""

    def __init__(self, reason: str, *, until: dt.datetime | None = None, name: str = "", ended: str = "") -> None:
        self.reason, self.until, self.name, self.ended = reason, until, name, ended
        messages = {
            "wrong": "wrong account name or password",
            "locked": f"the account is locked after too many wrong passwords until {until:%Y-%m-%d %H:%M %Z}"
            if until else "the account is locked",
            "disabled": "the account is disabled",
            "no_account": f"no GridGov account is named {name!r}; ask an administrator to create it",
            "ended": f"the session of this sign-in has ended ({ended}); sign in again",
        }
        if reason == "locked" and until:
            super().__init__(messages[reason], code="login.locked", params={"until": until})
        else:
            super().__init__(messages.get(reason, reason), code=f"login.{reason}")


@dataclass(frozen=True)
class LoginResult:
    token: str
    actor: Actor


def _actor(account: accounts.SessionAccount, token: str) -> Actor:
    scope = Scope.all() if account.street_wide else Scope.of(account.grants)
    return Actor(
        name=account.name, scope=scope, account=account.name, role=account.role, staff_id=account.staff_id,
        session_token=token, read_only=account.read_only, account_id=account.account_id,
        display_name=account.display_name,
    )


def _locked(record: accounts.AccountRecord) -> bool:
    return record.locked_until is not None and record.locked_until > dt.datetime.now(dt.UTC)


def actor_of_account(account: accounts.SessionAccount, token: str) -> Actor:
    """The actor of the account behind session ``token`` (as :func:`store.accounts.whoami` reports it)."""
    return _actor(account, token)


def _idle_seconds(settings: Settings) -> int:
    return int(settings.session_idle_hours * 3600)


def login(engine: Engine, name: str, password: str, *, kind: str = "web", settings: Settings | None = None) -> LoginResult:
    """Check ``name``/``password`` and open a session (``kind``: ``web`` or ``cli``).

    Raises :class:`LoginRefused`; every attempt is audited (login, login_failed, lockout).
    """
    settings = settings or get_settings()
    name = (name or "").strip().lower()
    with acting_as(None), engine.begin() as db:
        record = accounts.auth_lookup(db, name)
        if record is None:
            verify_password(None, password)
            accounts.auth_unknown(db, name)
            raise_later: LoginRefused | None = LoginRefused("wrong")
        elif record.disabled:
            raise_later = LoginRefused("disabled")
        elif _locked(record):
            raise_later = LoginRefused("locked", until=record.locked_until)
        elif not verify_password(record.password_hash, password):
            until = accounts.auth_failed(db, record.account_id, attempts=settings.login_attempts,
                                         lock_minutes=settings.lockout_minutes)
            raise_later = LoginRefused("locked", until=until) if until else LoginRefused("wrong")
        else:
            token = new_token()
            accounts.open_session(db, record.account_id, token_hash(token), kind=kind,
                                  idle_seconds=_idle_seconds(settings))
            raise_later = None
    if raise_later is not None:
        raise raise_later
    actor = actor_for_token(engine, token)
    assert actor is not None
    return LoginResult(token, actor)


def login_oidc(engine: Engine, account_name: str, *, token: str | None = None,
               settings: Settings | None = None) -> LoginResult:
    """Open a web session for the account a verified OpenID Connect identity names.

    ``token``: the session token to use — derived from the sign-in (:func:`access.passwords.derived_token`),
    so every tab of one sign-in shares one session and a logout, ``user disable``, ``user passwd``
    or the idle time ends it in all of them. A live session with that token is resumed; an ended
    one is not reopened (:class:`LoginRefused` ``ended``: the person signs in again at the provider).
    Without ``token`` a new random one is used.
    """
    settings = settings or get_settings()
    name = (account_name or "").strip().lower()
    if token:
        actor = actor_for_token(engine, token)
        if actor is not None and actor.name == name:
            return LoginResult(token, actor)
        reason = session_end_reason(engine, token)
        if reason == "disabled":
            raise LoginRefused("disabled")
        if actor is not None or reason != "unknown":
            raise LoginRefused("ended", ended=reason or "revoked")
    token = token or new_token()
    with acting_as(None), engine.begin() as db:
        record = accounts.auth_lookup(db, name)
        if record is None:
            accounts.auth_unknown(db, name)
        elif not record.disabled and not _locked(record):
            accounts.open_session(db, record.account_id, token_hash(token), kind="web",
                                  idle_seconds=_idle_seconds(settings), method="oidc")
    if record is None:
        raise LoginRefused("no_account", name=name)
    if record.disabled:
        raise LoginRefused("disabled")
    if _locked(record):
        raise LoginRefused("locked", until=record.locked_until)
    actor = actor_for_token(engine, token)
    assert actor is not None
    return LoginResult(token, actor)


def actor_for_token(engine: Engine, token: str | None) -> Actor | None:
    """The actor of a session token, or ``None`` when it is unknown, revoked, expired or disabled."""
    if not token:
        return None
    with acting_as(Actor(name="session check", session_token=token)), engine.begin() as db:
        account = accounts.whoami(db)
        if account is None:
            return None
        accounts.touch_session(db)
    return _actor(account, token)


def session_end_reason(engine: Engine, token: str | None) -> str | None:
    """Why ``token`` opens no session — ``expired`` (idle too long), ``logout``, ``disabled``,
    ``password`` (changed), ``revoked``, ``unknown`` — or ``None`` while it is valid."""
    if not token:
        return None
    with acting_as(Actor(name="session check", session_token=token)), engine.begin() as db:
        return accounts.session_ended(db)


def logout(engine: Engine, token: str | None) -> None:
    """Log out (audited): a browser session's logout ends every browser session of the account (each
    tab of each browser, at its next request); a CLI session's ends that session. Nothing happens
    for an invalid token."""
    if not token:
        return
    with acting_as(Actor(name="logout", session_token=token)), engine.begin() as db:
        accounts.end_session(db)


def owner_session(owner_engine: Engine, app_engine: Engine, name: str, *, minutes: int = 60) -> Actor:
    """An actor for account ``name`` on a short session opened with the owner's rights (``--as``)."""
    token = new_token()
    with owner_engine.begin() as db:
        accounts.owner_open_session(db, name.strip().lower(), token_hash(token), minutes=minutes)
    actor = actor_for_token(app_engine, token)
    if actor is None:
        raise ValidationError(f"account {name!r} cannot act now (disabled or locked)", code="account.cannot_act",
                              params={"name": name})
    return actor


def transaction_session(owner_conn: Connection, name: str, *, minutes: int = 60) -> Actor:
    """An actor for account ``name`` on a short session opened with the owner's rights inside the
    owner's transaction on ``owner_conn`` (the demo load acts as its accounts within its one
    transaction). Use it inside :func:`store.session.inline_units`, which binds the session to each
    unit of work; end it with :func:`end_transaction_session` before the transaction ends."""
    token = new_token()
    accounts.owner_open_session(owner_conn, name.strip().lower(), token_hash(token), minutes=minutes)
    with acting_as(Actor(name="session check", session_token=token)), inline_units(), \
            unit_of_work(owner_conn) as db:
        account = accounts.whoami(db)
    if account is None:
        raise ValidationError(f"account {name!r} cannot act now (disabled or locked)", code="account.cannot_act",
                              params={"name": name})
    return _actor(account, token)


def end_transaction_session(owner_conn: Connection, actor: Actor) -> None:
    """End the session of :func:`transaction_session` (in the same transaction)."""
    if actor.session_token:
        accounts.owner_end_session(owner_conn, token_hash(actor.session_token))


def end_owner_session(owner_engine: Engine, token: str) -> None:
    """End the ``--as`` session of ``token`` (when its command ends)."""
    with owner_engine.begin() as db:
        accounts.owner_end_session(db, token_hash(token))


def create_api_token(owner_engine: Engine, name: str, *, days: int | None = 90, read_only: bool = False,
                     label: str = "", rate_per_minute: int | None = None) -> tuple[str, int]:
    """A new API token for account ``name`` (shown once; stored hashed). Returns (token, token id).

    ``rate_per_minute``: this token's own rate limit (``None``: the ``GRIDGOV_API_RATE`` setting).
    """
    if rate_per_minute is not None and rate_per_minute <= 0:
        raise ValidationError(f"--rate was {rate_per_minute} but is expected to be a positive number of requests per minute",
                              code="token.rate_invalid", params={"rate": rate_per_minute})
    token = new_token()
    expires = None if days is None else dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    with owner_engine.begin() as db:
        account = accounts.account_by_name(db, name.strip().lower())
        if account["disabled"]:
            raise ValidationError(f"account {name!r} is disabled", code="account.disabled", params={"name": name})
        sid = accounts.open_session(db, int(account["id"]), token_hash(token), kind="api", idle_seconds=None,
                                    expires_at=expires or dt.datetime(9999, 12, 31, tzinfo=dt.UTC), label=label,
                                    read_only=read_only, method="token")
        if rate_per_minute is not None:
            accounts.set_token_rate(db, sid, rate_per_minute)
    return token, sid


@dataclass(frozen=True)
class DbLogin:
    """A database login made by :func:`create_db_login`: its id (as an API token's), PostgreSQL role and
    password (shown once), whether the role was created (else ``sql`` is what an administrator must run)."""

    token_id: int
    role: str
    password: str
    expires_at: dt.datetime
    created: bool
    sql: tuple[str, ...] = ()


def create_db_login(owner_engine: Engine, role_engine: Engine | None, name: str, *, days: int | None = 90,
                    label: str = "") -> DbLogin:
    """A read-only database login (its own PostgreSQL role) for account ``name``, for desktop GIS.

    ``role_engine`` connects as a role that may create roles (the local cluster's superuser, or an
    owner with CREATEROLE); without one (or when it may not), the role is not created and the
    returned ``sql`` says what an administrator must run. The session, its expiry and the grants are
    made with the owner's rights. See :mod:`store.dblogins`.
    """
    from store import dblogins

    account_name = name.strip().lower()
    password = new_token()
    role = dblogins.role_name(account_name)
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)) if days else dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    verifier = dblogins.scram_verifier(password)
    until = expires if days else None
    created = False
    if role_engine is not None:
        with role_engine.begin() as db:
            if dblogins.may_create_roles(db):
                dblogins.create_role(db, role, verifier, valid_until=until)
                created = True
    with owner_engine.begin() as db:
        sid = accounts.owner_open_db_session(db, account_name, token_hash(password), db_role=role, expires_at=expires,
                                             label=label)
        if created:
            dblogins.grant_login(db, role)
    sql = () if created else (*dblogins.create_role_sql(role, verifier, valid_until=until), *dblogins.grant_sql(role))
    return DbLogin(sid, role, password, expires, created, tuple(sql))


def revoke_token(owner_engine: Engine, role_engine: Engine | None, token_id: int) -> str | None:
    """Revoke API token or database login ``token_id``; a login's role also stops accepting logins
    (when ``role_engine`` may alter roles). Returns the login's role, if it was one."""
    from store import dblogins

    with owner_engine.begin() as db:
        role = accounts.revoke_token(db, token_id)
    if role and role_engine is not None:
        with role_engine.begin() as db:
            if dblogins.may_create_roles(db):
                dblogins.disable_role(db, role)
    return role


def new_password_hash(name: str, password: str) -> str:
    """Check the password rules for account ``name`` and hash the password."""
    check_password_rules(name, password)
    return hash_password(password)
