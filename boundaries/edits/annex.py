"""Annexing land: a drawn area outside the current coverage becomes a new grid.

:func:`annex_area` is pure (plan frame in, :class:`~boundaries.edits.EditResult` out) and
uses the same machinery as :mod:`boundaries.edits`: the area is snapped to existing
vertices, noded against the neighbouring leaves (so the new shared edges are shared
vertex for vertex), the new grid gets the next free code under its parent (codes are never
reused) and **parents follow their children**: every ancestor is recomputed as the union
of its children, so the parent grows to include the annexed land. The result is validated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries.edits._workplan import (
    EditRefused,
    EditResult,
    _check_geometry_arg,
    _finish,
    _multi,
    _polygonal,
    _refuse,
    _retile,
    _setup,
    _snap_tol_deg,
)
from boundaries.coding import CodeScheme
from gis.geometry import PRECISION_DEG
from gis.measure import area_m2

__all__ = ["annex_area", "EditRefused"]


def annex_area(
    plan: gpd.GeoDataFrame,
    parent_code: str,
    area: BaseGeometry,
    *,
    name: str | None = None,
    retired_codes: Iterable[str] = (),
    scheme: CodeScheme | None = None,
    snap_m: float = 0.5,
    tolerance_m2: float = 1.0,
    grid_size: float = PRECISION_DEG,
    validate_options: Mapping[str, Any] | None = None,
) -> EditResult:
    """Add ``area`` (Polygon, EPSG:4490), outside every grid, as a new child of ``parent_code``.

    The area is snapped to the vertices of the existing grids within ``snap_m`` metres;
    overlap with the existing coverage up to ``tolerance_m2`` (m², drawing noise) is cut
    off, more is refused. The new grid is one level below the parent and gets the next free
    code under it (:meth:`CodeScheme.next_free_codes`, never a retired code); the parent and
    every ancestor are recomputed as the union of their children.

    Raises
    ------
    EditRefused
        Unknown parent, a parent at the finest level or without children, an area that
        overlaps existing grids, does not touch the parent along an edge, or a result that
        is not a valid nested coverage.
    """
    work = _setup(plan, scheme, retired_codes)
    work.require(parent_code)
    level = work.level[parent_code] + 1
    if level > work.scheme.levels:
        raise _refuse("finest_level", [parent_code],
                      f"grid {parent_code!r} is at the finest level and cannot have children; "
                      "annex the area under its parent")
    if not work.children(parent_code):
        raise _refuse("parent_without_children", [parent_code],
                      f"grid {parent_code!r} has no children: a single child would not cover it; "
                      "reshape the grid itself instead")
    area = _check_geometry_arg(area, "area", ("Polygon", "MultiPolygon"))
    leaves = work.leaves()
    leaf_geoms = np.array([work.geom[c] for c in leaves], dtype=object)
    coverage = shapely.union_all(leaf_geoms)
    if snap_m > 0:
        area = shapely.snap(area, coverage, _snap_tol_deg(area, snap_m))
    if grid_size > 0:
        area = shapely.set_precision(area, grid_size)
    area = _polygonal(shapely.make_valid(area)) if not area.is_valid else _polygonal(area)
    overlap = _polygonal(shapely.intersection(area, coverage))
    overlap_m2 = float(area_m2([overlap])[0]) if not overlap.is_empty else 0.0
    if overlap_m2 > tolerance_m2:
        tree = shapely.STRtree(leaf_geoms)
        hit = sorted(leaves[int(i)] for i in tree.query(area, predicate="intersects")
                     if shapely.area(shapely.intersection(area, leaf_geoms[int(i)])) > 0)
        raise _refuse(
            "annex_overlaps", hit,
            f"the annexed area overlaps existing grids by {overlap_m2:,.0f} m² ({', '.join(hit[:5])}); "
            "draw only land outside the current coverage (use transfer/reshape to move existing land)",
            overlap,
        )
    if not overlap.is_empty:
        area = _polygonal(shapely.difference(area, coverage, grid_size=grid_size or None))
    parts = [p for p in shapely.get_parts(area) if float(area_m2([p])[0]) > tolerance_m2]
    if not parts:
        raise _refuse("annex_empty", [parent_code], "the annexed area is empty outside the current coverage")
    area = _multi(shapely.MultiPolygon(parts))
    parent_geom = work.geom[parent_code]
    shared = shapely.intersection(shapely.boundary(area), shapely.boundary(parent_geom)).length
    if shared <= 0:
        raise _refuse(
            "annex_not_adjacent", [parent_code],
            f"the annexed area does not share an edge with grid {parent_code!r}; the parent would fall apart",
            area,
        )
    # Corners of the area that lie on a neighbour's edge only up to the precision grid are
    # inserted into that edge first, so the noded linework below matches exactly.
    tol = grid_size if grid_size > 0 else 1e-9
    near = shapely.STRtree(leaf_geoms).query(area, predicate="dwithin", distance=2 * tol)
    for k in near:
        code = leaves[int(k)]
        snapped = shapely.snap(work.geom[code], area, 2 * tol)
        if snapped.is_valid and not shapely.equals_exact(snapped, work.geom[code], 0):
            work.set_geom(code, _multi(snapped))
    new_code = work.new_codes(parent_code, 1)[0]
    parent_name = work.name[parent_code]
    work.add(new_code, level, parent_code, name if name else f"{parent_name}-{new_code[-3:]}", area)

    def assign(faces: np.ndarray, points: np.ndarray) -> np.ndarray:
        return np.full(len(faces), new_code, dtype=object)

    # Node the new grid against its neighbours: vertices where its outline meets theirs are
    # inserted into both, so the new shared edges are shared vertex for vertex.
    tiles = _retile(work, [new_code], [shapely.boundary(area)], [], assign, grid_size=grid_size)
    if new_code not in tiles or tiles[new_code].is_empty:
        raise _refuse("annex_empty", [parent_code], "nothing of the annexed area is left after noding")
    for c, g in tiles.items():
        if c in work.geom:
            work.set_geom(c, g)
    return _finish("annex_area", plan, work, [], grid_size=grid_size, validate_options=validate_options)
