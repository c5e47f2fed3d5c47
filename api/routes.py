"""The HTTP API as mounted beside the UI: ``/api`` (MapIt, Open311, OpenAPI) and ``/ogc`` (OGC API – Features).

:func:`routes` is what ``serve.py`` gives ``st.App(routes=...)`` (and what the tests serve on
their own Starlette app or uvicorn). Everything under ``/api`` and ``/ogc`` passes the gate
(:class:`api.gate.ApiGate`: bearer token, rate limit, the account bound to every transaction,
audit); only ``/api/openapi.json``, the description of every endpoint, is public. The public,
login-free pages under ``/public/`` (:mod:`api.public`) are served beside them, outside the gate. Unknown paths
and methods under ``/api`` and ``/ogc`` answer JSON errors like every other refusal.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router, request_response

from api import mapit, ogc, open311, public
from api.errors import ApiError, error_response
from api.gate import ApiGate

__all__ = ["routes", "json_router", "openapi_document", "OPENAPI_PATH"]

OPENAPI_PATH = "/api/openapi.json"


async def _not_found(request: Request) -> Response:
    return error_response(request, ApiError(404, "not_found"))


async def _method(request: Request) -> Response:
    return error_response(request, ApiError(405, "method"))


def json_router(inner: list[BaseRoute]) -> Router:
    """A router whose unknown paths and methods answer the API's JSON errors (404, 405)."""
    router = Router(routes=inner, redirect_slashes=False)

    async def not_found(scope, receive, send):  # noqa: ANN001, ANN202 - ASGI
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = scope.get("path", "")
        for route in inner:  # a known path with another method: 405 in words
            match, _ = route.matches({**scope, "method": "GET", "path": path})
            if match.name == "FULL" and request.method != "GET":
                await (await _method(request))(scope, receive, send)
                return
        await (await _not_found(request))(scope, receive, send)

    router.default = not_found
    return router


def _ok(description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {}}}


def _op(summary: str, params: list[str] = (), *, write: bool = False, media: str = "application/json",
        body: dict | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
                          "responses": {"200" if not write else "201": _ok("OK", media),
                                        "400": {"$ref": "#/components/responses/Error"},
                                        "401": {"$ref": "#/components/responses/Error"},
                                        "404": {"$ref": "#/components/responses/Error"},
                                        "429": {"$ref": "#/components/responses/Error"}}}
    if body is not None:
        op["requestBody"] = body
    return op


