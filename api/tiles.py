"""``GET /tiles/{layer}/{z}/{x}/{y}.mvt``: vector tiles beside the app, for its maps and API clients.

Layers: ``grids-1`` … ``grids-5`` (one per grid level) and ``incidents`` (density). Query
parameters: ``datum=gcj02`` for drawing over an Amap basemap (default WGS 84); for
``incidents`` also ``status=`` (repeatable, e.g. ``status=reported&status=dispatched``),
``since=`` and ``until=`` (ISO dates or timestamps, Asia/Shanghai when no offset given).

The route passes the API's gate (:class:`api.gate.ApiGate`): the caller is the logged-in account —
the app's session cookie, or ``Authorization: Bearer TOKEN`` (``gridgov token create``) — bound
to the tile's transaction and rate-limited like every API call; the tile service audits tiles in
aggregate (one entry per account and minute). No valid session → 401; a role that may not see
the layer → 403; an unknown layer → 404; a tile outside the pyramid or a malformed date → 400;
errors are the API's JSON in the caller's language. Responses carry an ``ETag`` and answer
``If-None-Match`` with 304; they are private to the caller (``Cache-Control: private``).
"""

from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

__all__ = ["routes", "MEDIA_TYPE"]

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"


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
    from api import runtime
    from api.errors import ApiError, error_response
    from gis.errors import NotFoundError, ValidationError
    from gis.tiles import parse_tile

    service = runtime.tile_service()
    params = request.path_params
    try:
        tile = parse_tile(params["z"], params["x"], params["y"])
        result = service.tile(
            runtime.caller().actor, params["layer"], tile, datum=request.query_params.get("datum", "wgs84"),
            statuses=request.query_params.getlist("status") or None,
            since=_moment(request.query_params.get("since"), option="since"),
            until=_moment(request.query_params.get("until"), option="until"),
        )
    except PermissionDenied:
        return error_response(request, ApiError(403, "forbidden", "tiles.forbidden"))
    except NotFoundError:
        return error_response(request, ApiError(404, "not_found", "tiles.not_found"))
    except ValidationError as exc:  # a tile outside the pyramid, a malformed since/until
        return error_response(request, ApiError(400, "bad_request", "tiles.bad_request", detail=str(exc)))
    headers = {"ETag": result.etag, "Cache-Control": "private, no-cache", "Vary": "Cookie, Authorization",
               "X-Tile-Cache": "hit" if result.cached else "miss"}
    if request.headers.get("if-none-match") == result.etag:
        return Response(status_code=304, headers=headers)
    return Response(result.data, media_type=MEDIA_TYPE, headers=headers)


async def _tile(request: Request) -> Response:
    return await run_in_threadpool(_serve, request)


def routes() -> list[BaseRoute]:
    """The tile route to mount beside the app, behind the API's gate (session cookie or bearer token)."""
    from api.gate import ApiGate
    from api.routes import json_router

    tiles = ApiGate(json_router([Route("/{layer}/{z}/{x}/{y}.mvt", _tile, methods=["GET"])]), sessions=True,
                    audit=False, unauthorized_key="tiles.unauthenticated")
    return [Mount("/tiles", app=tiles)]
