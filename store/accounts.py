"""Accounts, grants and sessions in PostgreSQL.

Two kinds of functions, by who may call them:

* **owner** functions (``gridgov user …``, the demo, ``--as`` for scripts) read and write the
  ``accounts``, ``account_grants`` and ``sessions`` tables directly; they need the owner's
  connection (the application role has no rights on these tables);
* **application** functions go through the ``gridgov.*`` SECURITY DEFINER functions of migration
  0002 — the only doors the application role has: look an account up by name to check its
  password, count a failed login (and lock after too many), open a session, resolve the session of
  the current transaction (``whoami``), keep it alive, end it.

Tokens are never stored: sessions hold the SHA-256 of their token (:func:`access.passwords.token_hash`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import text

from access.permissions import ROLES, STREET_WIDE_ROLES
from gis.errors import NotFoundError, ValidationError
from store.sql import Executor

__all__ = [
    "AccountRecord",
    "SessionAccount",
    "create_account",
    "list_accounts",
    "account_by_name",
    "set_disabled",
    "set_password_hash",
    "grant_codes",
    "revoke_codes",
    "revoke_sessions",
    "owner_open_session",
    "auth_lookup",
    "auth_failed",
    "auth_unknown",
    "open_session",
    "whoami",
    "touch_session",
    "end_session",
    "session_ended",
    "SESSION_END_REASONS",
    "api_tokens",
    "revoke_token",
    "owner_open_db_session",
    "set_token_rate",
    "session_rate",
]


@dataclass(frozen=True)
class AccountRecord:
    """An account as ``auth_lookup`` returns it (the password hash only to check a password)."""

    account_id: int
    password_hash: str | None = field(repr=False)
    disabled: bool
    locked_until: dt.datetime | None
    role: str


@dataclass(frozen=True)
class SessionAccount:
    """The account behind the session bound to the current transaction."""

    account_id: int
    name: str
    display_name: str
    role: str
    staff_id: int | None
    street_wide: bool
    grants: tuple[str, ...]
    session_kind: str
    read_only: bool


def _audit(db: Executor, action: str, account: str, details: dict[str, Any]) -> None:
    import json

    db.execute(
        text("INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids, details) "
             "VALUES (NULL, gridgov.actor_name(), :action, 'account', ARRAY[:account], CAST(:details AS jsonb))"),
        {"action": action, "account": account, "details": json.dumps(details, ensure_ascii=False, default=str)},
    )


# -- owner functions ----------------------------------------------------------------------------------
def _check_codes(db: Executor, codes: Sequence[str]) -> None:
    if not codes:
        return
    known = {r[0] for r in db.execute(text("SELECT code FROM grid_codes WHERE code = ANY(:c)"), {"c": list(codes)})}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise ValidationError(f"no grid has the code(s) {', '.join(unknown)}; grants name existing grids", code="account.unknown_grants", params={"codes": unknown})


def create_account(
    db: Executor, name: str, role: str, *, password_hash: str | None, display_name: str = "",
    staff_id: int | None = None, grants: Sequence[str] = (), street_wide: bool | None = None,
) -> int:
    """Create an account (owner). ``street_wide`` defaults to the role's (admin, planner, inspector)."""
    if role not in ROLES:
        raise ValidationError(f"role was {role!r} but is expected to be one of {list(ROLES)}", code="account.unknown_role", params={"role": role})
    if db.execute(text("SELECT 1 FROM accounts WHERE name = :n"), {"n": name}).first():
        raise ValidationError(f"an account named {name!r} already exists", code="account.exists", params={"name": name})
    if staff_id is not None and db.execute(text("SELECT 1 FROM staff WHERE id = :i"), {"i": staff_id}).first() is None:
        raise NotFoundError(f"staff {staff_id} does not exist", code="staff.not_found", params={"id": staff_id})
    _check_codes(db, grants)
    wide = role in STREET_WIDE_ROLES if street_wide is None else street_wide
    account_id = db.execute(
        text("INSERT INTO accounts (name, display_name, role, staff_id, street_wide, password_hash, password_changed_at) "
             "VALUES (:n, :d, :r, :s, :w, :h, CASE WHEN CAST(:h AS text) IS NULL THEN NULL ELSE now() END) RETURNING id"),
        {"n": name, "d": display_name, "r": role, "s": staff_id, "w": wide, "h": password_hash},
    ).scalar_one()
    if grants:
        db.execute(text("INSERT INTO account_grants (account_id, grid_code) SELECT :a, unnest(CAST(:c AS text[]))"),
                   {"a": account_id, "c": sorted(set(grants))})
    _audit(db, "account_created", name, {"role": role, "grants": sorted(set(grants)), "street_wide": wide,
                                         "staff_id": staff_id})
    return int(account_id)


