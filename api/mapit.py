"""Point → grid and grids as areas, in MapIt's shapes (``/api/point``, ``/api/area``).

MapIt (mySociety's point-to-boundary service) answers ``/point/4326/<lon>,<lat>`` with a JSON
object keyed by area id; GridGov answers the same way, keyed by grid code::

    {"430603003001001001": {"id": "430603003001001001", "name": "…1号微网格", "type": "L3",
                            "type_name": "微网格", "parent_area": "430603003001001",
                            "codes": {"gridgov": "430603003001001001"}, "generation": 1,
                            "generation_low": 1, "generation_high": 1,
                            "valid_from": "…", "valid_to": null, "country": "", "country_name": "",
                            "all_names": {}},
     "430603003001001": {…}, "430603003001": {… "codes": {"gridgov": "…", "stats": "430603003001"}}}

``type`` is ``L<level>``; level-1 grids carry their statistical division code (统计用区划代码,
the level-1 grid code itself) under ``codes.stats``; ``generation`` is the grid's version.
Unlike MapIt, ``?date=YYYY-MM-DD`` answers as the plan was at the end of that day (MapIt's users
asked for it), and a point outside every grid answers ``{}`` plus ``nearest`` (the nearest
micro-grid and its distance in metres). ``?type=L1,L3`` keeps only those levels.

Routes are thin: parse, call :mod:`services.areas`, shape. The coordinate systems of the path:
``4490`` (CGCS2000), ``4326`` (WGS 84), ``gcj02`` (Amap, Tencent), ``bd09`` (Baidu), or any other
EPSG code (x then y, e.g. Gauss-Krüger metres ``4547``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Callable
from typing import Any

import shapely
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import runtime
from api.errors import ApiError, error_response, from_exception, language
from i18n import translate

__all__ = ["routes", "area_json", "parse_point", "parse_types", "parse_date"]

_JSON = "application/json; charset=utf-8"


def parse_point(text: str) -> tuple[float, float]:
    """``"x,y"`` of the path (``.json`` allowed at the end) → floats; :class:`ApiError` ``bad_point``."""
    value = text[:-5] if text.endswith(".json") else text
    parts = value.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        x, y = float(parts[0]), float(parts[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError
    except ValueError:
        raise ApiError(400, "bad_point", params={"value": text[:60]}) from None
    return x, y


def parse_crs(text: str) -> object:
    """The CRS segment of the path: an EPSG code (digits) or ``gcj02``/``bd09``; :class:`ApiError` ``bad_crs``."""
    from gis.crs import offset_crs_name

    if offset_crs_name(text):
        return offset_crs_name(text)
    if text.isdigit() and len(text) <= 6:
        return int(text)
    raise ApiError(400, "bad_crs", params={"value": text[:40]})


def parse_date(request: Request) -> dt.date | None:
    """``?date=YYYY-MM-DD`` (the end of that local day is the moment asked about)."""
    value = request.query_params.get("date")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "bad_date", params={"value": value[:40]}) from None


def parse_types(request: Request) -> set[int] | None:
    """``?type=L1,L3`` → {1, 3}; ``None`` when not given."""
    value = request.query_params.get("type")
    if not value:
        return None
    levels = set()
    for part in value.split(","):
        part = part.strip().upper()
        if len(part) < 2 or part[0] != "L" or not part[1:].isdigit() or not 1 <= int(part[1:]) <= 5:
            raise ApiError(400, "bad_type", params={"value": value[:40]})
        levels.add(int(part[1:]))
    return levels


def _moment(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def type_name(level: int, lang: str) -> str:
    key = f"api.area_type.{level}"
    from i18n import CATALOGUE

    return translate(key, lang) if key in CATALOGUE else translate("api.area_type.n", lang, level=level)


def area_json(area: Any, lang: str) -> dict[str, Any]:
    """One grid (:class:`store.areas.Area`) as a MapIt area."""
    codes = {"gridgov": area.code}
    if area.level == 1:
        codes["stats"] = area.code
    return {
        "id": area.code,
        "name": area.name,
        "type": f"L{area.level}",
        "type_name": type_name(area.level, lang),
        "parent_area": area.parent_code,
        "codes": codes,
        "generation": area.version,
        "generation_low": area.version,
        "generation_high": area.version,
        "valid_from": _moment(area.valid_from),
        "valid_to": _moment(area.valid_to),
        "country": "",
        "country_name": "",
        "all_names": {},
    }


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type=_JSON)


def _answers(fn: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Run a route; a domain error becomes the JSON error in the caller's language."""

    @functools.wraps(fn)
    def run(request: Request) -> Response:
        try:
            return fn(request)
        except Exception as exc:  # noqa: BLE001 - every failure is answered in words
            error = from_exception(exc)
            if error.status >= 500:
                import logging

                logging.getLogger(__name__).exception("%s failed", request.url.path)
            return error_response(request, error)

    return run


