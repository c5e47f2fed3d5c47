"""The feature collections GridGov publishes (OGC API – Features, :mod:`api.ogc`): their rows as GeoJSON.

Collections, all read from the ``security_invoker`` views of schema ``gridgov_gis`` (migration
0004) under the acting account's row-level security:

* ``grids-level-N`` — the grids of level N, as of a moment or over an interval (every version
  valid in it; ids ``CODE@VERSION`` then), from ``gridgov_gis.grid_versions``;
* ``incident-counts-level-N`` — each grid of level N in the account's incident scope with the
  incidents it may see below it (``gridgov_gis.incident_counts``);
* ``cameras`` — camera points, only when a ``cameras`` table with ``camera_key, name, type,
  status, grid_code, geom`` exists (never its stream URL).

Households and residents are not published. Geometries are stored in EPSG:4490 with x =
longitude; :class:`Output` names the SRID of the answer and whether its CRS puts latitude first
(EPSG:4490 and EPSG:4326 do; OGC CRS84 does not): the transformation and the axis swap happen
in SQL, so coordinates leave the database in the axis order of the requested CRS.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from store.sql import SRID, Executor, valid_at

__all__ = ["Collection", "Output", "Moment", "published_collections", "extent", "query_features", "get_feature"]


@dataclass(frozen=True)
class Collection:
    """One published collection: the relation it reads, its id column and properties (JSON types)."""

    id: str
    kind: str  # grids | incident_counts | cameras
    level: int | None
    relation: str
    id_column: str
    properties: dict[str, str]
    where: str = "TRUE"
    versioned: bool = False


@dataclass(frozen=True)
class Output:
    """The CRS of an answer: its SRID, whether latitude comes first, decimals of the coordinates."""

    srid: int = 4326
    lat_first: bool = False
    decimals: int = 9


@dataclass(frozen=True)
class Moment:
    """``datetime=``: an instant (``start == end``) or an interval with open ends as ``None``."""

    start: dt.datetime | None
    end: dt.datetime | None
    instant: bool = field(default=False)


_GRID_PROPERTIES = {"code": "string", "name": "string", "level": "integer", "parent_code": "string",
                    "version": "integer", "valid_from": "string", "valid_to": "string"}
_COUNT_PROPERTIES = {"code": "string", "name": "string", "level": "integer", "parent_code": "string",
                     "incidents": "integer", "open_incidents": "integer", "last_reported_at": "string"}
_CAMERA_PROPERTIES = {"camera_key": "string", "name": "string", "type": "string", "status": "string",
                      "grid_code": "string"}


def published_collections(db: Executor, levels: range | list[int]) -> list[Collection]:
    """The collections for grid ``levels`` (1 … the scheme's finest), and cameras if that table exists."""
    out: list[Collection] = []
    for level in levels:
        out.append(Collection(f"grids-level-{level}", "grids", level, "gridgov_gis.grid_versions", "code",
                              _GRID_PROPERTIES, where=f"level = {int(level)}", versioned=True))
    for level in levels:
        out.append(Collection(f"incident-counts-level-{level}", "incident_counts", level, "gridgov_gis.incident_counts",
                              "code", _COUNT_PROPERTIES, where=f"level = {int(level)}"))
    columns = {r[0] for r in db.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'cameras'"))}
    if {*_CAMERA_PROPERTIES, "geom"} <= columns:
        out.append(Collection("cameras", "cameras", None, "public.cameras", "camera_key", _CAMERA_PROPERTIES))
    return out


def extent(db: Executor) -> tuple[float, float, float, float] | None:
    """(lon_min, lat_min, lon_max, lat_max) of the current grids, EPSG:4490; ``None`` without grids."""
    row = db.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                          "(SELECT ST_Extent(geom)::geometry AS e FROM gridgov_gis.grids) s")).first()
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def _geom_sql(out: Output) -> str:
    geom = "geom" if out.srid == SRID else f"ST_Transform(geom, {int(out.srid)})"
    if out.lat_first:
        geom = f"ST_FlipCoordinates({geom})"
    return f"ST_AsGeoJSON({geom}, {int(out.decimals)})"