def openapi_document(base: str = "") -> dict[str, Any]:
    """The OpenAPI 3.0 description of every endpoint under ``/api`` and ``/ogc``."""
    def path_param(name: str, description: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}

    def query(name: str, description: str, type_: str = "string") -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": {"type": type_}, "description": description}

    params = {
        "crs_path": path_param("crs", "4490, 4326, gcj02, bd09 or another EPSG code"),
        "coords": path_param("coords", "x,y (longitude,latitude for geographic systems)"),
        "code": path_param("code", "grid code"),
        "fmt": path_param("fmt", "json or xml"),
        "service": path_param("code", "incident category (service_code)"),
        "request_id": path_param("id", "service request id"),
        "collection": path_param("collection", "collection id"),
        "fid": path_param("fid", "feature id (grid code, or CODE@VERSION)"),
        "date": query("date", "YYYY-MM-DD: answer as the plan was at the end of that day"),
        "type": query("type", "levels to keep, e.g. L1,L3"),
        "limit": query("limit", f"features per page (1..{ogc.MAX_LIMIT}, default {ogc.DEFAULT_LIMIT})", "integer"),
        "offset": query("offset", "features to skip", "integer"),
        "bbox": query("bbox", "min x, min y, max x, max y in bbox-crs (default CRS84)"),
        "bbox_crs": query("bbox-crs", "CRS of bbox (CRS84, EPSG:4490, EPSG:4326 URIs)"),
        "datetime": query("datetime", "instant or interval (start/end, .. open)"),
        "crs": query("crs", "CRS of the answer (CRS84, EPSG:4490, EPSG:4326 URIs)"),
        "start_date": query("start_date", "ISO 8601"),
        "end_date": query("end_date", "ISO 8601"),
        "status": query("status", "open, closed"),
        "service_request_id": query("service_request_id", "comma-separated ids"),
        "service_code_q": query("service_code", "comma-separated categories"),
    }
    form = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["service_code"],
        "properties": {k: {"type": "string"} for k in (
            "service_code", "lat", "long", "address_string", "description", "media_url", "email", "phone",
            "first_name", "last_name", "device_id", "account_id")}}}}}
    paths = {
        "/api/point/{crs}/{coords}": {"get": _op("Grids at a point (MapIt)", ["crs_path", "coords", "date", "type"])},
        "/api/area/{code}": {"get": _op("One grid (MapIt area)", ["code", "date"])},
        "/api/area/{code}/children": {"get": _op("Grids directly below", ["code", "date", "type"])},
        "/api/area/{code}/geometry": {"get": _op("Area, centre and extent", ["code", "date"])},
        "/api/area/{code}.geojson": {"get": _op("Boundary as GeoJSON", ["code", "date"], media="application/geo+json")},
        "/api/open311/v2/services.{fmt}": {"get": _op("Open311 services (incident categories)", ["fmt"])},
        "/api/open311/v2/services/{code}.{fmt}": {"get": _op("Open311 service definition", ["service", "fmt"])},
        "/api/open311/v2/requests.{fmt}": {
            "get": _op("Open311 service requests", ["fmt", "service_request_id", "service_code_q", "start_date",
                                                    "end_date", "status"]),
            "post": _op("File an incident (Open311)", ["fmt"], write=True, body=form)},
        "/api/open311/v2/requests/{id}.{fmt}": {"get": _op("One Open311 service request", ["request_id", "fmt"])},
        "/ogc": {"get": _op("OGC API landing page")},
        "/ogc/conformance": {"get": _op("OGC API conformance classes")},
        "/ogc/collections": {"get": _op("Feature collections")},
        "/ogc/collections/{collection}": {"get": _op("One feature collection", ["collection"])},
        "/ogc/collections/{collection}/items": {"get": _op(
            "Features", ["collection", "limit", "offset", "bbox", "bbox_crs", "datetime", "crs"],
            media="application/geo+json")},
        "/ogc/collections/{collection}/items/{fid}": {"get": _op("One feature", ["collection", "fid", "crs"],
                                                                 media="application/geo+json")},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "GridGov API", "version": "1",
                 "description": "Every endpoint except this document needs Authorization: Bearer <token> "
                                "(`gridgov token create`). Errors: {\"error\": code, \"message\": text} in the "
                                "Accept-Language of the request (Chinese by default)."},
        "servers": [{"url": base or "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": params,
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {
                "type": "object", "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}}}}},
        },
    }


async def _openapi(request: Request) -> Response:
    from gis.settings import get_settings

    base = get_settings().public_url or f"{request.url.scheme}://{request.url.netloc}"
    return JSONResponse(openapi_document(base), media_type="application/vnd.oai.openapi+json;version=3.0")


def routes() -> list[BaseRoute]:
    """The API's routes, to serve beside the UI (``st.App(routes=...)``)."""
    api = ApiGate(json_router([*mapit.routes(), *open311.routes()]))
    features = ApiGate(json_router(ogc.routes()))
    landing = ApiGate(request_response(ogc.landing))
    return [
        Route(OPENAPI_PATH, _openapi, methods=["GET"]),
        Route("/ogc", landing, methods=["GET"]),
        Mount("/api", app=api),
        Mount("/ogc", app=features),
        *public.routes(),  # /public/: the login-free pages (no gate), api/public.py
    ]
