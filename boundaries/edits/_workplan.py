"""The machinery every boundary edit shares (internal to :mod:`boundaries`).

:mod:`boundaries.edits` and :mod:`boundaries.edits.annex` build their operations from it: the
working plan (:class:`_Plan`: the plan's leaves, codes, retirements and lineage while an edit
is made), :func:`_retile` (rebuild a set of leaves from one noded linework so shared edges stay
shared), :func:`_finish` (parents follow their children, validation, the :class:`EditResult`)
and the argument checks and snapping of user-drawn geometry. The rules they implement are
described in :mod:`boundaries.edits`. The names keep their leading underscore: nothing outside
the package uses them; :class:`EditRefused` and :class:`EditResult` are public through
:mod:`boundaries.edits`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries.coding import CodeScheme, default_scheme
from boundaries.model import GridChange, LineageLink, check_plan_frame
from boundaries.validation import ERROR, Finding, ValidationReport, validate_plan
from boundaries.versions import same_geometry
from gis.crs import STORAGE_EPSG
from gis.errors import GridGovError
from boundaries.coding import InvalidGridCodeError
from gis.measure import area_m2, metres_to_degrees

logger = logging.getLogger("boundaries.edits")

#: Metres a new line's end on a neighbour's edge may move to a vertex that edge already has, so the
#: neighbour (and its parents) stay as they are instead of gaining a node and a new version.
NEIGHBOUR_SNAP_M = 15.0


class EditRefused(GridGovError, ValueError):
    """An edit that cannot be made without breaking the plan; ``findings`` say why."""

    code = "edit.refused"

    def __init__(self, message: str, findings: Iterable[Finding] = (), *, code: str | None = None,
                 params: dict | None = None) -> None:
        super().__init__(message, code=code, params=params)
        self.findings = list(findings)


@dataclass(frozen=True)
class EditResult:
    """Outcome of an edit: the complete new plan (EPSG:4490) and what changed."""

    operation: str
    plan: gpd.GeoDataFrame
    report: ValidationReport
    changes: list[GridChange] = field(default_factory=list)
    lineage: list[LineageLink] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    def codes(self, kind: str) -> list[str]:
        """Codes of the changes of ``kind`` (``added``, ``retired``, ``reshaped``)."""
        return [c.code for c in self.changes if c.kind == kind]

    @property
    def added(self) -> list[str]:
        return self.codes("added")

    @property
    def retired(self) -> list[str]:
        return self.codes("retired")

    @property
    def reshaped(self) -> list[str]:
        return self.codes("reshaped")


# --------------------------------------------------------------------------------------
# plan bookkeeping
# --------------------------------------------------------------------------------------
def _finding(rule: str, codes: Iterable[str], message: str, geometry: BaseGeometry | None = None) -> Finding:
    area = None
    if geometry is not None and geometry.geom_type in ("Polygon", "MultiPolygon") and not geometry.is_empty:
        area = float(area_m2([geometry], crs=STORAGE_EPSG)[0])
    return Finding(rule=rule, severity=ERROR, codes=tuple(codes), message=message, geometry=geometry, area_m2=area)


def _refuse(rule: str, codes: Iterable[str], message: str, geometry: BaseGeometry | None = None) -> EditRefused:
    """An edit refused by ``rule`` for ``codes``: worded on pages as ``error.edit.<rule>`` (``{codes:list}``)."""
    codes = list(codes)
    return EditRefused(message, [_finding(rule, codes, message, geometry)], code=f"edit.{rule}", params={"codes": codes})


def _multi(geom: BaseGeometry) -> BaseGeometry:
    if geom is None:
        return geom
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom]) if not geom.is_empty else shapely.MultiPolygon()
    polys = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    return _multi(geom)


class _Plan:
    """Mutable working copy of a plan keyed by code (the input frame is never touched)."""

    def __init__(self, plan: gpd.GeoDataFrame, scheme: CodeScheme, retired_codes: Iterable[str]) -> None:
        check_plan_frame(plan, what="plan")
        codes = plan["code"].to_numpy(dtype=object, na_value=None)
        if len(set(codes)) != len(codes) or any(c is None for c in codes):
            raise EditRefused(
                "the plan has missing or duplicate codes; validate and fix it before editing",
                [f for f in validate_plan(plan, scheme=scheme).errors if f.rule in ("duplicate_code", "code_malformed")],
                code="edit.plan_codes_invalid",
            )
        self.frame = plan
        self.scheme = scheme
        self.order = [str(c) for c in codes]
        self.geom: dict[str, BaseGeometry] = dict(zip(self.order, plan.geometry.array))
        self.level: dict[str, int] = {c: int(v) for c, v in zip(self.order, plan["level"])}
        self.parent: dict[str, str | None] = {
            c: (None if p is None else str(p)) for c, p in zip(self.order, plan["parent_code"].to_numpy(dtype=object, na_value=None))
        }
        self.name: dict[str, str] = {c: ("" if n is None else str(n)) for c, n in zip(self.order, plan["name"].to_numpy(dtype=object, na_value=None))}
        self.extra: dict[str, dict[str, Any]] = {}
        self.original_codes = set(self.order)
        self.retired_before = set(retired_codes)
        self.retired_now: list[str] = []
        self.added: list[str] = []
        self.changed: set[str] = set()

    # --- structure --------------------------------------------------------------------
    def children(self, code: str) -> list[str]:
        return sorted(c for c, p in self.parent.items() if p == code)

    def is_leaf(self, code: str) -> bool:
        return not any(p == code for p in self.parent.values())

    def leaves(self) -> list[str]:
        parents = {p for p in self.parent.values() if p is not None}
        return [c for c in self.geom if c not in parents]

    def require(self, code: str) -> None:
        if code not in self.geom:
            raise _refuse("grid_not_found", [code], f"grid {code!r} is not in the plan")

    def taken(self) -> set[str]:
        return set(self.geom) | self.original_codes | self.retired_before | set(self.retired_now)

    def new_codes(self, parent: str | None, count: int, explicit: Sequence[str] | None = None) -> list[str]:
        if explicit is not None:
            codes = [str(c) for c in explicit]
            if len(codes) != count:
                raise _refuse("new_codes_count", codes, f"{count} new codes are needed but {len(codes)} were given")
            taken = self.taken()
            for c in codes:
                self.scheme.validate(c)
                if c in taken:
                    raise _refuse("code_reused", [c], f"code {c!r} is in use or retired; codes are never reused")
            if len(set(codes)) != len(codes):
                raise _refuse("duplicate_code", codes, "the new codes are not unique")
            return codes
        if parent is None:
            raise _refuse(
                "level1_code_needed", [],
                "new level-1 grids need official codes: pass new_codes (level-1 codes are statistical codes)",
            )
        try:
            return self.scheme.next_free_codes(parent, self.taken(), count)
        except InvalidGridCodeError as exc:
            raise _refuse("codes_exhausted", [parent], f"cannot allocate {count} new code(s) under {parent!r}: {exc}") from exc

    # --- mutations --------------------------------------------------------------------
    def add(self, code: str, level: int, parent: str | None, name: str, geom: BaseGeometry,
            extra: Mapping[str, Any] | None = None) -> None:
        self.geom[code] = geom
        self.level[code] = level
        self.parent[code] = parent
        self.name[code] = name
        if extra:
            self.extra[code] = dict(extra)
        self.added.append(code)
        self.changed.add(code)

    def retire(self, code: str) -> None:
        for store in (self.geom, self.level, self.parent, self.name):
            store.pop(code, None)
        self.extra.pop(code, None)
        self.retired_now.append(code)
        self.changed.discard(code)

    def set_geom(self, code: str, geom: BaseGeometry) -> None:
        self.geom[code] = geom
        self.changed.add(code)

    def ancestors(self, code: str) -> list[str]:
        out = []
        p = self.parent.get(code)
        while p is not None and p in self.geom:
            out.append(p)
            p = self.parent.get(p)
        return out

    def recompute_ancestors(self, leaves: Iterable[str], *, snap_tol: float,
                            stored: Mapping[str, BaseGeometry] | None = None) -> None:
        """Parents follow children: rebuild every ancestor of ``leaves`` bottom-up, then insert
        the new nodes of rebuilt grids into their same-level neighbours.

        A parent is the coverage union of its children: dissolving their shared edges adds no
        coordinate, so children on the precision grid give a parent on it (no float drift). A
        parent whose union is the same as its ``stored`` geometry (:func:`boundaries.versions.same_geometry`)
        or topologically equal to it (its outline did not change; only nodes on it differ) keeps
        the stored geometry and is not changed.

        ``snap_tol`` (degrees) bounds how far a rebuilt grid's vertex may lie from a neighbour's
        edge to be inserted into it; it is kept far below the precision grid, so existing
        vertices are never moved (moving them is what made unrelated grids drift).
        """
        stored = stored or {}
        todo: set[str] = set()
        for c in leaves:
            if c in self.geom:
                todo.update(self.ancestors(c))
        rebuilt: set[str] = set()
        for code in sorted(todo, key=lambda c: -self.level[c]):
            kids = [self.geom[k] for k in self.children(code)]
            if not kids:
                continue
            try:
                union = shapely.coverage_union_all(np.array(kids, dtype=object))
            except shapely.errors.GEOSException:  # children not noded alike (a transfer's new edge): overlay union
                union = None
            if union is None or not union.is_valid:
                union = shapely.union_all(np.array(kids, dtype=object))
            union = _multi(shapely.normalize(union))
            old = stored.get(code)
            if old is not None and (same_geometry(old, union) or bool(shapely.equals(old, union))):
                if code in self.changed:  # an earlier pass rebuilt it: back to the stored outline
                    self.geom[code] = old
                    self.changed.discard(code)
                continue
            self.set_geom(code, union)
            rebuilt.add(code)
        if not rebuilt or snap_tol <= 0:
            return
        by_level: dict[int, list[str]] = defaultdict(list)
        for c in self.geom:
            by_level[self.level[c]].append(c)
        for level, codes in by_level.items():
            mine = [c for c in codes if c in rebuilt]
            if not mine:
                continue
            others = [c for c in codes if c not in rebuilt]  # also parents kept as stored above
            if not others:
                continue
            tree = shapely.STRtree(np.array([self.geom[c] for c in others], dtype=object))
            for c in mine:
                for k in tree.query(self.geom[c], predicate="intersects"):
                    o = others[int(k)]
                    snapped = _multi(shapely.normalize(shapely.snap(self.geom[o], self.geom[c], snap_tol)))
                    if snapped.is_valid and not same_geometry(snapped, self.geom[o]):
                        self.set_geom(o, snapped)

    def to_frame(self) -> gpd.GeoDataFrame:
        """The new plan: original rows (index kept) in their order, then added rows."""
        src = self.frame
        keep = [c in self.geom for c in self.order]
        out = src.loc[keep].copy()
        codes = out["code"].astype(object).tolist()
        out["geometry"] = gpd.GeoSeries([self.geom[c] for c in codes], index=out.index, crs=src.crs)
        if self.added:
            rows = []
            for c in self.added:
                if c not in self.geom:
                    continue
                row = {"code": c, "level": self.level[c], "parent_code": self.parent[c], "name": self.name[c]}
                row.update(self.extra.get(c, {}))
                rows.append(row)
            new = gpd.GeoDataFrame(
                pd.DataFrame(rows),
                geometry=[self.geom[r["code"]] for r in rows],
                crs=src.crs,
            )
            for col in out.columns:
                if col not in new.columns:
                    new[col] = None
            if pd.api.types.is_integer_dtype(out.index) or not len(out):
                start = int(out.index.max()) + 1 if len(out) else 0
                new.index = pd.RangeIndex(start, start + len(new))  # added rows continue the index
            elif len(out) and (pd.Index(out.index).astype(str) == out["code"].astype(str).to_numpy()).all():
                new.index = pd.Index(list(new["code"]), name=out.index.name)  # frame indexed by code
            else:
                new.index = pd.Index([f"new-{c}" for c in new["code"]], name=out.index.name)
            out = pd.concat([out, new[out.columns]], axis=0)
            out = gpd.GeoDataFrame(out, geometry="geometry", crs=src.crs)
        # parent_code and level may have changed by recoding
        codes = out["code"].astype(object).tolist()
        out["parent_code"] = pd.Series([self.parent[c] for c in codes], index=out.index, dtype=object)
        out["level"] = np.array([self.level[c] for c in codes], dtype=np.int64)
        out["name"] = pd.Series([self.name[c] for c in codes], index=out.index, dtype=src["name"].dtype)
        return out


def _on_grid(geoms: Sequence[BaseGeometry], grid_size: float) -> bool:
    if not grid_size or grid_size <= 0:
        return False
    arr = np.asarray(list(geoms), dtype=object)
    return bool(np.all(shapely.equals_exact(shapely.set_precision(arr, grid_size, mode="pointwise"), arr, 0.0)))


def _retile(
    work: _Plan,
    region: Sequence[str],
    lines: Sequence[BaseGeometry],
    cuts: Sequence[BaseGeometry],
    assign: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    grid_size: float,
) -> dict[str, BaseGeometry]:
    """Rebuild the leaves in ``region`` and their touching neighbour leaves from one noded
    linework.

    ``lines`` are existing boundaries (exact); ``cuts`` are new lines clipped to the region,
    whose end points lie on existing boundaries only up to floating-point error (operations first
    move ends on a neighbour's edge to a vertex it already has where one is near,
    :func:`_snap_cut_ends`); those end points are inserted as vertices into every boundary
    (``shapely.snap``), so the union nodes them exactly (a neighbour gains such a node and a new
    version). ``assign(faces, points)`` maps each
    face inside the region (and a point inside it) to a key. Returns key → new geometry
    (neighbours keyed by code).
    """
    region_geoms = np.array([work.geom[c] for c in region], dtype=object)
    region_union = shapely.union_all(region_geoms)
    leaves = [c for c in work.leaves() if c not in set(region)]
    neighbours: list[str] = []
    if leaves:
        leaf_geoms = np.array([work.geom[c] for c in leaves], dtype=object)
        tree = shapely.STRtree(leaf_geoms)
        neighbours = [leaves[int(k)] for k in tree.query(region_union, predicate="intersects")]
    neighbour_geoms = np.array([work.geom[c] for c in neighbours], dtype=object)
    cut_parts = [p for g in cuts if g is not None and not g.is_empty for p in shapely.get_parts(shapely.get_parts(g))
                 if p.geom_type == "LineString" and p.length > 0]
    existing = [shapely.boundary(g) for g in neighbour_geoms] + [g for g in lines if g is not None and not g.is_empty]
    if cut_parts:
        ends = shapely.multipoints(shapely.get_coordinates(shapely.boundary(np.array(cut_parts, dtype=object))))
        tol = grid_size if grid_size > 0 else 1e-9  # overlay results can be off by ~1e-8°
        existing = [shapely.snap(g, ends, tol) for g in existing]
    linework = shapely.union_all(np.array(existing + cut_parts, dtype=object))
    if _on_grid(list(region_geoms) + list(neighbour_geoms), grid_size):
        linework = shapely.set_precision(linework, grid_size)
        linework = shapely.union_all(shapely.get_parts(linework))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    faces = faces[shapely.area(faces) > 0]
    points = shapely.point_on_surface(faces)
    keys = np.full(len(faces), None, dtype=object)
    if neighbours:
        ntree = shapely.STRtree(neighbour_geoms)
        pi, ni = ntree.query(points, predicate="within")
        first: dict[int, int] = {}
        for p, n in zip(pi, ni):
            first.setdefault(int(p), int(n))
        for p, n in first.items():
            keys[p] = neighbours[n]
    rest = np.flatnonzero(keys == None)  # noqa: E711
    if len(rest):
        inside = shapely.intersects(region_union, points[rest])
        sel = rest[inside]
        if len(sel):
            keys[sel] = assign(faces[sel], points[sel])
    out: dict[str, BaseGeometry] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        if k is not None:
            groups[str(k)].append(i)
    for k, idx in groups.items():
        union = shapely.coverage_union_all(faces[idx]) if len(idx) > 1 else faces[idx[0]]
        out[k] = _multi(shapely.normalize(union))
    for n in neighbours:
        out.setdefault(n, shapely.MultiPolygon())
    return out


def _snap_cut_ends(work: _Plan, region: Sequence[str], cut: BaseGeometry, *, neighbour_snap_m: float,
                   grid_size: float) -> BaseGeometry:
    """``cut`` (a new line inside the leaves of ``region``) with its ends on a neighbour's edge moved
    to a vertex that edge already has, where one lies within ``neighbour_snap_m`` metres.

    A new line that ends between two vertices of an edge the region shares with a neighbour leaf
    (a leaf outside the edit) would add a node to that edge: rounded to the precision grid, it
    bends the edge by up to a centimetre and makes the neighbour — and every parent whose outline
    the edge is, up to another community's level-1 grid — a new version. Ending at a vertex the
    edge already has leaves them exactly as they were. An end stays where it is when no such
    vertex is near enough, or when the moved line would leave the region or run along its
    boundary. Ends on the outline of the whole coverage (only the region's own parents have it)
    or between two grids of the region are not moved. Distances in metres, converted at the
    point's latitude. Returns ``cut`` itself when nothing moves.
    """
    if cut is None or cut.is_empty or neighbour_snap_m <= 0:
        return cut
    parts = [p for p in shapely.get_parts(shapely.get_parts(cut)) if p.geom_type == "LineString" and p.length > 0]
    if not parts:
        return cut
    on_edge = grid_size if grid_size > 0 else 1e-9
    region_geoms = np.array([work.geom[c] for c in region], dtype=object)
    region_union = shapely.union_all(region_geoms)
    inside = set(region)
    leaves = [c for c in work.leaves() if c not in inside]
    if not leaves:
        return cut
    leaf_geoms = np.array([work.geom[c] for c in leaves], dtype=object)
    near = shapely.STRtree(leaf_geoms).query(region_union, predicate="intersects")
    if not len(near):
        return cut
    edges = [shapely.boundary(g) for g in leaf_geoms[near]]
    region_edge = shapely.boundary(region_union)
    vertices = np.unique(shapely.get_coordinates(shapely.boundary(region_geoms)), axis=0)
    vertex_points = shapely.points(vertices)
    on = [shapely.dwithin(vertex_points, edge, on_edge) for edge in edges]  # region vertices on each edge
    cover = shapely.buffer(region_union, on_edge, quad_segs=1)
    out: list[BaseGeometry] = []
    changed = False
    for part in parts:
        coords = shapely.get_coordinates(part).copy()
        moved = False
        for k in (0, len(coords) - 1):
            end = shapely.Point(coords[k])
            shared = np.zeros(len(vertices), dtype=bool)
            for edge, vertex_on in zip(edges, on):
                if shapely.dwithin(end, edge, on_edge):
                    shared |= vertex_on
            if not shared.any():
                continue
            candidates = vertices[shared]
            dist = np.hypot(candidates[:, 0] - coords[k, 0], candidates[:, 1] - coords[k, 1])
            best = int(np.argmin(dist))
            if 0 < dist[best] <= metres_to_degrees(neighbour_snap_m, float(coords[k, 1])):
                coords[k] = candidates[best]
                moved = True
        line = shapely.LineString(coords) if moved else part
        if moved and not (line.length > 0 and shapely.covers(cover, line)
                          and shapely.intersection(line, region_edge).length == 0):
            line = part
        changed |= line is not part
        out.append(line)
    if not changed:
        return cut
    return out[0] if len(out) == 1 else shapely.MultiLineString(out)


def _snap_tol_deg(geom: BaseGeometry, metres: float) -> float:
    lat = shapely.get_y(shapely.centroid(geom))
    return metres_to_degrees(metres, float(lat))


def _finish(
    operation: str,
    plan: gpd.GeoDataFrame,
    work: _Plan,
    lineage: list[LineageLink],
    *,
    grid_size: float,
    validate_options: Mapping[str, Any] | None,
) -> EditResult:
    """Recompute parents, validate, and build the result (or refuse).

    Only grids that really change are changed (:func:`boundaries.versions.same_geometry`): a
    grid the retiling rebuilt into the same geometry gets its stored geometry object back, and
    parents are recomputed from the children that did change (see
    :meth:`_Plan.recompute_ancestors`), so an edit never versions an unrelated grid.
    """
    stored = {c: g for c, g in zip(work.order, plan.geometry.array)}
    rebuilt = [c for c in work.changed if c in stored and c in work.geom]
    if rebuilt:
        same = same_geometry(np.array([work.geom[c] for c in rebuilt], dtype=object),
                             np.array([stored[c] for c in rebuilt], dtype=object), grid_size=grid_size)
        for c, unchanged in zip(rebuilt, same):
            if unchanged:
                work.geom[c] = stored[c]
                work.changed.discard(c)
    changed_leaves = [c for c in work.changed if c in work.geom]
    work.recompute_ancestors(changed_leaves + [c for c in work.added if c in work.geom],
                             snap_tol=(grid_size if grid_size > 0 else 1e-9) * 1e-3, stored=stored)
    new_plan = work.to_frame()
    options = dict(validate_options or {})
    report = validate_plan(new_plan, scheme=work.scheme, **options)
    touched = set(work.changed) | set(work.added)
    bad = [f for f in report.errors if touched.intersection(f.codes)]
    if bad:
        old = validate_plan(plan, scheme=work.scheme, **options)
        old_keys = {(f.rule, f.codes) for f in old.errors}
        bad = [f for f in bad if (f.rule, f.codes) not in old_keys]
    if bad:
        raise EditRefused(
            f"{operation} refused: the result would not be a valid nested coverage "
            f"({len(bad)} problem(s); first: {bad[0].message})",
            bad, code="edit.result_invalid", params={"count": len(bad), "rules": sorted({f.rule for f in bad})},
        )
    before = {c: g for c, g in zip(work.order, plan.geometry.array)}
    changes: list[GridChange] = []
    codes_before = [c for c in work.changed if c in before and c in work.geom]
    areas_b = area_m2(np.array([before[c] for c in codes_before], dtype=object)) if codes_before else []
    areas_a = area_m2(np.array([work.geom[c] for c in codes_before], dtype=object)) if codes_before else []
    for c, a, b in sorted(zip(codes_before, areas_b, areas_a)):
        if not same_geometry(before[c], work.geom[c], grid_size=grid_size):
            changes.append(GridChange("reshaped", c, float(a), float(b)))
    if work.added:
        added = [c for c in work.added if c in work.geom]
        for c, a in zip(added, area_m2(np.array([work.geom[c] for c in added], dtype=object))):
            changes.append(GridChange("added", c, None, float(a)))
    retired = [c for c in work.retired_now if c in before]
    for c, a in zip(retired, area_m2(np.array([before[c] for c in retired], dtype=object)) if retired else []):
        changes.append(GridChange("retired", c, float(a), None))
    logger.info("%s: %d added, %d retired, %d reshaped", operation, len(work.added), len(retired),
                sum(1 for ch in changes if ch.kind == "reshaped"))
    return EditResult(operation=operation, plan=new_plan, report=report, changes=changes, lineage=lineage)


def _setup(plan: gpd.GeoDataFrame, scheme: CodeScheme | None, retired_codes: Iterable[str]) -> _Plan:
    return _Plan(plan, scheme or default_scheme(), retired_codes)


def _check_geometry_arg(geom: Any, what: str, types: tuple[str, ...]) -> BaseGeometry:
    if not isinstance(geom, BaseGeometry) or geom.is_empty:
        raise _refuse("bad_argument", [], f"{what} is {geom!r} but is expected to be a non-empty {' or '.join(types)}")
    if geom.geom_type not in types:
        raise _refuse("bad_argument", [], f"{what} is a {geom.geom_type} but is expected to be a {' or '.join(types)}")
    if not geom.is_valid:
        raise _refuse("bad_argument", [], f"{what} is not a valid geometry: {shapely.is_valid_reason(geom)}")
    return geom


def _prep_user_geom(geom: BaseGeometry, reference: BaseGeometry, *, snap_m: float, grid_size: float) -> BaseGeometry:
    """Snap a user-drawn geometry to the reference's existing vertices, then to the precision grid."""
    if snap_m > 0:
        geom = shapely.snap(geom, reference, _snap_tol_deg(reference, snap_m))
    if grid_size > 0:
        geom = shapely.set_precision(geom, grid_size)
    return geom


def _recode_subtree(work: _Plan, code: str, new_parent: str, lineage: list[LineageLink]) -> None:
    """Give every child of ``code`` a new code under ``new_parent`` (recursively)."""
    for child in work.children(code):
        new_code = work.new_codes(new_parent, 1)[0]
        geom, level, name = work.geom[child], work.level[child], work.name[child]
        work.add(new_code, level, new_parent, name, geom, work.extra.get(child))
        lineage.append(LineageLink(child, new_code, "renumber"))
        _recode_subtree(work, child, new_code, lineage)
        work.retire(child)
