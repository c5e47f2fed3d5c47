"""Reshape one grid to a drawn geometry: the neighbours give and take area together.

:func:`reshape_grid` is a composition of :func:`boundaries.edits.transfer_area` steps, so
it inherits their guarantees (noded linework, shared edges stay shared, parents follow
their children, the result is validated):

* area the new geometry *gains* is taken from each leaf neighbour it overlaps;
* area it *loses* goes, part by part, to the leaf neighbour sharing the longest edge with
  that part (the part must touch a neighbour; a part on the outer boundary of the whole
  coverage would leave a gap, so the edit is refused);
* area outside every grid is refused (annexing land is a separate operation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries.coding import CodeScheme
from boundaries.edits import EditRefused, EditResult, transfer_area
from boundaries.model import GridChange, check_plan_frame, leaf_mask
from boundaries.validation import Finding
from gis.geometry import PRECISION_DEG
from gis.measure import area_m2

__all__ = ["reshape_grid"]


def _refuse(rule: str, codes: list[str], message: str, geometry: BaseGeometry | None = None) -> EditRefused:
    return EditRefused(message, [Finding(rule=rule, severity="error", codes=tuple(codes), message=message, geometry=geometry)],
                       code=f"edit.{rule}", params={"codes": list(codes)})


def reshape_grid(
    plan: gpd.GeoDataFrame,
    code: str,
    geometry: BaseGeometry,
    *,
    retired_codes: Iterable[str] = (),
    scheme: CodeScheme | None = None,
    min_area_m2: float = 1.0,
    snap_m: float = 0.5,
    grid_size: float = PRECISION_DEG,
    validate_options: Mapping[str, Any] | None = None,
) -> EditResult:
    """Give leaf grid ``code`` the new outline ``geometry`` (Polygon, EPSG:4490).

    Differences smaller than ``min_area_m2`` (m²) are ignored (snapping noise).

    Raises
    ------
    EditRefused
        The grid is not a leaf, the outline leaves the coverage, a lost part touches no
        neighbour, or a transfer step cannot be made valid.
    """
    check_plan_frame(plan)
    if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise _refuse("bad_argument", [code], "reshape needs a Polygon for the new outline")
    rows = plan.index[plan["code"] == code]
    if len(rows) != 1:
        raise _refuse("unknown_code", [code], f"no grid {code!r} in the plan")
    leaves = plan.loc[leaf_mask(plan)]
    if code not in set(leaves["code"]):
        raise _refuse("not_a_leaf", [code], f"grid {code!r} has children; reshape its micro-grids instead")
    coverage = shapely.union_all(leaves.geometry.to_numpy())
    outside = shapely.difference(geometry, coverage)
    if not outside.is_empty and float(area_m2([outside])[0]) > min_area_m2:
        raise _refuse("outside_coverage", [code],
                      f"the new outline of {code} extends {float(area_m2([outside])[0]):.0f} m² outside every grid; "
                      "annexed land is added with its own grids", outside)

    kwargs = dict(retired_codes=retired_codes, scheme=scheme, snap_m=snap_m, grid_size=grid_size,
                  validate_options=validate_options)
    current = plan
    steps: list[EditResult] = []

    def geom_of(frame: gpd.GeoDataFrame, c: str) -> BaseGeometry:
        return frame.loc[frame["code"] == c, "geometry"].iloc[0]

    # Gains: take from each overlapping leaf neighbour.
    gained = shapely.difference(geometry, geom_of(current, code))
    for other, other_geom in zip(leaves["code"], leaves.geometry):
        if other == code or gained.is_empty:
            continue
        piece = shapely.intersection(gained, other_geom)
        if piece.is_empty or float(area_m2([piece])[0]) <= min_area_m2:
            continue
        step = transfer_area(current, other, code, piece, **kwargs)
        steps.append(step)
        current = step.plan
    # Losses: give each part to the neighbour with the longest shared edge.
    lost = shapely.difference(geom_of(current, code), geometry)
    for part in shapely.get_parts(lost):
        if float(area_m2([part])[0]) <= min_area_m2:
            continue
        now_leaves = current.loc[leaf_mask(current)]
        best, best_len = None, 0.0
        for other, other_geom in zip(now_leaves["code"], now_leaves.geometry):
            if other == code:
                continue
            shared = shapely.intersection(shapely.boundary(part), shapely.boundary(other_geom)).length
            if shared > best_len:
                best, best_len = other, shared
        if best is None:
            raise _refuse("would_leave_gap", [code],
                          f"part of {code} given up by the new outline touches no other grid; it would become a gap",
                          part)
        step = transfer_area(current, code, best, part, **kwargs)
        steps.append(step)
        current = step.plan
    if not steps:
        raise _refuse("no_change", [code], f"the new outline of {code} equals the current one")

    changes: dict[str, GridChange] = {}
    for step in steps:
        for change in step.changes:
            first = changes.get(change.code)
            changes[change.code] = GridChange(
                kind=change.kind, code=change.code,
                area_before_m2=first.area_before_m2 if first else change.area_before_m2,
                area_after_m2=change.area_after_m2, detail=change.detail,
            )
    lineage = [link for step in steps for link in step.lineage]
    last = steps[-1]
    return EditResult(operation="reshape_grid", plan=last.plan, report=last.report,
                      changes=list(changes.values()), lineage=lineage)
