"""The gate every ``/api``, ``/ogc`` and ``/tiles`` request passes: who calls, how often, and the audit of the call.

A pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` would run the route in another task,
and the context would not reach it). For each HTTP request it

1. reads ``Authorization: Bearer <token>`` and resolves the caller in one transaction bound to
   that token (:func:`services.api_access.authenticate_token`); when single sign-on is configured
   a token that is not a GridGov API token is checked as an OpenID Connect access token and given
   a GridGov session of its own (cached until it expires). Where the app's own pages fetch
   (``sessions=True``: vector tiles), a request without a bearer token may carry the app's
   session cookie instead. No valid token: **401** with ``WWW-Authenticate: Bearer``;
2. counts the call against the token's rate limit (its own, else ``GRIDGOV_API_RATE`` per minute
   with bursts of ``GRIDGOV_API_BURST``): beyond it **429** with ``Retry-After`` (seconds);
3. binds the caller to every transaction the route opens (:func:`store.session.acting_as`: the
   database applies the account's row-level security) and to :data:`api.runtime.current_caller`;
4. records the call in the audit trail (method, path, query, status, duration) — refused calls too
   (``audit=False`` where the route audits in aggregate itself: a map draws dozens of tiles, and
   :class:`services.tiles.TileService` writes one entry per account and minute).

Errors are JSON in the caller's language (:mod:`api.errors`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import runtime
from api.errors import ApiError, error_response

__all__ = ["ApiGate", "bearer_token", "session_cookie"]

logger = logging.getLogger(__name__)

_OIDC_CACHE_SIZE = 1000
_oidc_sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()
_oidc_lock = threading.Lock()


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _oidc_caller(token: str):  # noqa: ANN202 - ApiCaller | None
    """The caller of an OpenID Connect access token (a GridGov session opened for it, cached)."""
    from api.oidc import InvalidAccessToken
    from services.api_access import authenticate_token, open_oidc_session
    from services.auth import LoginRefused

    validator = runtime.oidc_validator()
    if validator is None:
        return None
    key = hashlib.sha256(token.encode("utf-8")).hexdigest()
    now = time.time()
    with _oidc_lock:
        cached = _oidc_sessions.get(key)
    if cached is not None and cached[1] > now:
        found = authenticate_token(runtime.engine(), cached[0], method="oidc")
        if found is not None:
            return found
    try:
        name, expires = validator.account(token)
    except InvalidAccessToken as exc:
        logger.info("access token refused: %s", exc)
        return None
    if expires.timestamp() <= now:
        return None
    try:
        session = open_oidc_session(runtime.engine(), name, expires_at=expires)
    except LoginRefused as exc:
        logger.info("access token of %r refused: %s", name, exc)
        return None
    with _oidc_lock:
        _oidc_sessions[key] = (session, expires.timestamp())
        while len(_oidc_sessions) > _OIDC_CACHE_SIZE:
            _oidc_sessions.popitem(last=False)
    return authenticate_token(runtime.engine(), session, method="oidc")


def session_cookie(scope: Scope) -> str | None:
    """The app's session cookie of the request, else ``None``."""
    from api.login import SESSION_COOKIE

    return Request(scope).cookies.get(SESSION_COOKIE) or None


def _authenticate(token: str | None, cookie: str | None = None):  # noqa: ANN202 - ApiCaller | None
    from services.api_access import authenticate_browser_session, authenticate_token

    if token:
        found = authenticate_token(runtime.engine(), token)
        return found if found is not None else _oidc_caller(token)
    if cookie:
        return authenticate_browser_session(runtime.engine(), cookie)
    return None


def _record(caller, method: str, path: str, query: str, status: int, ms: float, reason: str | None) -> None:  # noqa: ANN001
    from services.api_access import record_call

    try:
        record_call(runtime.engine(), caller, method=method, path=path, query=query, status=status, duration_ms=ms,
                    details={"refused": reason} if reason else None)
    except Exception:  # the call was answered; a failed audit write is logged loudly, never swallowed silently
        logger.exception("could not audit %s %s (%s)", method, path, status)


class ApiGate:
    """Authentication, rate limiting, binding to the account and audit for the wrapped ASGI app."""

    def __init__(self, app: ASGIApp, *, public_paths: tuple[str, ...] = (), sessions: bool = False,
                 audit: bool = True, unauthorized_key: str | None = None) -> None:
        self.app = app
        self.unauthorized_key = unauthorized_key
        self.public_paths = public_paths
        self.sessions = sessions
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if self.public_paths and path.startswith(self.public_paths):
            await self.app(scope, receive, send)
            return
        from gis.settings import get_settings
        from store.session import acting_as

        started = time.perf_counter()
        method = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        status = {"code": 500}
        reason: str | None = None
        caller = None

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            try:
                cookie = session_cookie(scope) if self.sessions else None
                caller = await asyncio.to_thread(_authenticate, bearer_token(scope), cookie)
            except Exception as exc:  # noqa: BLE001 - the database down: 503 in words, not a traceback
                from api.errors import from_exception

                reason = "unavailable"
                await error_response(Request(scope), from_exception(exc))(scope, receive, recording)
                return
            if caller is None:
                reason = "unauthenticated"
                error = ApiError(401, "unauthorized", self.unauthorized_key,
                                 headers={"WWW-Authenticate": 'Bearer realm="gridgov"'})
                await error_response(Request(scope), error)(scope, receive, recording)
                return
            settings = get_settings()
            per_minute = caller.rate_per_minute or settings.api_rate_per_minute
            limiter = runtime.limiter_for(per_minute, settings.api_burst)
            from services.api_access import rate_key

            key = rate_key(caller.actor.session_token or "")
            if not limiter.allow(key):
                seconds = max(1, math.ceil(limiter.retry_after(key)))
                reason = "rate_limited"
                error = ApiError(429, "rate_limited", params={"seconds": seconds},
                                 headers={"Retry-After": str(seconds)})
                await error_response(Request(scope), error)(scope, receive, recording)
                return
            token = runtime.current_caller.set(caller)
            try:
                with acting_as(caller.actor):
                    await self.app(scope, receive, recording)
            finally:
                runtime.current_caller.reset(token)
        finally:
            ms = (time.perf_counter() - started) * 1000
            if self.audit or reason is not None:  # refusals are always recorded
                await asyncio.to_thread(_record, caller, method, path, query, status["code"], ms, reason)
