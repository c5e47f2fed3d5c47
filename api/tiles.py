"""``GET /tiles/{layer}/{z}/{x}/{y}.mvt``: vector tiles beside the app, for its maps and API clients.

Layers: ``grids-1`` … ``grids-5`` (one per grid level) and ``incidents`` (density). Query
parameters: ``datum=gcj02`` for drawing over an Amap basemap (default WGS 84); for
``incidents`` also ``status=`` (repeatable, e.g. ``status=reported&status=dispatched``),
``since=`` and ``until=`` (ISO dates or timestamps, Asia/Shanghai when no offset given).

The caller is the logged-in account: the app's session cookie, or ``Authorization: Bearer
TOKEN`` (``gridgov token create``). No valid session → 401; a role that may not see the layer →
403; an unknown layer → 404; a tile outside the pyramid or a malformed date → 400. Responses carry an ``ETag`` and
answer ``If-None-Match`` with 304; they are private to the caller (``Cache-Control: private``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["routes", "tile_service", "MEDIA_TYPE"]

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
_SERVICE: dict[str, Any] = {}


def tile_service():  # noqa: ANN201 - services.tiles.TileService
    """The process's tile service (its cache is shared by every request of this server)."""
    if "service" not in _SERVICE:
        from gis.settings import get_settings
        from services.tiles import TileService
        from store.engine import APP, make_engine

        settings = get_settings()
        _SERVICE["service"] = TileService(make_engine(role=APP, check=False),
                                          cache_bytes=settings.tile_cache_mb * 2**20)
    return _SERVICE["service"]


def _token(request: Request) -> str | None:
    from api.login import SESSION_COOKIE

    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def _error(status: int, code: str, message: str, *, detail: str | None = None) -> Response:
    body = {"error": code, "message": message, **({"detail": detail} if detail else {})}
    return Response(json.dumps(body, ensure_ascii=False), status_code=status,
                    media_type="application/json", headers={"Cache-Control": "no-store"})


def _moment(value: str | None, *, option: str) -> dt.datetime | None:
    """An ISO date or timestamp; without an offset it is local time (Asia/Shanghai by default)."""
    if not value:
        return None
    from gis import clock
    from gis.errors import ValidationError

    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{option}={value!r} is not an ISO date or timestamp (e.g. 2026-11-01)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.zone())


def _serve(request: Request) -> Response:
    from access.permissions import PermissionDenied
    from gis.errors import NotFoundError, ValidationError
    from gis.tiles import parse_tile
    from i18n import translate
    from services.auth import actor_for_token

    lang = "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"
    service = tile_service()
    token = _token(request)
    actor = actor_for_token(service.engine, token) if token else None
    if actor is None:
        return _error(401, "unauthenticated", translate("tiles.unauthenticated", lang))
    params = request.path_params
    try:
        tile = parse_tile(params["z"], params["x"], params["y"])
        result = service.tile(
            actor, params["layer"], tile, datum=request.query_params.get("datum", "wgs84"),
            statuses=request.query_params.getlist("status") or None,
            since=_moment(request.query_params.get("since"), option="since"),
            until=_moment(request.query_params.get("until"), option="until"),
        )
    except PermissionDenied:
        return _error(403, "forbidden", translate("tiles.forbidden", lang))
    except NotFoundError:
        return _error(404, "not_found", translate("tiles.not_found", lang))
    except ValidationError as exc:  # a tile outside the pyramid, a malformed since/until
        return _error(400, "bad_request", translate("tiles.bad_request", lang), detail=str(exc))
    headers = {"ETag": result.etag, "Cache-Control": "private, no-cache", "Vary": "Cookie, Authorization",
               "X-Tile-Cache": "hit" if result.cached else "miss"}
    if request.headers.get("if-none-match") == result.etag:
        return Response(status_code=304, headers=headers)
    return Response(result.data, media_type=MEDIA_TYPE, headers=headers)


async def _tile(request: Request) -> Response:
    return await run_in_threadpool(_serve, request)


def routes() -> list[Route]:
    """The tile route to mount beside the app."""
    return [Route("/tiles/{layer}/{z}/{x}/{y}.mvt", _tile, methods=["GET"])]
