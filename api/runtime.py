"""What the HTTP routes of one server process share: the application engine, the tile service (its
cache), the OpenID Connect token validator, the rate limiters (API tokens; the public pages' client
addresses) and the caller of the request being served.

No module-level engine is made at import: :func:`engine` creates the application role's engine on
first use (the app role: owns nothing, no BYPASSRLS; every transaction bound to the caller).
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from governance.ratelimit import RateLimiter

if TYPE_CHECKING:
    from services.api_access import ApiCaller

__all__ = ["engine", "tile_service", "current_caller", "caller", "limiter_for", "public_limiter", "oidc_validator",
           "reset"]

_STATE: dict[str, Any] = {}
_LOCK = threading.Lock()

#: The caller of the request being served (set by :class:`api.gate.ApiGate`).
current_caller: ContextVar["ApiCaller | None"] = ContextVar("gridgov_api_caller", default=None)


def engine():  # noqa: ANN201 - sqlalchemy Engine
    """The application role's engine of this process (created on first use)."""
    with _LOCK:
        if "engine" not in _STATE:
            from store.engine import APP, make_engine

            _STATE["engine"] = make_engine(role=APP, check=False, pool_size=10, max_overflow=20)
        return _STATE["engine"]


def tile_service():  # noqa: ANN201 - services.tiles.TileService
    """The process's vector tile service over :func:`engine` (its cache is shared by every request)."""
    engine_ = engine()
    with _LOCK:
        if "tiles" not in _STATE:
            from gis.settings import get_settings
            from services.tiles import TileService

            _STATE["tiles"] = TileService(engine_, cache_bytes=get_settings().tile_cache_mb * 2**20)
        return _STATE["tiles"]


def caller() -> "ApiCaller":
    """The caller of this request (routes behind the gate only)."""
    value = current_caller.get()
    if value is None:  # pragma: no cover - a route outside the gate is a programming error
        raise RuntimeError("no API caller in this context: the route is not behind api.gate.ApiGate")
    return value


def limiter_for(per_minute: int, burst: int) -> RateLimiter:
    """The token buckets of all tokens allowed ``per_minute`` requests a minute with ``burst`` at once."""
    capacity = float(max(1, min(burst, per_minute)))
    key = ("limiter", per_minute, capacity)
    with _LOCK:
        if key not in _STATE:
            _STATE[key] = RateLimiter(capacity=capacity, period_s=capacity * 60.0 / per_minute)
        return _STATE[key]


def public_limiter() -> RateLimiter:
    """The token buckets of the public pages, per client address (``GRIDGOV_PUBLIC_RATE`` a minute,
    bursts of ``GRIDGOV_PUBLIC_BURST``); apart from the API tokens' buckets."""
    from gis.settings import get_settings

    settings = get_settings()
    capacity = float(max(1, settings.public_burst))
    key = ("public", settings.public_rate_per_minute, capacity)
    with _LOCK:
        if key not in _STATE:
            _STATE[key] = RateLimiter(capacity=capacity, period_s=capacity * 60.0 / settings.public_rate_per_minute)
        return _STATE[key]


def oidc_validator():  # noqa: ANN201 - api.oidc.AccessTokenValidator or None
    """The access-token validator when single sign-on is configured, else ``None``."""
    with _LOCK:
        if "oidc" not in _STATE:
            from gis.settings import get_settings

            settings = get_settings()
            if settings.oidc_enabled and settings.oidc_client_id:
                from api.oidc import AccessTokenValidator

                _STATE["oidc"] = AccessTokenValidator(settings)
            else:
                _STATE["oidc"] = None
        return _STATE["oidc"]


def reset() -> None:
    """Forget everything (tests that change settings in-process)."""
    with _LOCK:
        engine_ = _STATE.pop("engine", None)
        _STATE.clear()
    if engine_ is not None:
        engine_.dispose()