def create_accounts_bulk(db: Executor, rows: Iterable[dict[str, Any]]) -> int:
    """Create many accounts at once (the demo): dicts with name, display_name, role, staff_id,
    street_wide, password_hash, grants (list). One audit entry for the batch."""
    rows = list(rows)
    if not rows:
        return 0
    ids = db.execute(
        text("INSERT INTO accounts (name, display_name, role, staff_id, street_wide, password_hash, password_changed_at) "
             "SELECT * , now() FROM unnest(CAST(:n AS text[]), CAST(:d AS text[]), CAST(:r AS text[]), "
             "CAST(:s AS bigint[]), CAST(:w AS boolean[]), CAST(:h AS text[])) RETURNING id, name"),
        {"n": [r["name"] for r in rows], "d": [r.get("display_name", "") for r in rows], "r": [r["role"] for r in rows],
         "s": [r.get("staff_id") for r in rows], "w": [bool(r.get("street_wide", r["role"] in STREET_WIDE_ROLES)) for r in rows],
         "h": [r.get("password_hash") for r in rows]},
    ).all()
    by_name = {name: i for i, name in ids}
    grants = [(by_name[r["name"]], code) for r in rows for code in r.get("grants", ())]
    if grants:
        db.execute(text("INSERT INTO account_grants (account_id, grid_code) "
                        "SELECT * FROM unnest(CAST(:a AS bigint[]), CAST(:c AS text[]))"),
                   {"a": [g[0] for g in grants], "c": [g[1] for g in grants]})
    _audit(db, "accounts_created", f"{len(rows)} accounts", {"names": [r["name"] for r in rows][:200]})
    return len(rows)


def list_accounts(db: Executor) -> pd.DataFrame:
    """Every account (owner): name, display_name, role, staff_id, street_wide, grants, disabled,
    locked_until, last_seen (its latest session)."""
    result = db.execute(text(
        """
        SELECT a.name, a.display_name, a.role, a.staff_id, a.street_wide,
               coalesce((SELECT array_agg(g.grid_code ORDER BY g.grid_code) FROM account_grants g WHERE g.account_id = a.id),
                        '{}') AS grants,
               a.disabled, a.locked_until, (SELECT max(s.last_seen_at) FROM sessions s WHERE s.account_id = a.id) AS last_seen
        FROM accounts a ORDER BY a.role, a.name
        """
    ))
    return pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))


def account_by_name(db: Executor, name: str) -> dict[str, Any]:
    """One account (owner); :class:`NotFoundError` if there is none."""
    row = db.execute(text("SELECT id, name, role, staff_id, street_wide, disabled FROM accounts WHERE name = :n"),
                     {"n": name}).mappings().first()
    if row is None:
        raise NotFoundError(f"no account is named {name!r} (see `gridgov user list`)", code="account.not_found", params={"name": name})
    return dict(row)


def revoke_sessions(db: Executor, name: str, *, kinds: Sequence[str] = ("web", "cli", "script"),
                    reason: str = "revoked") -> int:
    """End every session of account ``name`` (of the given kinds) now; returns how many (owner).

    ``reason`` (``disabled``, ``password``, ``revoked``) is what the person is told at their next
    request (:func:`session_ended`)."""
    return int(db.execute(
        text("UPDATE sessions s SET revoked_at = now(), ended_by = :r FROM accounts a "
             "WHERE a.id = s.account_id AND a.name = :n AND s.revoked_at IS NULL AND s.kind = ANY(:k)"),
        {"n": name, "k": list(kinds), "r": reason},
    ).rowcount)


def set_disabled(db: Executor, name: str, disabled: bool) -> None:
    """Disable (ending every session and API token) or enable an account (owner)."""
    account_by_name(db, name)
    db.execute(text("UPDATE accounts SET disabled = :d WHERE name = :n"), {"d": disabled, "n": name})
    if disabled:
        revoke_sessions(db, name, kinds=("web", "cli", "script", "api"), reason="disabled")
    _audit(db, "account_disabled" if disabled else "account_enabled", name, {})


