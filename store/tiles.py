"""Mapbox Vector Tiles made by PostGIS (``ST_AsMVT`` over ``ST_AsMVTGeom``, EPSG:3857).

Two kinds of tile, both read under the caller's row-level security:

* a grid level (:func:`grid_tile`): layer ``grids`` (polygons with code, name, parent code and a
  fill index) and layer ``labels`` (one point inside each polygon, for code labels). Geometry is
  snapped to the tile's pixel grid before it is cut, so each zoom carries only what it can show;
  snapping maps a vertex to the same place whichever grid it belongs to, so an edge two grids
  share stays shared (no slivers or gaps between neighbours at any zoom). Stored EPSG:4490
  coordinates are treated as WGS 84 for display (centimetres apart), and shifted to GCJ-02 first
  for an Amap basemap (``gridgov.to_gcj02``, the formula of :func:`gis.crs.wgs84_to_gcj02`);
* incident density (:func:`incident_density_tile`): layer ``incidents``, points at the centres
  of square cells (``cell_px`` pixels of a 256-px tile; cell edges fall on tile edges, so a cell
  lies in one tile) with the number of incidents in each; cells with fewer than ``min_count`` are left out (small counts suppressed).

The plan's state and what a changeset changed (:func:`plan_state`, :func:`changed_boxes`) are
what :mod:`services.tiles` invalidates its cache with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from gis.tiles import WEB_MERCATOR_HALF, Tile
from store.sql import Executor

__all__ = [
    "EXTENT",
    "BUFFER",
    "SNAP_STEPS",
    "grid_tile",
    "incident_density_tile",
    "PlanState",
    "plan_state",
    "ChangedBox",
    "changed_boxes",
    "grid_count",
    "GridExtent",
    "grid_extent",
]

#: Tile extent (integer coordinates per tile side) and buffer beyond the edge, in those units.
EXTENT = 4096
BUFFER = 64

_GRID_TILE = text(
    f"""
    WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS m),
    box AS (  -- the tile plus its buffer, and a margin for the GCJ-02 shift (< 0.01°), in EPSG:4490
        SELECT ST_Transform(ST_Expand(m, :pad_m), 4490) AS b FROM env
    ), source AS (
        SELECT g.code, g.name, g.parent_code,
               CASE WHEN :gcj THEN gridgov.to_gcj02(g.geom) ELSE g.geom END AS geom
        FROM grids g, box
        WHERE g.level = :level AND g.geom && CASE WHEN :gcj THEN ST_Expand(box.b, 0.01) ELSE box.b END
    ), snapped AS (  -- a vertex lands on one place of this zoom's pixel grid whichever grid it is in
        SELECT code, name, parent_code, ST_SnapToGrid(ST_Transform(geom, 3857), :pixel_m) AS merc FROM source
    ), features AS (
        SELECT code, name, coalesce(parent_code, '') AS parent_code,
               abs(hashtext(coalesce(parent_code, code))) % 8 AS fill,
               ST_AsMVTGeom(merc, env.m, {EXTENT}, {BUFFER}, true) AS geom
        FROM snapped, env
    ), labels AS (
        SELECT code, name, ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(geom), 3857), env.m, {EXTENT}, 0, true) AS geom
        FROM source, env
    )
    SELECT coalesce((SELECT ST_AsMVT(f, 'grids', {EXTENT}, 'geom') FROM features f WHERE f.geom IS NOT NULL), ''::bytea)
        || coalesce((SELECT ST_AsMVT(l, 'labels', {EXTENT}, 'geom') FROM labels l WHERE l.geom IS NOT NULL), ''::bytea)
    """
)


#: Vertices are snapped to a grid of this many steps per tile side before cutting: a quarter of a
#: screen pixel of a 256-px tile (fewer vertices per zoom, nothing visible lost).
SNAP_STEPS = 1024


def _pixel_m(tile: Tile) -> float:
    """The snapping step of ``tile``'s zoom in EPSG:3857 metres (:data:`SNAP_STEPS` per side)."""
    return 2 * WEB_MERCATOR_HALF / (1 << tile.z) / SNAP_STEPS


def grid_tile(db: Executor, level: int, tile: Tile, *, gcj02: bool = False) -> bytes:
    """The vector tile of grid level ``level`` at ``tile`` (empty bytes where no grid is)."""
    size_m = 2 * WEB_MERCATOR_HALF / (1 << tile.z)
    value = db.execute(_GRID_TILE, {
        "z": tile.z, "x": tile.x, "y": tile.y, "level": int(level), "gcj": bool(gcj02),
        "pad_m": size_m * BUFFER / EXTENT, "pixel_m": _pixel_m(tile),
    }).scalar_one()
    return bytes(value or b"")


