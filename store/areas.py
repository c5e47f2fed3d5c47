"""Grids as areas: the rows behind the MapIt-style lookups of the HTTP API (``/api/point``, ``/api/area``).

Lean reads of ``grid_versions`` (no staff, household or incident counts, unlike the grid card of
:mod:`store.lookup`): the leaf covering a point by the one rule (:func:`store.grids.assign_points_at`,
so a lookup agrees with bulk assignment) and its ancestors, one grid, its children and its
geometry — now or as of a moment (:func:`store.sql.valid_at`). Geometries are EPSG:4490.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
from sqlalchemy import text

from boundaries.coding import CodeScheme, default_scheme
from store.grids import assign_points_at
from store.sql import Executor, as_of_param, geometries, valid_at

__all__ = ["Area", "areas_at_point", "area", "area_children", "area_geometry", "code_status"]

_COLUMNS = ("gv.code, gv.name, gv.level, gv.parent_code, gv.version, gv.valid_from, gv.valid_to, gv.changeset_id")


@dataclass(frozen=True)
class Area:
    """One version of one grid (``valid_from``/``valid_to`` aware; ``valid_to`` ``None`` when current)."""

    code: str
    name: str
    level: int
    parent_code: str | None
    version: int
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    changeset_id: int | None


def _area(row) -> Area:  # noqa: ANN001 - sqlalchemy Row
    return Area(row.code, row.name, int(row.level), row.parent_code, int(row.version), row.valid_from, row.valid_to,
                None if row.changeset_id is None else int(row.changeset_id))


def areas_at_point(
    db: Executor, lon: float, lat: float, *, as_of: dt.datetime | dt.date | None = None,
    scheme: CodeScheme | None = None,
) -> list[Area]:
    """The leaf grid covering (lon, lat) EPSG:4490 and its ancestors, finest first; ``[]`` outside every grid."""
    scheme = scheme or default_scheme()
    [leaf] = assign_points_at(db, [shapely.Point(float(lon), float(lat))], as_of=as_of)
    if leaf is None:
        return []
    codes = [leaf, *scheme.ancestors_of(leaf)]
    rows = db.execute(
        text(f"SELECT {_COLUMNS} FROM grid_versions gv WHERE gv.code = ANY(:codes) AND {valid_at('gv')} "
             "ORDER BY gv.level DESC"),
        {"codes": codes, "as_of": as_of_param(as_of)},
    ).all()
    return [_area(r) for r in rows]


def area(db: Executor, code: str, *, as_of: dt.datetime | dt.date | None = None) -> Area | None:
    """Grid ``code`` now (or as of a moment), ``None`` when no version of it is valid then."""
    row = db.execute(text(f"SELECT {_COLUMNS} FROM grid_versions gv WHERE gv.code = :code AND {valid_at('gv')}"),
                     {"code": code, "as_of": as_of_param(as_of)}).first()
    return None if row is None else _area(row)


def area_children(db: Executor, code: str, *, as_of: dt.datetime | dt.date | None = None) -> list[Area]:
    """The grids whose parent is ``code`` (now or as of a moment), by code."""
    rows = db.execute(
        text(f"SELECT {_COLUMNS} FROM grid_versions gv WHERE gv.parent_code = :code AND {valid_at('gv')} "
             "ORDER BY gv.code"),
        {"code": code, "as_of": as_of_param(as_of)},
    ).all()
    return [_area(r) for r in rows]


def area_geometry(db: Executor, code: str, *, as_of: dt.datetime | dt.date | None = None):  # noqa: ANN201
    """The MultiPolygon (EPSG:4490, shapely) of grid ``code`` now or as of a moment; ``None`` if none."""
    row = db.execute(
        text(f"SELECT ST_AsBinary(gv.geom) FROM grid_versions gv WHERE gv.code = :code AND {valid_at('gv')}"),
        {"code": code, "as_of": as_of_param(as_of)},
    ).first()
    return None if row is None else geometries([row[0]])[0]


def code_status(db: Executor, code: str) -> str | None:
    """``active``, ``retired`` or ``None`` (never allocated) for a grid code."""
    return db.execute(text("SELECT status FROM grid_codes WHERE code = :code"), {"code": code}).scalar()