def set_password_hash(db: Executor, name: str, password_hash: str) -> None:
    """Set a new password hash, unlock the account and end every login session (owner)."""
    account_by_name(db, name)
    db.execute(text("UPDATE accounts SET password_hash = :h, password_changed_at = now(), failed_logins = 0, "
                    "locked_until = NULL WHERE name = :n"), {"h": password_hash, "n": name})
    revoke_sessions(db, name, reason="password")
    _audit(db, "password_changed", name, {})


def grant_codes(db: Executor, name: str, codes: Sequence[str]) -> None:
    """Let account ``name`` see grids ``codes`` and everything below them (owner)."""
    account = account_by_name(db, name)
    _check_codes(db, codes)
    db.execute(text("INSERT INTO account_grants (account_id, grid_code) SELECT :a, unnest(CAST(:c AS text[])) "
                    "ON CONFLICT DO NOTHING"), {"a": account["id"], "c": sorted(set(codes))})
    _audit(db, "grant", name, {"grid_codes": sorted(set(codes))})


def revoke_codes(db: Executor, name: str, codes: Sequence[str]) -> None:
    """Take grids ``codes`` out of account ``name``'s scope (owner)."""
    account = account_by_name(db, name)
    db.execute(text("DELETE FROM account_grants WHERE account_id = :a AND grid_code = ANY(:c)"),
               {"a": account["id"], "c": list(codes)})
    _audit(db, "revoke", name, {"grid_codes": sorted(set(codes))})


def owner_open_session(db: Executor, name: str, token_hash: bytes, *, kind: str = "script",
                       minutes: int = 60) -> int:
    """A short session for account ``name`` opened by the owner (``--as`` in scripts); refused for a
    disabled account."""
    account = account_by_name(db, name)
    if account["disabled"]:
        raise ValidationError(f"account {name!r} is disabled", code="account.disabled", params={"name": name})
    sid = db.execute(
        text("INSERT INTO sessions (token_hash, account_id, kind, label, expires_at) "
             "VALUES (:h, :a, :k, 'owner --as', now() + make_interval(mins => :m)) RETURNING id"),
        {"h": token_hash, "a": account["id"], "k": kind, "m": minutes},
    ).scalar_one()
    return int(sid)


def owner_end_session(db: Executor, token_hash: bytes) -> None:
    """End the session of ``token_hash`` now (the owner, when an ``--as`` command ends)."""
    db.execute(text("UPDATE sessions SET revoked_at = now(), ended_by = 'revoked' "
                    "WHERE token_hash = :h AND revoked_at IS NULL"), {"h": token_hash})


# -- application functions (the gridgov.* doors) -------------------------------------------------------
def auth_lookup(db: Executor, name: str) -> AccountRecord | None:
    row = db.execute(text("SELECT * FROM gridgov.auth_lookup(:n)"), {"n": name}).first()
    if row is None:
        return None
    return AccountRecord(int(row.account_id), row.password_hash, bool(row.disabled), row.locked_until, row.role)


def auth_failed(db: Executor, account_id: int, *, attempts: int, lock_minutes: int) -> dt.datetime | None:
    """Count a wrong password; returns the lock's end when this one locked the account."""
    return db.execute(text("SELECT gridgov.auth_failed(:a, :n, :m)"),
                      {"a": account_id, "n": attempts, "m": lock_minutes}).scalar()


def auth_unknown(db: Executor, name: str) -> None:
    """Record a login attempt for a name that has no account."""
    db.execute(text("SELECT gridgov.auth_unknown(:n)"), {"n": name})


def open_session(
    db: Executor, account_id: int, token_hash: bytes, *, kind: str, idle_seconds: int | None,
    expires_at: dt.datetime | None = None, label: str = "", read_only: bool = False, method: str = "password",
) -> int:
    return int(db.execute(
        text("SELECT gridgov.auth_open_session(:a, :h, :k, :i, :e, :l, :r, :m)"),
        {"a": account_id, "h": token_hash, "k": kind, "i": idle_seconds, "e": expires_at, "l": label,
         "r": read_only, "m": method},
    ).scalar_one())


