"""Grids as areas for the HTTP API's MapIt-style lookups: point → grids, one grid, its children, its shape.

Every function is one read for the acting account (permission ``view_map``) in one transaction
bound to it. A point is converted to EPSG:4490 first (:func:`gis.crs.point_to_storage`: EPSG
codes, GCJ-02, BD-09) and assigned by the one rule (:func:`store.areas.areas_at_point`), so a
lookup gives the grid bulk assignment gives; outside every grid the nearest grid and its
distance in metres come back instead. ``as_of`` answers as the plan was then (a date is the end
of that local day).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from boundaries.coding import CodeScheme, default_scheme
from gis.crs import point_to_storage
from gis.errors import CoordinateRangeError, NotFoundError
from store import areas as area_store
from store.areas import Area
from store.lookup import NearestGrid, nearest_grid
from store.session import read_only

__all__ = ["Area", "PointAreas", "areas_at_point", "area", "area_children", "area_geometry"]


@dataclass(frozen=True)
class PointAreas:
    """The grids at a point (finest first; empty outside every grid) and, outside, the nearest grid.

    ``lon``/``lat`` are the point in EPSG:4490.
    """

    lon: float
    lat: float
    areas: list[Area]
    nearest: NearestGrid | None


def _check_point(lon: float, lat: float) -> None:
    message = f"point ({lon}, {lat}) is not lon/lat in degrees; expected lon in [-180, 180] and lat in [-90, 90]"
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CoordinateRangeError(message, code="location.not_finite")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CoordinateRangeError(message, code="location.range", params={"lon": lon, "lat": lat})


def areas_at_point(
    bind: Engine | Connection, actor: Actor, x: float, y: float, *, crs: object = 4490,
    as_of: dt.datetime | dt.date | None = None, scheme: CodeScheme | None = None,
) -> PointAreas:
    """The grids covering the point (``x``, ``y``) given in ``crs`` (EPSG code, ``gcj02``, ``bd09``).

    Raises
    ------
    gis.errors.CRSError
        Unknown CRS, or coordinates that cannot be lon/lat.
    """
    require(actor.role, "view_map")
    lon, lat = point_to_storage(float(x), float(y), crs)
    _check_point(lon, lat)
    scheme = scheme or default_scheme()
    with read_only(bind, actor) as db:
        found = area_store.areas_at_point(db, lon, lat, as_of=as_of, scheme=scheme)
        nearest = None if found else nearest_grid(db, lon, lat, as_of=as_of, scheme=scheme)
    return PointAreas(lon, lat, found, nearest)


def _code(code: str, scheme: CodeScheme | None) -> CodeScheme:
    scheme = scheme or default_scheme()
    scheme.parse(code)  # InvalidGridCodeError (a ValueError) names what a code looks like
    return scheme


def _not_found(db: Connection, code: str, as_of: dt.datetime | dt.date | None) -> NotFoundError:
    status = area_store.code_status(db, code)
    if status == "retired" and as_of is None:
        return NotFoundError(f"grid {code} is retired; see its lineage for the grids that replaced it",
                             code="grid.retired", params={"code": code})
    if as_of:
        return NotFoundError(f"no grid has the code {code} on {as_of}", code="grid.not_found_on",
                             params={"code": code, "on": as_of})
    return NotFoundError(f"no grid has the code {code}", code="grid.not_found", params={"code": code})


def area(bind: Engine | Connection, actor: Actor, code: str, *, as_of: dt.datetime | dt.date | None = None,
         scheme: CodeScheme | None = None) -> Area:
    """Grid ``code`` (now or as of a moment). Raises :class:`NotFoundError` or ``InvalidGridCodeError``."""
    require(actor.role, "view_map")
    _code(code, scheme)
    with read_only(bind, actor) as db:
        found = area_store.area(db, code, as_of=as_of)
        if found is None:
            raise _not_found(db, code, as_of)
    return found


def area_children(bind: Engine | Connection, actor: Actor, code: str, *, as_of: dt.datetime | dt.date | None = None,
                  scheme: CodeScheme | None = None) -> list[Area]:
    """The grids directly below ``code``. Raises :class:`NotFoundError` when ``code`` itself is not found."""
    require(actor.role, "view_map")
    _code(code, scheme)
    with read_only(bind, actor) as db:
        if area_store.area(db, code, as_of=as_of) is None:
            raise _not_found(db, code, as_of)
        return area_store.area_children(db, code, as_of=as_of)


def area_geometry(bind: Engine | Connection, actor: Actor, code: str, *,
                  as_of: dt.datetime | dt.date | None = None, scheme: CodeScheme | None = None):  # noqa: ANN201
    """(:class:`Area`, MultiPolygon EPSG:4490) of grid ``code``. Raises :class:`NotFoundError`."""
    require(actor.role, "view_map")
    _code(code, scheme)
    with read_only(bind, actor) as db:
        found = area_store.area(db, code, as_of=as_of)
        if found is None:
            raise _not_found(db, code, as_of)
        return found, area_store.area_geometry(db, code, as_of=as_of)