def _code(request: Request) -> str:
    from boundaries.coding import default_scheme

    code = request.path_params["code"]
    if not default_scheme().is_valid(code):
        raise ApiError(400, "invalid_code", params={"code": code[:40]})
    return code


@_answers
def point(request: Request) -> Response:
    """``GET /api/point/{crs}/{x},{y}``: the grids at a point, MapIt style."""
    from services.areas import areas_at_point

    crs = parse_crs(request.path_params["crs"])
    x, y = parse_point(request.path_params["coords"])
    day, levels = parse_date(request), parse_types(request)
    lang = language(request)
    try:
        found = areas_at_point(runtime.engine(), runtime.caller().actor, x, y, crs=crs, as_of=day)
    except ApiError:
        raise
    except Exception as exc:
        from gis.errors import CRSError

        if isinstance(exc, CRSError) and not isinstance(crs, str) and "not recognised" in str(exc):
            raise ApiError(400, "bad_crs", params={"value": str(crs)}, detail=str(exc)) from None
        raise
    body: dict[str, Any] = {a.code: area_json(a, lang) for a in found.areas if levels is None or a.level in levels}
    if not found.areas and found.nearest is not None:
        from boundaries.coding import default_scheme

        level = default_scheme().level_of(found.nearest.code)
        body["nearest"] = {"id": found.nearest.code, "name": found.nearest.name, "type": f"L{level}",
                           "distance_m": round(found.nearest.distance_m, 1)}
    return _json(body)


@_answers
def area(request: Request) -> Response:
    """``GET /api/area/{code}``: one grid."""
    from services.areas import area as find

    code = _code(request)
    return _json(area_json(find(runtime.engine(), runtime.caller().actor, code, as_of=parse_date(request)),
                           language(request)))


@_answers
def children(request: Request) -> Response:
    """``GET /api/area/{code}/children``: the grids directly below, keyed by code."""
    from services.areas import area_children

    code, levels = _code(request), parse_types(request)
    lang = language(request)
    found = area_children(runtime.engine(), runtime.caller().actor, code, as_of=parse_date(request))
    return _json({a.code: area_json(a, lang) for a in found if levels is None or a.level in levels})


@_answers
def geometry(request: Request) -> Response:
    """``GET /api/area/{code}/geometry``: area (m²), centre and extent (degrees, EPSG:4490), parts."""
    from gis.measure import area_m2
    from services.areas import area_geometry

    code = _code(request)
    _area, shape = area_geometry(runtime.engine(), runtime.caller().actor, code, as_of=parse_date(request))
    centre = shapely.centroid(shape)
    x0, y0, x1, y1 = shape.bounds
    return _json({
        "srid": 4490,
        "area": round(float(area_m2([shape])[0]), 1),
        "centre_lon": round(centre.x, 7), "centre_lat": round(centre.y, 7),
        "min_lon": round(x0, 7), "min_lat": round(y0, 7), "max_lon": round(x1, 7), "max_lat": round(y1, 7),
        "parts": int(shapely.get_num_geometries(shape)),
    })


@_answers
def geojson(request: Request) -> Response:
    """``GET /api/area/{code}.geojson``: the grid's boundary as a GeoJSON Feature (lon/lat, EPSG:4490)."""
    from services.areas import area_geometry

    code = _code(request)
    found, shape = area_geometry(runtime.engine(), runtime.caller().actor, code, as_of=parse_date(request))
    feature = {"type": "Feature", "id": found.code,
               "geometry": json.loads(shapely.to_geojson(shape)),
               "properties": area_json(found, language(request))}
    return Response(json.dumps(feature, ensure_ascii=False), media_type="application/geo+json")


def routes() -> list[Route]:
    """The MapIt-style routes, relative to ``/api`` (the ``.geojson`` route before the plain one)."""
    return [
        Route("/point/{crs}/{coords}", point, methods=["GET"]),
        Route("/area/{code}.geojson", geojson, methods=["GET"]),
        Route("/area/{code}/children", children, methods=["GET"]),
        Route("/area/{code}/geometry", geometry, methods=["GET"]),
        Route("/area/{code}", area, methods=["GET"]),
    ]