def whoami(db: Executor) -> SessionAccount | None:
    """The account of the session bound to this transaction, ``None`` when there is no valid one."""
    row = db.execute(text("SELECT * FROM gridgov.whoami()")).first()
    if row is None:
        return None
    return SessionAccount(int(row.account_id), row.name, row.display_name, row.role,
                          None if row.staff_id is None else int(row.staff_id), bool(row.street_wide),
                          tuple(row.grants or ()), row.session_kind, bool(row.read_only))


def touch_session(db: Executor) -> bool:
    """Keep the bound session alive (idle timeout restarts); ``False`` when it is no longer valid."""
    return bool(db.execute(text("SELECT gridgov.session_touch()")).scalar())


def end_session(db: Executor) -> bool:
    """Log out the bound session: a web session ends every web session of its account, another kind
    only itself (``gridgov.session_end()``, migration 0008)."""
    return bool(db.execute(text("SELECT gridgov.session_end()")).scalar())


#: What :func:`session_ended` may answer, besides ``None`` (the session is valid).
SESSION_END_REASONS = ("expired", "logout", "disabled", "password", "revoked", "unknown")


def session_ended(db: Executor) -> str | None:
    """Why the token bound to this transaction opens no session (one of :data:`SESSION_END_REASONS`),
    or ``None`` while its session is valid."""
    return db.execute(text("SELECT gridgov.session_ended()")).scalar()


def api_tokens(db: Executor) -> pd.DataFrame:
    """API tokens and database logins (owner): id, account, kind (``api``/``db``), label, read_only,
    db_role, rate_per_minute, created_at, expires_at, last_seen_at, revoked_at."""
    result = db.execute(text(
        "SELECT s.id, a.name AS account, s.kind, s.label, s.read_only, s.db_role, s.rate_per_minute, s.created_at, "
        "s.expires_at, s.last_seen_at, s.revoked_at "
        "FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.kind IN ('api', 'db') ORDER BY s.id"))
    return pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))


def revoke_token(db: Executor, token_id: int) -> str | None:
    """Revoke API token or database login ``token_id`` (owner); returns the login's role (``None`` for a token)."""
    row = db.execute(text("UPDATE sessions SET revoked_at = now(), ended_by = 'revoked' WHERE id = :i AND kind IN ('api', 'db') "
                          "AND revoked_at IS NULL RETURNING db_role"), {"i": token_id}).first()
    if row is None:
        raise NotFoundError(f"no live API token has the id {token_id} (see `gridgov token list`)", code="token.not_found",
                            params={"id": token_id})
    _audit(db, "token_revoked", str(token_id), {"db_role": row.db_role} if row.db_role else {})
    return row.db_role


def owner_open_db_session(db: Executor, name: str, token_hash: bytes, *, db_role: str, expires_at: dt.datetime,
                          label: str = "") -> int:
    """The read-only ``db`` session of a database login for account ``name`` (owner); refused for a
    disabled account. Audited as ``token_created``."""
    account = account_by_name(db, name)
    if account["disabled"]:
        raise ValidationError(f"account {name!r} is disabled", code="account.disabled", params={"name": name})
    sid = int(db.execute(
        text("INSERT INTO sessions (token_hash, account_id, kind, label, read_only, expires_at, db_role) "
             "VALUES (:h, :a, 'db', :l, true, :e, :r) RETURNING id"),
        {"h": token_hash, "a": account["id"], "l": label, "e": expires_at, "r": db_role},
    ).scalar_one())
    _audit(db, "token_created", name, {"kind": "db", "session": sid, "db_role": db_role, "read_only": True})
    return sid


def set_token_rate(db: Executor, token_id: int, rate_per_minute: int | None) -> None:
    """Set API token ``token_id``'s own rate limit in requests per minute (owner; ``None``: the default)."""
    db.execute(text("UPDATE sessions SET rate_per_minute = :r WHERE id = :i"), {"r": rate_per_minute, "i": token_id})


def session_rate(db: Executor) -> int | None:
    """Requests per minute of the session bound to this transaction (``None``: the configured default)."""
    value = db.execute(text("SELECT gridgov.rate_per_minute()")).scalar()
    return None if value is None else int(value)


def account_list(db: Executor) -> pd.DataFrame:
    """Every account (the acting account needs ``manage_accounts`` or ``view_audit``): name,
    display_name, role, street_wide, grants, disabled, locked_until, last_seen."""
    result = db.execute(text("SELECT * FROM gridgov.account_list()"))
    return pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))
