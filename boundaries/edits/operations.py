"""Topology-safe boundary edits of a grid plan (pure: plan frame in, new plan frame out).

Every operation takes the current plan (see :mod:`boundaries.model`; EPSG:4490) and returns
an :class:`EditResult` — the complete new plan, its :class:`ValidationReport`, the
per-grid changes and the code lineage — or raises :class:`EditRefused` carrying the
findings that made the edit impossible. An input plan is never modified.

How geometry stays a valid nested coverage
------------------------------------------
* Edits work on the *leaves* (grids without children, normally the micro-grids), which
  form one coverage. The affected leaves and every leaf touching them are rebuilt from one
  noded linework: their boundaries plus the new line/area, unioned (which nodes it), snapped
  to the precision grid (``set_precision``, the same 1e-7° grid as import normalization)
  when the plan is already on that grid, and polygonized. Each face goes to exactly one
  grid, so shared edges stay shared vertex for vertex — a new vertex on a shared edge
  appears in both neighbours.
* **Parents follow their children**: every ancestor of a changed leaf is recomputed as the
  coverage union of its children. When a micro-grid edit moves area across a level-2 (or
  level-1) boundary, both parents change with it. Same-level neighbours of a recomputed
  parent are snapped to its vertices so the upper levels stay matched coverages too.
* User-drawn lines are snapped to existing vertices within ``snap_m`` metres first.
* The result is validated with :func:`boundaries.validation.validate_plan`; any *new* error
  involving a touched grid refuses the edit (pre-existing problems elsewhere do not).

The machinery the operations share (the working plan, retiling, finishing) lives in
:mod:`boundaries.edits._workplan`; :mod:`boundaries.edits.annex` builds on it too.

Code rules
----------
* Codes are never reused: pass every retired code as ``retired_codes``; new codes are
  allocated after the highest code ever used under the parent
  (:meth:`CodeScheme.next_free_codes`).
* :func:`split_grid` retires the split grid's code; every part gets a new code under the
  same parent, largest part first. Lineage ``(old, new, "split")`` for each part. A level-1
  grid (its code is an official statistical code) can only be split with explicit
  ``new_codes``. A grid with children is split along child boundaries: each child goes,
  whole, to the side of the line holding most of its area, and gets a new code under its
  new parent (lineage ``"renumber"``, recursively).
* :func:`merge_grids` merges adjacent siblings; the largest grid keeps its code (ties: the
  smallest code), the others are retired (lineage ``(retired, kept, "merge")``). Children
  of retired grids move under the kept grid with new codes (lineage ``"renumber"``,
  recursively for deeper levels).
* :func:`reshape_boundary` and :func:`transfer_area` keep every code; they work on leaves
  only (moving a level-2 boundary means editing its micro-grids). A lineage link
  ``(giver, receiver, "transfer"/"reshape")`` records where area went.
* :func:`replace_children` retires every child of the parent and allocates new codes in the
  order the new geometries are given; lineage ``(old child, new child, "replace")`` for
  every pair that overlapped by more than the tolerance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries.edits._workplan import (
    NEIGHBOUR_SNAP_M,
    EditRefused,
    EditResult,
    _check_geometry_arg,
    _finding,
    _finish,
    _multi,
    _Plan,
    _polygonal,
    _prep_user_geom,
    _recode_subtree,
    _refuse,
    _retile,
    _setup,
    _snap_cut_ends,
    _snap_tol_deg,
)
from boundaries.coding import CodeScheme
from boundaries.model import LineageLink
from boundaries.validation import Finding
from gis.geometry import PRECISION_DEG
from gis.measure import area_m2

__all__ = [
    "EditRefused",
    "EditResult",
    "split_grid",
    "merge_grids",
    "reshape_boundary",
    "transfer_area",
    "replace_children",
]


# --------------------------------------------------------------------------------------
# operations
# --------------------------------------------------------------------------------------
def split_grid(
    plan: gpd.GeoDataFrame,
    code: str,
    line: BaseGeometry,
    *,
    retired_codes: Iterable[str] = (),
    new_codes: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    scheme: CodeScheme | None = None,
    snap_m: float = 0.5,
    neighbour_snap_m: float = NEIGHBOUR_SNAP_M,
    grid_size: float = PRECISION_DEG,
    validate_options: Mapping[str, Any] | None = None,
) -> EditResult:
    """Split grid ``code`` along ``line`` (LineString/MultiLineString, EPSG:4490).

    The line must cross the grid from boundary to boundary (it is snapped to existing
    vertices within ``snap_m`` metres). Each resulting part gets a new code under the same
    parent, largest part first (``new_codes`` to choose them, required for level 1); the
    old code is retired. Parts of a multipart grid the line does not touch join the largest
    part. A grid with children is split along its children's boundaries: each child goes,
    whole, to the side of the line holding most of its area, and is re-coded under its new
    parent (lineage ``"renumber"``).

    Raises
    ------
    EditRefused
        Unknown grid, a line that does not split it, a child crossed by the line, or a
        result that is not a valid nested coverage (slivers, non-contiguous parts...).
    """
    work = _setup(plan, scheme, retired_codes)
    work.require(code)
    line = _check_geometry_arg(line, "line", ("LineString", "MultiLineString"))
    grid = work.geom[code]
    line = _prep_user_geom(line, grid, snap_m=snap_m, grid_size=grid_size)
    cut = shapely.intersection(line, grid)
    if cut.is_empty or cut.length == 0:
        raise _refuse("line_misses_grid", [code], f"the line does not cross grid {code!r}")
    descendants_leaves = [c for c in work.leaves() if code in work.ancestors(c)] or [code]
    if descendants_leaves != [code]:
        return _split_non_leaf(work, plan, code, cut, new_codes=new_codes, names=names, grid_size=grid_size,
                               validate_options=validate_options)
    cut = _snap_cut_ends(work, [code], cut, neighbour_snap_m=neighbour_snap_m, grid_size=grid_size)

    def assign(faces: np.ndarray, points: np.ndarray) -> np.ndarray:
        touches_cut = shapely.length(shapely.intersection(shapely.boundary(faces), cut)) > 0
        return np.array([f"#{i}" if t else "#rest" for i, t in enumerate(touches_cut)], dtype=object)

    tiles = _retile(work, [code], [shapely.boundary(grid)], [cut], assign, grid_size=grid_size)
    parts = {k: g for k, g in tiles.items() if k.startswith("#") and k != "#rest"}
    if len(parts) < 2:
        raise _refuse(
            "line_does_not_split", [code],
            f"the line does not cut grid {code!r} into two or more parts; draw it across the grid, "
            "from one edge to another",
            cut,
        )
    ordered = sorted(parts, key=lambda k: -float(area_m2([parts[k]])[0]))
    if "#rest" in tiles:
        parts[ordered[0]] = _multi(shapely.union_all([parts[ordered[0]], tiles["#rest"]]))
    level, parent, name = work.level[code], work.parent[code], work.name[code]
    codes = work.new_codes(parent, len(ordered), new_codes)
    lineage: list[LineageLink] = []
    work.retire(code)
    for k, (key, new_code) in enumerate(zip(ordered, codes)):
        nm = names[k] if names is not None and k < len(names) else f"{name}-{k + 1}"
        work.add(new_code, level, parent, nm, parts[key])
        lineage.append(LineageLink(code, new_code, "split"))
    for c, g in tiles.items():
        if not c.startswith("#"):
            work.set_geom(c, g)
    return _finish("split_grid", plan, work, lineage, grid_size=grid_size, validate_options=validate_options)


def _split_non_leaf(
    work: _Plan,
    plan: gpd.GeoDataFrame,
    code: str,
    cut: BaseGeometry,
    *,
    new_codes: Sequence[str] | None,
    names: Sequence[str] | None,
    grid_size: float,
    validate_options: Mapping[str, Any] | None,
) -> EditResult:
    """Split a grid with children: children are never cut; each goes, whole, to the side of
    the line holding most of its area, so the new boundary follows child boundaries."""
    grid = work.geom[code]
    pieces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all([shapely.boundary(grid), cut]))))
    pieces = pieces[shapely.area(pieces) > 0]
    pieces = pieces[shapely.intersects(grid, shapely.point_on_surface(pieces))]
    if len(pieces) < 2:
        raise _refuse("line_does_not_split", [code], f"the line does not cut grid {code!r} into two or more parts", cut)
    children = work.children(code)
    side: dict[str, int] = {}
    tree = shapely.STRtree(pieces)
    for child in children:
        g = work.geom[child]
        idx = tree.query(g, predicate="intersects")
        inter = shapely.area(shapely.intersection(pieces[idx], g))
        side[child] = int(idx[int(np.argmax(inter))])
    groups: dict[int, list[str]] = defaultdict(list)
    for child, k in side.items():
        groups[k].append(child)
    if len(groups) < 2:
        raise _refuse("line_does_not_split", [code], f"every child of {code!r} is on the same side of the line", cut)
    group_geoms = {k: _multi(shapely.coverage_union_all(np.array([work.geom[c] for c in v], dtype=object)))
                   for k, v in groups.items()}
    ordered = sorted(group_geoms, key=lambda k: -float(area_m2([group_geoms[k]])[0]))
    level, parent, name = work.level[code], work.parent[code], work.name[code]
    codes = work.new_codes(parent, len(ordered), new_codes)
    lineage: list[LineageLink] = []
    for n, (k, new_code) in enumerate(zip(ordered, codes)):
        nm = names[n] if names is not None and n < len(names) else f"{name}-{n + 1}"
        work.add(new_code, level, parent, nm, group_geoms[k])
        lineage.append(LineageLink(code, new_code, "split"))
        for child in groups[k]:  # move this group's children (and their subtrees) under the new code
            new_child = work.new_codes(new_code, 1)[0]
            work.add(new_child, work.level[child], new_code, work.name[child], work.geom[child], work.extra.get(child))
            lineage.append(LineageLink(child, new_child, "renumber"))
            _recode_subtree(work, child, new_child, lineage)
            work.retire(child)
    work.retire(code)
    return _finish("split_grid", plan, work, lineage, grid_size=grid_size, validate_options=validate_options)


def merge_grids(
    plan: gpd.GeoDataFrame,
    codes: Sequence[str],
    *,
    retired_codes: Iterable[str] = (),
    name: str | None = None,
    scheme: CodeScheme | None = None,
    grid_size: float = PRECISION_DEG,
    validate_options: Mapping[str, Any] | None = None,
) -> EditResult:
    """Merge adjacent sibling grids (same level, same parent) into one.

    The largest grid keeps its code (ties: the smallest code); the others are retired.
    Their children are moved under the kept grid with new codes (recursively).

    Raises
    ------
    EditRefused
        Fewer than two distinct grids, grids of different levels or parents, or grids that
        are not connected through shared edges.
    """
    work = _setup(plan, scheme, retired_codes)
    codes = list(dict.fromkeys(str(c) for c in codes))
    if len(codes) < 2:
        raise _refuse("merge_needs_two", codes, "merging needs at least two different grids")
    for c in codes:
        work.require(c)
    parents = {work.parent[c] for c in codes}
    levels = {work.level[c] for c in codes}
    if len(parents) != 1 or len(levels) != 1:
        raise _refuse(
            "merge_not_siblings", codes,
            "only sibling grids (same level and same parent) can be merged; move grids to one parent first",
        )
    geoms = np.array([work.geom[c] for c in codes], dtype=object)
    # adjacency through shared edges (length > 0)
    n = len(codes)
    adj: dict[int, set[int]] = defaultdict(set)
    for i in range(n):
        for j in range(i + 1, n):
            shared = shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
            if shared.length > 0:
                adj[i].add(j)
                adj[j].add(i)
    seen, stack = {0}, [0]
    while stack:
        for j in adj[stack.pop()]:
            if j not in seen:
                seen.add(j)
                stack.append(j)
    if len(seen) != n:
        lonely = [codes[i] for i in range(n) if i not in seen]
        raise _refuse("merge_not_adjacent", codes,
                      f"grids {lonely} share no edge with the others; only adjacent grids can be merged")
    areas = area_m2(geoms)
    keep_idx = sorted(range(n), key=lambda i: (-round(float(areas[i]), 6), codes[i]))[0]
    kept = codes[keep_idx]
    lineage: list[LineageLink] = []
    merged = shapely.coverage_union_all(geoms)
    if not merged.is_valid:
        merged = shapely.union_all(geoms)
    for c in codes:
        if c == kept:
            continue
        _recode_subtree(work, c, kept, lineage)
        work.retire(c)
        lineage.append(LineageLink(c, kept, "merge"))
    work.set_geom(kept, _multi(shapely.normalize(merged)))
    if name is not None:
        work.name[kept] = name
    return _finish("merge_grids", plan, work, lineage, grid_size=grid_size, validate_options=validate_options)


def _require_leaf(work: _Plan, code: str, operation: str) -> None:
    if not work.is_leaf(code):
        raise _refuse(
            "not_a_leaf", [code],
            f"{operation} works on grids without children; {code!r} has children — edit its micro-grids "
            "(the parent follows them)",
        )


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    return float(shapely.intersection(shapely.boundary(a), shapely.boundary(b)).length)


def reshape_boundary(
    plan: gpd.GeoDataFrame,
    code_a: str,
    code_b: str,
    new_line_or_area: BaseGeometry,
    *,
    retired_codes: Iterable[str] = (),
    scheme: CodeScheme | None = None,
    snap_m: float = 0.5,
    neighbour_snap_m: float = NEIGHBOUR_SNAP_M,
    grid_size: float = PRECISION_DEG,
    validate_options: Mapping[str, Any] | None = None,
) -> EditResult:
    """Move the shared boundary of two neighbouring leaf grids; both change together.

    ``new_line_or_area`` is either

    * a LineString: the new boundary, running across ``a ∪ b`` from edge to edge; each piece
      of ``a ∪ b`` it creates goes to the grid that held most of it; or
    * a Polygon/MultiPolygon: the new extent of ``code_a`` within ``a ∪ b`` (``a`` becomes
      ``(a ∪ b) ∩ area``, ``b`` the rest).

    The line/area is snapped to existing vertices within ``snap_m`` metres. Codes are kept.
    """
    work = _setup(plan, scheme, retired_codes)
    for c in (code_a, code_b):
        work.require(c)
        _require_leaf(work, c, "reshape_boundary")
    if code_a == code_b:
        raise _refuse("bad_argument", [code_a], "reshape_boundary needs two different grids")
    geom_a, geom_b = work.geom[code_a], work.geom[code_b]
    if _shared_length(geom_a, geom_b) <= 0:
        raise _refuse("not_adjacent", [code_a, code_b], f"grids {code_a!r} and {code_b!r} share no boundary")
    new = _check_geometry_arg(new_line_or_area, "new_line_or_area",
                              ("LineString", "MultiLineString", "Polygon", "MultiPolygon"))
    region = shapely.union_all([geom_a, geom_b])
    new = _prep_user_geom(new, region, snap_m=snap_m, grid_size=grid_size)
    if new.geom_type in ("Polygon", "MultiPolygon"):
        area_geom = new
        lines = [shapely.boundary(geom_a), shapely.boundary(geom_b)]
        cuts = [_snap_cut_ends(work, [code_a, code_b], shapely.intersection(shapely.boundary(area_geom), region),
                               neighbour_snap_m=neighbour_snap_m, grid_size=grid_size)]

        def assign(faces: np.ndarray, points: np.ndarray) -> np.ndarray:
            inside = shapely.intersects(area_geom, points)
            return np.where(inside, code_a, code_b).astype(object)
    else:
        cut = shapely.intersection(new, region)
        if cut.is_empty or cut.length == 0:
            raise _refuse("line_misses_grid", [code_a, code_b], "the new boundary does not cross the two grids")
        cut = _snap_cut_ends(work, [code_a, code_b], cut, neighbour_snap_m=neighbour_snap_m, grid_size=grid_size)
        lines = [shapely.boundary(region)]
        cuts = [cut]

        def assign(faces: np.ndarray, points: np.ndarray) -> np.ndarray:
            in_a = shapely.area(shapely.intersection(faces, geom_a))
            in_b = shapely.area(shapely.intersection(faces, geom_b))
            return np.where(in_a >= in_b, code_a, code_b).astype(object)

    tiles = _retile(work, [code_a, code_b], lines, cuts, assign, grid_size=grid_size)
    for c in (code_a, code_b):
        if c not in tiles or tiles[c].is_empty:
            raise _refuse(
                "grid_would_vanish", [c],
                f"the new boundary leaves nothing of grid {c!r}; use merge_grids to remove a grid",
            )
    for c, g in tiles.items():
        work.set_geom(c, g)
    gain_a = float(area_m2([tiles[code_a]])[0] - area_m2([geom_a])[0])
    lineage = []
    if abs(gain_a) > 0:
        giver, receiver = (code_b, code_a) if gain_a > 0 else (code_a, code_b)
        lineage.append(LineageLink(giver, receiver, "reshape"))
    return _finish("reshape_boundary", plan, work, lineage, grid_size=grid_size, validate_options=validate_options)


def transfer_area(
    plan: gpd.GeoDataFrame,
    from_code: str,
    to_code: str,
    area: BaseGeometry,
    *,
    retired_codes: Iterable[str] = (),
    scheme: CodeScheme | None = None,
    snap_m: float = 0.5,
    neighbour_snap_m: float = NEIGHBOUR_SNAP_M,
    grid_size: float = PRECISION_DEG,
    validate_options: Mapping[str, Any] | None = None,
) -> EditResult:
    """Move the part of leaf grid ``from_code`` inside ``area`` (Polygon, EPSG:4490) to its
    neighbour ``to_code``. The moved part must share an edge with ``to_code``; both grids
    change (and their parents follow). Codes are kept.
    """
    work = _setup(plan, scheme, retired_codes)
    for c in (from_code, to_code):
        work.require(c)
        _require_leaf(work, c, "transfer_area")
    if from_code == to_code:
        raise _refuse("bad_argument", [from_code], "transfer_area needs two different grids")
    area = _check_geometry_arg(area, "area", ("Polygon", "MultiPolygon"))
    giver, receiver = work.geom[from_code], work.geom[to_code]
    area = _prep_user_geom(area, giver, snap_m=snap_m, grid_size=grid_size)
    piece = _polygonal(shapely.intersection(area, giver))
    if piece.is_empty or piece.area == 0:
        raise _refuse("area_misses_grid", [from_code], f"the area does not overlap grid {from_code!r}")
    # overlay results are only nearly on the receiver's edge: measure the piece's boundary
    # within 1 cm of the receiver, and ask for more than a corner's worth (10 cm)
    near = _snap_tol_deg(giver, 0.01)
    if shapely.intersection(shapely.boundary(piece), shapely.buffer(receiver, near, quad_segs=2)).length <= 10 * near:
        raise _refuse(
            "area_not_adjacent", [from_code, to_code],
            f"the area taken from {from_code!r} does not touch {to_code!r} along an edge", piece,
        )
    lines = [shapely.boundary(giver), shapely.boundary(receiver)]
    cuts = [_snap_cut_ends(work, [from_code, to_code], shapely.intersection(shapely.boundary(area), giver),
                           neighbour_snap_m=neighbour_snap_m, grid_size=grid_size)]

    def assign(faces: np.ndarray, points: np.ndarray) -> np.ndarray:
        in_giver = shapely.intersects(giver, points)
        in_area = shapely.intersects(area, points)
        return np.where(in_giver & ~in_area, from_code, to_code).astype(object)

    tiles = _retile(work, [from_code, to_code], lines, cuts, assign, grid_size=grid_size)
    if from_code not in tiles or tiles[from_code].is_empty:
        raise _refuse("grid_would_vanish", [from_code],
                      f"the area covers all of {from_code!r}; use merge_grids to remove a grid")
    for c, g in tiles.items():
        work.set_geom(c, g)
    lineage = [LineageLink(from_code, to_code, "transfer")]
    return _finish("transfer_area", plan, work, lineage, grid_size=grid_size, validate_options=validate_options)


def replace_children(
    plan: gpd.GeoDataFrame,
    parent_code: str,
    new_children_geoms: Sequence[BaseGeometry],
    *,
    names: Sequence[str] | None = None,
    retired_codes: Iterable[str] = (),
    scheme: CodeScheme | None = None,
    snap_m: float = 0.5,
    neighbour_snap_m: float = 0.0,
    tolerance_m2: float = 1.0,
    grid_size: float = PRECISION_DEG,
    validate_options: Mapping[str, Any] | None = None,
) -> EditResult:
    """Replace all children of ``parent_code`` with new grids (geometries in EPSG:4490).

    The new geometries are snapped to the parent's vertices (``snap_m``) and clipped to the
    parent. Together they must cover the parent without overlapping: leftover gaps or
    overlaps up to ``tolerance_m2`` (m²) go to the adjacent new child with the longest
    shared edge; bigger ones refuse the edit. The old children (which must have no
    children themselves) are retired; new codes are allocated in input order.
    """
    work = _setup(plan, scheme, retired_codes)
    work.require(parent_code)
    level = work.level[parent_code] + 1
    if level > work.scheme.levels:
        raise _refuse("finest_level", [parent_code],
                      f"grid {parent_code!r} is at the finest level and cannot have children")
    old_children = work.children(parent_code)
    for c in old_children:
        _require_leaf(work, c, "replace_children")
    geoms = [_check_geometry_arg(g, f"new child #{i}", ("Polygon", "MultiPolygon"))
             for i, g in enumerate(new_children_geoms)]
    if not geoms:
        raise _refuse("bad_argument", [parent_code], "replace_children needs at least one new child")
    parent_geom = work.geom[parent_code]
    geoms = [_prep_user_geom(g, parent_geom, snap_m=snap_m, grid_size=grid_size) for g in geoms]
    clipped = np.array([_polygonal(shapely.intersection(g, parent_geom)) for g in geoms], dtype=object)
    empty = [i for i, g in enumerate(clipped) if g.is_empty or g.area == 0]
    if empty:
        raise _refuse("child_outside", [parent_code], f"new children {empty} do not overlap grid {parent_code!r}")
    region = old_children or [parent_code]
    lines = [shapely.boundary(parent_geom)]
    cuts = [_snap_cut_ends(work, region, shapely.intersection(shapely.boundary(g), parent_geom),
                           neighbour_snap_m=neighbour_snap_m, grid_size=grid_size) for g in clipped]
    problems: list[Finding] = []
    tree = shapely.STRtree(clipped)

    def assign(faces: np.ndarray, points: np.ndarray) -> np.ndarray:
        keys = np.full(len(faces), None, dtype=object)
        pi, ci = tree.query(points, predicate="intersects")
        hits: dict[int, list[int]] = defaultdict(list)
        for p, c in zip(pi, ci):
            hits[int(p)].append(int(c))
        face_areas = area_m2(faces)
        for f in range(len(faces)):
            cands = sorted(hits.get(f, []))
            if len(cands) == 1:
                keys[f] = f"#{cands[0]}"
                continue
            if face_areas[f] > tolerance_m2:
                rule = "overlap" if cands else "gap"
                what = f"new children {cands} overlap" if cands else "no new child covers"
                problems.append(_finding(rule, [parent_code], f"{what} {face_areas[f]:,.2f} m² of {parent_code!r}",
                                         faces[f]))
                continue
            near = cands or list(tree.query(faces[f], predicate="intersects"))
            if not near:
                problems.append(_finding("gap", [parent_code], f"a gap in {parent_code!r} touches no new child",
                                         faces[f]))
                continue
            best = max(near, key=lambda c: (_shared_length(faces[f], clipped[c]), -c))
            keys[f] = f"#{best}"
        return keys

    tiles = _retile(work, region, lines, cuts, assign, grid_size=grid_size)
    if problems:
        raise EditRefused(f"replace_children refused: {len(problems)} gap(s)/overlap(s) in the new children", problems,
                          code="edit.children_gaps", params={"count": len(problems)})
    missing = [i for i in range(len(clipped)) if f"#{i}" not in tiles]
    if missing:
        raise _refuse("child_vanished", [parent_code], f"new children {missing} are entirely covered by others")
    codes = work.new_codes(parent_code, len(clipped))
    lineage: list[LineageLink] = []
    parent_name = work.name[parent_code]
    new_geoms = {codes[i]: tiles[f"#{i}"] for i in range(len(clipped))}
    for c in old_children:
        old_geom = work.geom[c]
        for new_code, g in new_geoms.items():
            inter = _polygonal(shapely.intersection(old_geom, g))
            if not inter.is_empty and float(area_m2([inter])[0]) > tolerance_m2:
                lineage.append(LineageLink(c, new_code, "replace"))
        work.retire(c)
    for i, new_code in enumerate(codes):
        nm = names[i] if names is not None and i < len(names) else f"{parent_name}-{i + 1}"
        work.add(new_code, level, parent_code, nm, new_geoms[new_code])
    for c, g in tiles.items():
        if not c.startswith("#") and c in work.geom:
            work.set_geom(c, g)
    return _finish("replace_children", plan, work, lineage, grid_size=grid_size, validate_options=validate_options)