def _moment_sql(collection: Collection, moment: Moment | None, params: dict[str, Any]) -> str:
    if not collection.versioned:
        return "TRUE"
    if moment is None or moment.instant:
        params["as_of"] = None if moment is None else moment.start
        return valid_at()
    clauses = []
    if moment.end is not None:
        clauses.append("valid_from <= :m_end")
        params["m_end"] = moment.end
    if moment.start is not None:
        clauses.append("(valid_to IS NULL OR valid_to > :m_start)")
        params["m_start"] = moment.start
    return " AND ".join(clauses) or "TRUE"


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _feature(collection: Collection, row: Any) -> dict[str, Any]:
    m = row._mapping
    return {
        "type": "Feature",
        "id": m["_id"],
        "geometry": json.loads(m["_geom"]) if m["_geom"] is not None else None,
        "properties": {k: _value(m[k]) for k in collection.properties},
    }


def query_features(
    db: Executor,
    collection: Collection,
    *,
    out: Output,
    bbox: tuple[float, float, float, float] | None = None,
    moment: Moment | None = None,
    equals: dict[str, str] | None = None,
    sort: list[tuple[str, bool]] | None = None,
    limit: int = 10,
    offset: int = 0,
    hits_only: bool = False,
    skip_geometry: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """The features of ``collection`` the account may see, and how many match in all.

    ``bbox`` is lon/lat EPSG:4490; ``equals`` property = value filters (unknown properties are
    ignored); ``sort`` (property, ascending) pairs; ``moment`` the grids' ``datetime``.
    """
    params: dict[str, Any] = {}
    where = [collection.where, _moment_sql(collection, moment, params)]
    if bbox is not None:
        where.append(f"geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, {SRID})")
        params.update(dict(zip(("x0", "y0", "x1", "y1"), (float(v) for v in bbox))))
    for i, (key, value) in enumerate((equals or {}).items()):
        if key in collection.properties:
            where.append(f"{key}::text = :eq{i}")
            params[f"eq{i}"] = str(value)
    order = [f"{k} {'ASC' if asc else 'DESC'}" for k, asc in (sort or []) if k in collection.properties]
    order.append(collection.id_column)
    if collection.versioned:
        order.append("version")
    interval = collection.versioned and moment is not None and not moment.instant
    id_sql = f"{collection.id_column} || '@' || version" if interval else collection.id_column
    where_sql = " AND ".join(f"({w})" for w in where)
    matched = int(db.execute(text(f"SELECT count(*) FROM {collection.relation} WHERE {where_sql}"), params).scalar_one())
    if hits_only:
        return [], matched
    geom = "NULL" if skip_geometry else _geom_sql(out)
    rows = db.execute(
        text(f"SELECT {id_sql} AS _id, {', '.join(collection.properties)}, {geom} AS _geom FROM {collection.relation} "
             f"WHERE {where_sql} ORDER BY {', '.join(order)} LIMIT :limit OFFSET :offset"),
        {**params, "limit": int(limit), "offset": int(offset)},
    ).all()
    return [_feature(collection, r) for r in rows], matched


def get_feature(db: Executor, collection: Collection, identifier: str, *, out: Output) -> dict[str, Any] | None:
    """One feature by id, ``None`` when it does not exist or the account may not see it.

    Grids: ``CODE`` is the current version (else the latest), ``CODE@N`` version N.
    """
    params: dict[str, Any] = {"id": identifier}
    extra, order = "", "1"
    if collection.versioned:
        order = "(valid_to IS NULL) DESC, version DESC"
        code, at, version = identifier.partition("@")
        if at:
            if not version.isdigit():
                return None
            params = {"id": code, "version": int(version)}
            extra = " AND version = :version"
    row = db.execute(
        text(f"SELECT {collection.id_column} AS _id, {', '.join(collection.properties)}, {_geom_sql(out)} AS _geom "
             f"FROM {collection.relation} WHERE ({collection.where}) AND {collection.id_column} = :id{extra} "
             f"ORDER BY {order} LIMIT 1"),
        params,
    ).first()
    if row is None:
        return None
    feature = _feature(collection, row)
    feature["id"] = identifier
    return feature
