"""Who calls the HTTP API, and the record of every call.

* :func:`authenticate_token` turns a bearer token into the calling account: only API tokens
  (``gridgov token create``; sessions of kind ``api``) are accepted — a browser's session cookie
  is no bearer token. The database checks in the same transaction that the token is neither
  revoked nor expired nor of a disabled account (as for every transaction after it: the token
  is the session every query of the call is bound to), and says the token's own rate limit.
* :func:`authenticate_browser_session` turns the app's session cookie into the calling account, for
  the routes the app's own pages fetch (vector tiles): any valid session of the account.
* :func:`open_oidc_session` gives a verified OpenID Connect access token a GridGov session of
  kind ``api`` that ends when the access token expires: the account must exist and be enabled;
  its role and grids come from GridGov, never from the token.
* :func:`record_call` appends one audit entry per call (401s included), as the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from access.actor import Actor
from access.passwords import new_token, token_hash
from services.auth import LoginRefused, actor_of_account
from store import accounts
from store import audit as audit_store
from store.session import acting_as

__all__ = ["ApiCaller", "authenticate_token", "authenticate_browser_session", "open_oidc_session", "record_call",
           "rate_key"]


@dataclass(frozen=True)
class ApiCaller:
    """The account behind an API call: its actor (bound to the session), its own rate limit
    (requests per minute; ``None``: the configured default) and how it authenticated."""

    actor: Actor
    rate_per_minute: int | None
    method: str = "token"


def rate_key(token: str) -> str:
    """The key a token's rate limit is counted under (a hash: the token itself is never kept)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


def authenticate_token(engine: Engine, token: str | None, *, method: str = "token") -> ApiCaller | None:
    """The caller of API token ``token``, or ``None`` (unknown, revoked, expired, disabled, not an API token)."""
    if not token:
        return None
    with acting_as(Actor(name="api token check", session_token=token)), engine.begin() as db:
        account = accounts.whoami(db)
        if account is None or account.session_kind != "api":
            return None
        rate = accounts.session_rate(db)
        accounts.touch_session(db)
    return ApiCaller(actor_of_account(account, token), rate, method)


def authenticate_browser_session(engine: Engine, token: str | None) -> ApiCaller | None:
    """The caller of the app's session cookie ``token`` (a logged-in browser), or ``None``."""
    from services.auth import actor_for_token

    actor = actor_for_token(engine, token)
    return ApiCaller(actor, None, "session") if actor is not None else None


def open_oidc_session(engine: Engine, account_name: str, *, expires_at: dt.datetime) -> str:
    """A GridGov API session for the account a verified access token names, until ``expires_at``.

    Raises :class:`services.auth.LoginRefused` (``no_account``, ``disabled``).
    """
    name = (account_name or "").strip().lower()
    token = new_token()
    with acting_as(None), engine.begin() as db:
        record = accounts.auth_lookup(db, name)
        if record is None:
            accounts.auth_unknown(db, name)
        elif not record.disabled:
            accounts.open_session(db, record.account_id, token_hash(token), kind="api", idle_seconds=None,
                                  expires_at=expires_at, label="oidc", method="oidc")
    if record is None:
        raise LoginRefused("no_account", name=name)
    if record.disabled:
        raise LoginRefused("disabled")
    return token


def record_call(engine: Engine, caller: ApiCaller | None, *, method: str, path: str, query: str, status: int,
                duration_ms: float, details: dict[str, Any] | None = None) -> None:
    """Append the audit entry of one API call (``api_call``), as ``caller`` (``None``: unauthenticated)."""
    actor = caller.actor if caller is not None else None
    entry = {"method": method, "path": path, "query": query[:500], "status": int(status),
             "ms": round(float(duration_ms), 1), **(details or {})}
    if caller is not None:
        entry["auth"] = caller.method
    with acting_as(actor), engine.begin() as db:
        audit_store.record(db, "api_call", object_type="api", details=entry)
