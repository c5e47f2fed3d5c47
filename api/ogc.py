"""OGC API – Features (Part 1 Core + GeoJSON, Part 2 CRS by reference) under ``/ogc``.

A small implementation of our own rather than pygeoapi: pygeoapi's PostgreSQL provider opens its
own connection pool per collection as one configured database user, so every request would read
with the same rights; GridGov must bind each request to the calling account's session
(:func:`store.session.acting_as`) so that PostgreSQL's row-level security decides what the caller
sees (incident counts, cameras). The protocol surface needed here is small (landing page,
conformance, collections, items with ``bbox``/``limit``/``offset``/``datetime``/``crs``, single
items); the SQL is :mod:`store.features`, the use cases :mod:`services.features`.

CRS: answers are in OGC CRS84 (lon, lat) unless ``crs=`` names
``http://www.opengis.net/def/crs/EPSG/0/4490`` or ``…/EPSG/0/4326`` (latitude first, as those
CRSs define their axes); the ``Content-Crs`` header names the CRS of every feature answer.
``bbox-crs`` says the CRS of ``bbox`` likewise. Households and residents are never published.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import runtime
from api.errors import ApiError, error_response, from_exception, language
from i18n import translate

__all__ = ["routes", "CRS84", "CRS_4490", "CRS_4326", "output_for", "parse_datetime", "parse_bbox"]

logger = logging.getLogger(__name__)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
CRS_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS_LIST = [CRS84, CRS_4490, CRS_4326]
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
DEFAULT_LIMIT = 10
MAX_LIMIT = 10000
_RESERVED = {"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "sortby", "resulttype", "skipGeometry"}
_JSON = "application/json"
_GEOJSON = "application/geo+json"


def output_for(crs: str | None):  # noqa: ANN201 - store.features.Output
    """The :class:`store.features.Output` of a ``crs=`` URI; :class:`ApiError` ``bad_crs`` if unsupported."""
    from store.features import Output

    if crs in (None, "", CRS84):
        return Output(srid=4490, lat_first=False)
    if crs == CRS_4490:
        return Output(srid=4490, lat_first=True)
    if crs == CRS_4326:
        return Output(srid=4326, lat_first=True)
    raise ApiError(400, "bad_crs", params={"value": crs[:80]})


def parse_bbox(value: str | None, bbox_crs: str | None) -> tuple[float, float, float, float] | None:
    """``bbox=`` (4 numbers) in ``bbox-crs`` → (lon_min, lat_min, lon_max, lat_max) degrees."""
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
        if len(numbers) != 4:
            raise ValueError
    except ValueError:
        raise ApiError(400, "bad_parameter", params={"name": "bbox", "value": value[:60]}) from None
    out = output_for(bbox_crs)
    if out.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    x0, y0, x1, y1 = numbers
    if x0 > x1 or y0 > y1:
        raise ApiError(400, "bad_parameter", params={"name": "bbox", "value": value[:60]})
    return x0, y0, x1, y1


def _instant(text: str, *, end: bool) -> dt.datetime | None:
    from gis import clock

    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return clock.end_of_day(day) if end else clock.start_of_day(day)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad_parameter", params={"name": "datetime", "value": text[:40]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.zone())


def parse_datetime(value: str | None):  # noqa: ANN201 - store.features.Moment | None
    """``datetime=``: an instant (a date is the end of that local day) or ``start/end`` (``..`` open)."""
    from store.features import Moment

    if not value:
        return None
    if "/" in value:
        a, _, b = value.partition("/")
        return Moment(_instant(a, end=False), _instant(b, end=True))
    moment = _instant(value, end=True)
    return Moment(moment, moment, instant=True)


# -- documents ------------------------------------------------------------------------------------------
def _base(request: Request) -> str:
    from gis.settings import get_settings

    public = get_settings().public_url
    root = public or f"{request.url.scheme}://{request.url.netloc}"
    return f"{root}/ogc"


def _link(href: str, rel: str, type_: str = _JSON, title: str | None = None) -> dict[str, Any]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _level_name(level: int | None, lang: str) -> str:
    from api.mapit import type_name

    return type_name(level or 0, lang)


def _collection_doc(c: Any, base: str, lang: str, extent: tuple | None) -> dict[str, Any]:
    if c.kind == "grids":
        title = translate("ogc.grids", lang, level_name=_level_name(c.level, lang))
        description = translate("ogc.grids_description", lang, level_name=_level_name(c.level, lang))
    elif c.kind == "incident_counts":
        title = translate("ogc.counts", lang, level_name=_level_name(c.level, lang))
        description = translate("ogc.counts_description", lang, level_name=_level_name(c.level, lang))
    else:
        title, description = translate("ogc.cameras", lang), translate("ogc.cameras_description", lang)
    href = f"{base}/collections/{c.id}"
    doc: dict[str, Any] = {
        "id": c.id, "title": title, "description": description, "itemType": "feature",
        "crs": CRS_LIST, "storageCrs": CRS_4490,
        "links": [_link(href, "self"), _link(f"{href}/items", "items", _GEOJSON)],
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
        if c.kind == "grids":
            doc["extent"]["temporal"] = {"interval": [[None, None]],
                                         "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return doc


def _json(data: Any, *, media_type: str = _JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), media_type=media_type, headers=headers)


def _answers(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
    @functools.wraps(fn)
    async def run(request: Request) -> Response:
        try:
            return await fn(request)
        except Exception as exc:  # noqa: BLE001 - every failure is answered in words
            error = from_exception(exc)
            if error.status >= 500:
                logger.exception("%s failed", request.url.path)
            return error_response(request, error)

    return run


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any):  # noqa: ANN202
    return run_in_threadpool(functools.partial(fn, runtime.engine(), runtime.caller().actor, *args, **kwargs))


async def _collection(request: Request):  # noqa: ANN202
    from services.features import collections

    wanted = request.path_params["collection"]
    for c in await _call(collections):
        if c.id == wanted:
            return c
    raise ApiError(404, "not_found")


@_answers
async def landing(request: Request) -> Response:
    base, lang = _base(request), language(request)
    api = base[: -len("/ogc")] + "/api/openapi.json"
    return _json({
        "title": translate("ogc.title", lang), "description": translate("ogc.description", lang),
        "links": [
            _link(base + "/", "self"),
            _link(api, "service-desc", "application/vnd.oai.openapi+json;version=3.0"),
            _link(base + "/conformance", "conformance"),
            _link(base + "/collections", "data"),
        ],
    })


@_answers
async def conformance(request: Request) -> Response:
    return _json({"conformsTo": CONFORMANCE})


@_answers
async def collections_doc(request: Request) -> Response:
    from services.features import collections, extent

    base, lang = _base(request), language(request)
    found = await _call(collections)
    box = await _call(extent)
    return _json({"links": [_link(base + "/collections", "self")],
                  "collections": [_collection_doc(c, base, lang, box) for c in found], "crs": CRS_LIST})


@_answers
async def collection_doc(request: Request) -> Response:
    from services.features import extent

    c = await _collection(request)
    return _json(_collection_doc(c, _base(request), language(request), await _call(extent)))


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, "bad_parameter", params={"name": name, "value": value[:40]}) from None
    if number < low:
        raise ApiError(400, "bad_parameter", params={"name": name, "value": value[:40]})
    return min(number, high)


@_answers
async def items(request: Request) -> Response:
    from services.features import query

    c = await _collection(request)
    params = request.query_params
    crs = params.get("crs") or CRS84
    out = output_for(crs)
    limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int(request, "offset", 0, 0, 10**9)
    bbox = parse_bbox(params.get("bbox"), params.get("bbox-crs"))
    moment = parse_datetime(params.get("datetime"))
    equals = {k: v for k, v in params.items() if k not in _RESERVED and k in c.properties}
    hits = params.get("resulttype") == "hits"
    features, matched = await _call(query, c, out=out, bbox=bbox, moment=moment, equals=equals, limit=limit,
                                    offset=offset, hits_only=hits,
                                    skip_geometry=params.get("skipGeometry", "").lower() == "true")
    href = f"{_base(request)}/collections/{c.id}/items"
    kept = [(k, v) for k, v in params.multi_items() if k not in ("offset", "limit", "f")]
    links = [_link(f"{href}?{urlencode([*kept, ('limit', limit), ('offset', offset)])}", "self", _GEOJSON)]
    if offset + len(features) < matched and not hits:
        links.append(_link(f"{href}?{urlencode([*kept, ('limit', limit), ('offset', offset + limit)])}", "next",
                           _GEOJSON))
    if offset > 0:
        links.append(_link(f"{href}?{urlencode([*kept, ('limit', limit), ('offset', max(0, offset - limit))])}",
                           "prev", _GEOJSON))
    body = {"type": "FeatureCollection", "features": features, "numberMatched": matched,
            "numberReturned": len(features), "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "links": links}
    return _json(body, media_type=_GEOJSON, headers={"Content-Crs": f"<{crs}>"})


@_answers
async def item(request: Request) -> Response:
    from services.features import get

    c = await _collection(request)
    crs = request.query_params.get("crs") or CRS84
    feature = await _call(get, c, request.path_params["fid"], out=output_for(crs))
    if feature is None:
        raise ApiError(404, "not_found")
    href = f"{_base(request)}/collections/{c.id}"
    feature["links"] = [_link(f"{href}/items/{feature['id']}", "self", _GEOJSON), _link(href, "collection")]
    return _json(feature, media_type=_GEOJSON, headers={"Content-Crs": f"<{crs}>"})


def routes() -> list[Route]:
    """The OGC API – Features routes, relative to ``/ogc``."""
    return [
        Route("/", landing, methods=["GET"]),
        Route("/conformance", conformance, methods=["GET"]),
        Route("/collections", collections_doc, methods=["GET"]),
        Route("/collections/{collection}", collection_doc, methods=["GET"]),
        Route("/collections/{collection}/items", items, methods=["GET"]),
        Route("/collections/{collection}/items/{fid:path}", item, methods=["GET"]),
    ]
