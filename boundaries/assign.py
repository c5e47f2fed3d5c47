"""The one point → grid rule of GridGov.

A point belongs to the **leaf grid** (a grid without children in the plan: the micro-grids of a
full plan) that **covers** it (``covered_by``, so a point exactly on a boundary matches); when
several leaves cover it (a shared edge or vertex) the **smallest code** wins; a point outside
every leaf is unassigned (``None``), never dropped. The geometry work is
:func:`gis.join.assign_points` (covered_by + smallest key); this module only says which
polygons take part (the leaves) and which key breaks ties (the code).

Every path uses this rule: bulk assignment at import, ``gridgov assign`` and after a boundary
edit (:func:`store.grids.reassign_points`), single-point lookups (``gridgov lookup``, incident
reports, the map's click: :func:`store.lookup.grid_at_point`) and impact previews
(:mod:`boundaries.impact`). The database only narrows the candidate leaves with its spatial
index; it never decides.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

from boundaries.coding import CodeScheme
from boundaries.model import check_plan_frame, leaf_mask
from gis.join import assign_points, coverage_index

__all__ = ["leaf_grids", "assign_to_leaves", "assign_to_leaf_arrays", "leaf_coverage_index", "ancestor_at_level"]


def leaf_grids(plan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The leaves of ``plan`` (EPSG:4490): grids no other grid of the plan names as its parent."""
    check_plan_frame(plan, what="plan")
    return plan.loc[leaf_mask(plan)]


def assign_to_leaf_arrays(points: Any, codes: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """The rule on plain arrays: ``codes``/``geoms`` are the leaves (EPSG:4490), points shapely Points.

    Returns an object array of codes, ``None`` where no leaf covers the point (and for missing
    or empty points).
    """
    points = np.asarray(points, dtype=object)
    if len(codes) == 0:
        return np.full(len(points), None, dtype=object)
    return assign_points(points, np.asarray(geoms, dtype=object), keys=np.asarray(codes, dtype=object))


def leaf_coverage_index(codes: np.ndarray, geoms: np.ndarray, *, token: Any) -> Any:
    """The rule as a kept index over the leaves ``codes``/``geoms`` (EPSG:4490), cached under ``token``.

    :func:`gis.join.coverage_index`: build once, assign any number of point batches with
    ``.assign(points)`` or ``.assign(xy=(lon, lat))``; same answers as :func:`assign_to_leaf_arrays`.
    """
    return coverage_index(np.asarray(geoms, dtype=object), np.asarray(codes, dtype=object), token=token)


def assign_to_leaves(points: gpd.GeoDataFrame | gpd.GeoSeries | Any, plan: gpd.GeoDataFrame) -> np.ndarray:
    """Code of the leaf grid of ``plan`` covering each point (``None`` outside every grid).

    Points and plan in EPSG:4490; on a shared boundary the smallest code wins.
    """
    leaves = leaf_grids(plan)
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    array = np.asarray(geoms.array if hasattr(geoms, "array") else geoms, dtype=object)
    return assign_to_leaf_arrays(array, leaves["code"].astype(object).to_numpy(), leaves.geometry.to_numpy())


def ancestor_at_level(code: str | None, level: int, scheme: CodeScheme) -> str | None:
    """The grid at ``level`` containing leaf ``code`` (its code prefix), ``None`` if the leaf is shallower."""
    if code is None:
        return None
    own = scheme.level_of(code)
    if own == level:
        return code
    if own < level:
        return None
    return scheme.ancestors_of(code)[level - 1]