_DENSITY_TILE = text(
    f"""
    WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS m),
    box AS (SELECT ST_Transform(m, 4490) AS b FROM env),
    points AS (
        SELECT ST_Transform(CASE WHEN :gcj THEN gridgov.to_gcj02(i.geom) ELSE i.geom END, 3857) AS p
        FROM incidents i, box
        WHERE i.geom && CASE WHEN :gcj THEN ST_Expand(box.b, 0.01) ELSE box.b END
          AND (CAST(:statuses AS text[]) IS NULL OR i.status = ANY (CAST(:statuses AS text[])))
          AND (CAST(:since AS timestamptz) IS NULL OR i.reported_at >= CAST(:since AS timestamptz))
          AND (CAST(:until AS timestamptz) IS NULL OR i.reported_at < CAST(:until AS timestamptz))
    ), cells AS (
        SELECT ST_SnapToGrid(p, :half_cell_m, :half_cell_m, :cell_m, :cell_m) AS centre, count(*) AS n
        FROM points GROUP BY 1 HAVING count(*) >= :min_count
    ), features AS (
        SELECT n, ST_AsMVTGeom(centre, env.m, {EXTENT}, 0, true) AS geom FROM cells, env
    )
    SELECT coalesce((SELECT ST_AsMVT(f, 'incidents', {EXTENT}, 'geom') FROM features f WHERE f.geom IS NOT NULL),
                    ''::bytea)
    """
)


def incident_density_tile(
    db: Executor, tile: Tile, *, cell_px: int = 16, min_count: int = 5, statuses: Sequence[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, gcj02: bool = False,
) -> bytes:
    """Incident counts per square cell of ``cell_px`` pixels (of a 256-px tile) at ``tile``.

    Only incidents the session may read count (row-level security). ``statuses`` limits the
    statuses counted, ``since``/``until`` the report time (tz-aware, half-open). Cells with
    fewer than ``min_count`` incidents are left out.
    """
    cell_m = 2 * WEB_MERCATOR_HALF / (1 << tile.z) / 256 * cell_px
    value = db.execute(_DENSITY_TILE, {
        "z": tile.z, "x": tile.x, "y": tile.y, "gcj": bool(gcj02), "cell_m": cell_m, "half_cell_m": cell_m / 2,
        "min_count": int(min_count),
        "statuses": list(statuses) if statuses else None, "since": since, "until": until,
    }).scalar_one()
    return bytes(value or b"")


@dataclass(frozen=True)
class PlanState:
    """What the plan is now: the newest changeset, and a fingerprint of the current grids
    (count and version sum) that moves even when something changed the grids without one."""

    changeset_id: int
    fingerprint: tuple[int, int]


def plan_state(db: Executor) -> PlanState:
    row = db.execute(text(
        "SELECT (SELECT coalesce(max(id), 0) FROM changesets), count(*), coalesce(sum(version), 0) FROM grids")).one()
    return PlanState(int(row[0]), (int(row[1]), int(row[2])))


@dataclass(frozen=True)
class ChangedBox:
    """The bounding box (west, south, east, north degrees, EPSG:4490) of a grid version that a
    changeset created or ended, and its level."""

    level: int
    box: tuple[float, float, float, float]


def changed_boxes(db: Executor, *, after: int, upto: int) -> list[ChangedBox]:
    """Boxes of every grid geometry changesets ``after < id <= upto`` added or replaced: the new
    versions, the versions they replaced, and the versions of retired grids."""
    rows = db.execute(text(
        """
        WITH touched AS (
            SELECT v.level, v.geom FROM grid_versions v WHERE v.changeset_id > :a AND v.changeset_id <= :b
            UNION ALL
            SELECT p.level, p.geom FROM grid_versions v
            JOIN grid_versions p ON p.code = v.code AND p.version = v.version - 1
            WHERE v.changeset_id > :a AND v.changeset_id <= :b
            UNION ALL
            SELECT v.level, v.geom FROM grid_versions v WHERE v.retired_changeset_id > :a AND v.retired_changeset_id <= :b
        )
        SELECT level, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM touched
        """
    ), {"a": int(after), "b": int(upto)}).all()
    return [ChangedBox(int(r[0]), (float(r[1]), float(r[2]), float(r[3]), float(r[4]))) for r in rows]


def grid_count(db: Executor) -> int:
    """The number of current grids (every level)."""
    return int(db.execute(text("SELECT count(*) FROM grids")).scalar_one())


@dataclass(frozen=True)
class GridExtent:
    """What a tiled map needs before its first tile: how many grids the session may see, their
    levels, and their box (lon/lat degrees, EPSG:4490; ``None`` when there is no grid)."""

    count: int
    levels: tuple[int, ...]
    bounds: tuple[float, float, float, float] | None


def grid_extent(db: Executor) -> GridExtent:
    """Count, levels and extent of the current grids the session may read (row-level security)."""
    row = db.execute(text(
        """
        SELECT count(*), array_agg(DISTINCT level ORDER BY level), ST_XMin(ST_Extent(geom)),
               ST_YMin(ST_Extent(geom)), ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom))
        FROM grids
        """
    )).one()
    count = int(row[0])
    bounds = None if row[2] is None else (float(row[2]), float(row[3]), float(row[4]), float(row[5]))
    return GridExtent(count, tuple(int(v) for v in (row[1] or ())), bounds)
