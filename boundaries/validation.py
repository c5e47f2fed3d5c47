"""Nested-coverage validation of a whole grid plan.

:func:`validate_plan` checks a plan frame (see :mod:`boundaries.model`: columns ``code``,
``level``, ``parent_code``, ``name``, ``geometry`` in EPSG:4490) and returns a
:class:`ValidationReport` holding every problem as a :class:`Finding` — it does not stop at
the first one. Areas are measured in m² in the CGCS2000 Gauss-Krüger zone of each problem
geometry (:func:`gis.measure.area_m2`); problem geometries stay in EPSG:4490.

Rules (``Finding.rule``; all are errors unless noted):

==========================  =============================================================
``code_malformed``          the code does not parse with the code scheme (message says why)
``duplicate_code``          two rows share a code
``level_mismatch``          ``level`` differs from the level implied by the code length
``parent_unexpected``       a level-1 grid has a ``parent_code``
``parent_missing``          ``parent_code`` is empty, or names no grid of the plan
``code_not_extending_parent``  the code does not start with (extend) ``parent_code`` by one level
``geometry_missing``        no geometry
``geometry_empty``          empty geometry
``geometry_type``           not a Polygon/MultiPolygon
``geometry_invalid``        invalid (OGC) geometry; the reason is in the message
``multipart``               non-contiguous grid (more than one polygon) unless allowed
``sliver``                  a polygon part under ``sliver_area_m2`` or narrower than ``sliver_width_m``
``overlap``                 grids of the same level overlap by more than ``overlap_tolerance_m2``
``edge_mismatch``           edges of same-level grids look shared but do not match vertex for
                            vertex (near-coincident edges, tiny overlaps, narrow gaps): shared-edge
                            editing would break there
``gap``                     part of a parent not covered by its children (above ``gap_tolerance_m2``)
``child_outside``           part of a child outside its parent (above ``gap_tolerance_m2``)
``union_mismatch``          children's union differs from the parent although neither a gap
                            nor a child outside is above the tolerance on its own
``no_children`` (warning)   a non-finest grid without children while other grids of its level
                            have children
==========================  =============================================================

Same-level coverage is checked with GEOS's coverage validator
(``shapely.coverage_invalid_edges``, GEOS ≥ 3.12) and a vectorized STRtree pairwise check
for overlaps; where the GEOS validator is unavailable a pairwise STRtree vertex check finds
near-coincident edges instead.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries.coding import CodeScheme, default_scheme
from boundaries.model import check_plan_frame
from gis.crs import STORAGE_EPSG
from gis.errors import ValidationError
from boundaries.coding import InvalidGridCodeError
from gis.geometry import explain_invalid, is_polygonal
from gis.measure import area_m2, metres_to_degrees, to_metric

__all__ = [
    "ERROR",
    "WARNING",
    "RULES",
    "Finding",
    "ValidationReport",
    "validate_plan",
    "new_errors",
]

logger = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"

#: Every rule validate_plan can report.
RULES = (
    "code_malformed",
    "duplicate_code",
    "level_mismatch",
    "parent_unexpected",
    "parent_missing",
    "code_not_extending_parent",
    "geometry_missing",
    "geometry_empty",
    "geometry_type",
    "geometry_invalid",
    "multipart",
    "sliver",
    "overlap",
    "edge_mismatch",
    "gap",
    "child_outside",
    "union_mismatch",
    "no_children",
)

_HAS_GEOS_COVERAGE = hasattr(shapely, "coverage_invalid_edges") and shapely.geos_version >= (3, 12, 0)


@dataclass(frozen=True)
class Finding:
    """One problem found in a plan.

    Attributes
    ----------
    rule:
        Rule identifier (see :data:`RULES`).
    severity:
        ``"error"`` (the plan cannot be used) or ``"warning"``.
    codes:
        Grid codes involved (may be empty when a row has no usable code; then ``rows`` tells).
    message:
        Human-readable, actionable explanation (English).
    geometry:
        Where the problem is, in EPSG:4490 (None when not spatial).
    area_m2:
        Area of ``geometry`` in m² (measured in the CGCS2000 GK zone), None when not areal.
    rows:
        Positions (``iloc``) of the rows involved in the validated frame.
    """

    rule: str
    severity: str
    codes: tuple[str, ...]
    message: str
    geometry: BaseGeometry | None = None
    area_m2: float | None = None
    rows: tuple[int, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """JSON-able dict (geometry as WKT)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "codes": list(self.codes),
            "message": self.message,
            "area_m2": None if self.area_m2 is None else float(self.area_m2),
            "geometry_wkt": None if self.geometry is None else shapely.to_wkt(self.geometry, rounding_precision=7),
            "rows": [int(r) for r in self.rows],
        }


@dataclass(frozen=True)
class ValidationReport:
    """Every finding of one validation run; ``ok`` when there is no error."""

    findings: list[Finding] = field(default_factory=list)
    n_grids: int = 0

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def by_rule(self) -> dict[str, int]:
        """Number of findings per rule."""
        counts: dict[str, int] = defaultdict(int)
        for f in self.findings:
            counts[f.rule] += 1
        return dict(counts)

    def for_codes(self, codes: Iterable[str]) -> list[Finding]:
        """Findings that involve any of ``codes``."""
        wanted = set(codes)
        return [f for f in self.findings if wanted.intersection(f.codes)]

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-able dict per finding."""
        return [f.to_record() for f in self.findings]

    def to_json(self) -> str:
        return json.dumps(
            {"ok": self.ok, "n_grids": self.n_grids, "findings": self.to_records()}, ensure_ascii=False
        )

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """Problem geometries (EPSG:4490) with rule, severity, codes, message and area (m²)."""
        rows = [f for f in self.findings if f.geometry is not None]
        frame = pd.DataFrame(
            {
                "rule": [f.rule for f in rows],
                "severity": [f.severity for f in rows],
                "codes": [",".join(f.codes) for f in rows],
                "message": [f.message for f in rows],
                "area_m2": [np.nan if f.area_m2 is None else f.area_m2 for f in rows],
            }
        )
        return gpd.GeoDataFrame(frame, geometry=[f.geometry for f in rows], crs=STORAGE_EPSG)

    def summary(self) -> str:
        if not self.findings:
            return f"{self.n_grids} grids: valid"
        parts = ", ".join(f"{rule}: {n}" for rule, n in sorted(self.by_rule().items()))
        return f"{self.n_grids} grids: {len(self.errors)} error(s), {len(self.warnings)} warning(s) ({parts})"

    def raise_for_errors(self) -> None:
        """Raise one :class:`~gis.errors.ValidationError` carrying every error, if any."""
        if not self.ok:
            errs = self.errors
            raise ValidationError(
                f"the plan is not a valid nested coverage: {self.summary()}; first: {errs[0].message}",
                errs, code="plan.invalid", params={"count": len(errs), "rules": sorted({f.rule for f in errs})},
            )


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
class _Collector:
    """Accumulates findings; areas of areal problem geometries are measured at the end."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        rule: str,
        severity: str,
        codes: Iterable[str],
        message: str,
        *,
        geometry: BaseGeometry | None = None,
        area: float | None = None,
        rows: Iterable[int] = (),
    ) -> None:
        self.items.append(
            {
                "rule": rule,
                "severity": severity,
                "codes": tuple(str(c) for c in codes if c is not None),
                "message": message,
                "geometry": geometry,
                "area_m2": area,
                "rows": tuple(int(r) for r in rows),
            }
        )

    def build(self) -> list[Finding]:
        need = [
            i
            for i, item in enumerate(self.items)
            if item["area_m2"] is None
            and item["geometry"] is not None
            and item["geometry"].geom_type in ("Polygon", "MultiPolygon", "GeometryCollection")
        ]
        if need:
            areas = area_m2(np.array([self.items[i]["geometry"] for i in need], dtype=object), crs=STORAGE_EPSG)
            for i, a in zip(need, areas):
                self.items[i]["area_m2"] = float(a)
        return [Finding(**item) for item in self.items]


def _fmt_m2(value: float) -> str:
    return f"{value:,.2f} m²"


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygonal content of an overlay result (drop lines/points)."""
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


def _allowed(codes: np.ndarray, allow: bool | Iterable[str]) -> np.ndarray:
    if allow is True:
        return np.ones(len(codes), dtype=bool)
    if allow is False or allow is None:
        return np.zeros(len(codes), dtype=bool)
    wanted = set(allow)  # type: ignore[arg-type]
    return np.array([c in wanted for c in codes], dtype=bool)


# --------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------
def _check_codes(
    out: _Collector, codes: np.ndarray, levels: np.ndarray, parents: np.ndarray, scheme: CodeScheme
) -> tuple[np.ndarray, np.ndarray]:
    """Code rules. Returns (well-formed mask, code level per row or 0)."""
    n = len(codes)
    good = np.zeros(n, dtype=bool)
    code_level = np.zeros(n, dtype=np.int64)
    for i, code in enumerate(codes):
        try:
            code_level[i] = scheme.level_of(code)
            good[i] = True
        except InvalidGridCodeError as exc:
            out.add("code_malformed", ERROR, [code] if isinstance(code, str) else [], str(exc), rows=[i])
    # duplicates
    series = pd.Series(codes, dtype=object)
    dup = series.duplicated(keep=False) & series.notna()
    if dup.any():
        for code, idx in series[dup].groupby(series[dup]).groups.items():
            rows = [int(series.index.get_loc(j)) for j in idx]
            out.add(
                "duplicate_code", ERROR, [str(code)],
                f"grid code {code!r} appears {len(rows)} times (rows {rows}); codes must be unique",
                rows=rows,
            )
    code_set = set(c for c in codes if isinstance(c, str))
    for i in np.flatnonzero(good):
        code, level, parent = codes[i], levels[i], parents[i]
        if level != code_level[i]:
            out.add(
                "level_mismatch", ERROR, [code],
                f"grid {code!r} has level {level} but its {len(code)}-digit code is a level-{code_level[i]} code",
                rows=[i],
            )
        if code_level[i] == 1:
            if parent is not None:
                out.add(
                    "parent_unexpected", ERROR, [code],
                    f"grid {code!r} is a level-1 grid but has parent_code {parent!r}; level-1 grids have no parent",
                    rows=[i],
                )
            continue
        expected = scheme.parent_of(code)
        if parent is None:
            out.add(
                "parent_missing", ERROR, [code],
                f"grid {code!r} (level {code_level[i]}) has no parent_code; expected {expected!r}",
                rows=[i],
            )
            continue
        if parent != expected:
            out.add(
                "code_not_extending_parent", ERROR, [code, str(parent)],
                f"grid {code!r} does not extend its parent_code {parent!r} by one level "
                f"(its code implies the parent {expected!r})",
                rows=[i],
            )
        if parent not in code_set:
            out.add(
                "parent_missing", ERROR, [code, str(parent)],
                f"the parent {parent!r} of grid {code!r} is not in the plan",
                rows=[i],
            )
    return good, code_level


def _check_geometries(out: _Collector, codes: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Per-feature geometry rules. Returns the mask of usable (valid, polygonal, non-empty) rows."""
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    polygonal = is_polygonal(geoms)
    wrong_type = ~missing & ~empty & ~polygonal
    reasons = explain_invalid(geoms)
    invalid = ~missing & ~empty & polygonal & np.array([r is not None for r in reasons], dtype=bool)
    for i in np.flatnonzero(missing):
        out.add("geometry_missing", ERROR, [codes[i]], f"grid {codes[i]!r} has no geometry", rows=[i])
    for i in np.flatnonzero(empty):
        out.add("geometry_empty", ERROR, [codes[i]], f"grid {codes[i]!r} has an empty geometry", rows=[i])
    for i in np.flatnonzero(wrong_type):
        out.add(
            "geometry_type", ERROR, [codes[i]],
            f"grid {codes[i]!r} is a {geoms[i].geom_type} but grids are expected to be Polygon or MultiPolygon",
            geometry=geoms[i], rows=[i],
        )
    for i in np.flatnonzero(invalid):
        location = None
        try:
            location = shapely.Point(*[float(v) for v in reasons[i].split("[")[1].rstrip("]").split()[:2]])
        except (IndexError, ValueError):
            location = None
        out.add(
            "geometry_invalid", ERROR, [codes[i]],
            f"grid {codes[i]!r} has an invalid geometry: {reasons[i]} (repair it, e.g. import with fix=True)",
            geometry=location, rows=[i],
        )
    return ~missing & ~empty & polygonal & ~invalid


def _check_parts(
    out: _Collector,
    codes: np.ndarray,
    geoms: np.ndarray,
    usable: np.ndarray,
    *,
    allow_multipart: bool | Iterable[str],
    sliver_area_m2: float,
    sliver_width_m: float,
) -> None:
    idx = np.flatnonzero(usable)
    if not len(idx):
        return
    sub = geoms[idx]
    nparts = shapely.get_num_geometries(sub)
    multi = (nparts > 1) & ~_allowed(codes[idx], allow_multipart)
    for k in np.flatnonzero(multi):
        i = idx[k]
        out.add(
            "multipart", ERROR, [codes[i]],
            f"grid {codes[i]!r} is not contiguous: it has {nparts[k]} separate parts "
            "(allow it explicitly with allow_multipart if the enclave is real)",
            geometry=geoms[i], rows=[i],
        )
    if sliver_area_m2 <= 0 and sliver_width_m <= 0:
        return
    parts, owner = shapely.get_parts(sub, return_index=True)
    metric, _ = to_metric(parts, crs=STORAGE_EPSG)
    areas = shapely.area(metric)
    small = areas < sliver_area_m2
    narrow = np.zeros(len(parts), dtype=bool)
    if sliver_width_m > 0:
        # A part narrower than the width everywhere vanishes when eroded by half the width.
        cand = ~small
        eroded = shapely.buffer(metric[cand], -sliver_width_m / 2.0, quad_segs=2)
        narrow[cand] = shapely.is_empty(eroded)
    bad = small | narrow
    for k in np.flatnonzero(bad):
        i = idx[owner[k]]
        why = (
            f"{_fmt_m2(areas[k])} < {_fmt_m2(sliver_area_m2)}" if small[k]
            else f"narrower than {sliver_width_m:g} m everywhere"
        )
        whole = nparts[owner[k]] == 1
        out.add(
            "sliver", ERROR, [codes[i]],
            f"grid {codes[i]!r} {'is' if whole else 'has'} a sliver{'' if whole else ' part'} ({why})",
            geometry=parts[k], area=float(areas[k]), rows=[i],
        )


def _overlap_pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i<j) of geometries whose interiors intersect, and their polygonal intersection."""
    if len(geoms) < 2:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    interior = ~shapely.touches(geoms[left], geoms[right])
    left, right = left[interior], right[interior]
    inter = shapely.intersection(geoms[left], geoms[right])
    inter = np.array([_polygonal(g) for g in inter], dtype=object)
    return left, right, inter


def _near_coincident_pairwise(geoms: np.ndarray, tolerance_deg: float) -> dict[int, BaseGeometry]:
    """Fallback edge check: vertices of a grid within ``tolerance_deg`` of another grid's
    boundary without lying on it (returns grid position → MultiPoint of such vertices)."""
    if len(geoms) < 2:
        return {}
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    points = shapely.points(coords)
    boundaries = shapely.boundary(geoms)
    tree = shapely.STRtree(boundaries)
    pt, other = tree.query(points, predicate="dwithin", distance=tolerance_deg)
    keep = owner[pt] != other
    pt, other = pt[keep], other[keep]
    dist = shapely.distance(points[pt], boundaries[other])
    near = dist > tolerance_deg * 1e-6
    found: dict[int, list[BaseGeometry]] = defaultdict(list)
    for p, o in zip(pt[near], other[near]):
        found[int(owner[p])].append(points[p])
        found[int(o)].append(points[p])
    return {k: shapely.MultiPoint(v) for k, v in found.items()}


def _check_level_coverage(
    out: _Collector,
    codes: np.ndarray,
    geoms: np.ndarray,
    rows: np.ndarray,
    level: int,
    *,
    overlap_tolerance_m2: float,
    gap_width_deg: float,
    coverage_method: str,
) -> None:
    sub = geoms[rows]
    left, right, inter = _overlap_pairs(sub)
    overlapping: set[int] = set()
    if len(left):
        areas = area_m2(inter, crs=STORAGE_EPSG)
        big = areas > overlap_tolerance_m2
        for a, b, g, ar in zip(left[big], right[big], inter[big], areas[big]):
            ia, ib = rows[a], rows[b]
            overlapping.update((int(a), int(b)))
            out.add(
                "overlap", ERROR, [codes[ia], codes[ib]],
                f"level-{level} grids {codes[ia]!r} and {codes[ib]!r} overlap by {_fmt_m2(ar)} "
                f"(tolerance {_fmt_m2(overlap_tolerance_m2)})",
                geometry=g, area=float(ar), rows=[ia, ib],
            )
    use_geos = coverage_method == "geos" or (coverage_method == "auto" and _HAS_GEOS_COVERAGE)
    if use_geos:
        edges = shapely.coverage_invalid_edges(sub, gap_width=gap_width_deg)
        bad = ~(shapely.is_missing(edges) | shapely.is_empty(edges))
        for k in np.flatnonzero(bad):
            if int(k) in overlapping:
                continue
            i = rows[k]
            out.add(
                "edge_mismatch", ERROR, [codes[i]],
                f"level-{level} grid {codes[i]!r} has edges that look shared with a neighbour but do not "
                "match vertex for vertex (near-coincident edge, tiny overlap or narrow gap); "
                "snap the boundary to the neighbour's vertices",
                geometry=edges[k], rows=[i],
            )
    else:
        found = _near_coincident_pairwise(sub, max(gap_width_deg, 1e-9))
        for k, pts in sorted(found.items()):
            if k in overlapping:
                continue
            i = rows[k]
            out.add(
                "edge_mismatch", ERROR, [codes[i]],
                f"level-{level} grid {codes[i]!r} has vertices close to a neighbour's edge but not on it "
                "(near-coincident edges); snap the boundary to the neighbour's vertices",
                geometry=pts, rows=[i],
            )


def _holes_in(gap: BaseGeometry, children: list[int], codes: np.ndarray, geoms: np.ndarray) -> list[str]:
    """Codes of the children with an interior ring (hole) where ``gap`` lies, for the gap's message."""
    found = []
    for c in children:
        polygons = shapely.get_parts(geoms[c])
        rings = [ring for poly in polygons for ring in shapely.get_interior_ring(poly, range(shapely.get_num_interior_rings(poly)))] \
            if shapely.get_num_interior_rings(polygons).any() else []
        if rings and any(shapely.intersects(shapely.Polygon(ring), gap) for ring in rings):
            found.append(str(codes[c]))
    return found


def _check_nesting(
    out: _Collector,
    codes: np.ndarray,
    levels: np.ndarray,
    parents: np.ndarray,
    geoms: np.ndarray,
    usable: np.ndarray,
    *,
    gap_tolerance_m2: float,
    scheme: CodeScheme,
) -> None:
    position = {}
    for i, c in enumerate(codes):
        if isinstance(c, str) and c not in position:
            position[c] = i
    groups: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(parents):
        if p is not None and p in position:
            groups[position[p]].append(i)
    parent_rows = [p for p in sorted(groups) if usable[p]]
    # children outside their parent (vectorized over every child)
    child_rows = np.array([c for p in parent_rows for c in groups[p] if usable[c]], dtype=np.int64)
    outside_by_parent: set[int] = set()
    if len(child_rows):
        child_parent = np.array([position[parents[c]] for c in child_rows], dtype=np.int64)
        outside = shapely.difference(geoms[child_rows], geoms[child_parent])
        outside = np.array([_polygonal(g) for g in outside], dtype=object)
        areas = area_m2(outside, crs=STORAGE_EPSG)
        for c, p, g, a in zip(child_rows, child_parent, outside, areas):
            if a > gap_tolerance_m2:
                outside_by_parent.add(int(p))
                out.add(
                    "child_outside", ERROR, [codes[c], codes[p]],
                    f"{_fmt_m2(a)} of grid {codes[c]!r} lies outside its parent {codes[p]!r}",
                    geometry=g, area=float(a), rows=[c, p],
                )
    # gaps: parent minus the union of its children
    if parent_rows:
        unions = np.array(
            [shapely.union_all(geoms[[c for c in groups[p] if usable[c]]]) if any(usable[c] for c in groups[p])
             else shapely.MultiPolygon() for p in parent_rows],
            dtype=object,
        )
        prow = np.array(parent_rows, dtype=np.int64)
        gaps = np.array([_polygonal(g) for g in shapely.difference(geoms[prow], unions)], dtype=object)
        symdiff = np.array([_polygonal(g) for g in shapely.symmetric_difference(geoms[prow], unions)], dtype=object)
        gap_areas = area_m2(gaps, crs=STORAGE_EPSG)
        sym_areas = area_m2(symdiff, crs=STORAGE_EPSG)
        for p, g, a, s, sg in zip(prow, gaps, gap_areas, sym_areas, symdiff):
            if a > gap_tolerance_m2:
                holed = _holes_in(g, [c for c in groups[p] if usable[c]], codes, geoms)
                out.add(
                    "gap", ERROR, [codes[p]],
                    f"{_fmt_m2(a)} of grid {codes[p]!r} is covered by none of its children"
                    + (f" (a hole in {', '.join(repr(c) for c in holed)})" if holed else ""),
                    geometry=g, area=float(a), rows=[p],
                )
            elif s > gap_tolerance_m2 and p not in outside_by_parent:
                out.add(
                    "union_mismatch", ERROR, [codes[p]],
                    f"the children of grid {codes[p]!r} differ from it by {_fmt_m2(s)} in total "
                    "(small gaps and overhangs along its boundary)",
                    geometry=sg, area=float(s), rows=[p],
                )
    # non-finest grids without children while others of their level have some
    with_children_levels = {int(levels[p]) for p in groups}
    for i in np.flatnonzero(usable):
        lvl = int(levels[i])
        if lvl < scheme.levels and lvl in with_children_levels and i not in groups:
            out.add(
                "no_children", WARNING, [codes[i]],
                f"level-{lvl} grid {codes[i]!r} has no children although other level-{lvl} grids do",
                rows=[i],
            )


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------
def validate_plan(
    grids: gpd.GeoDataFrame,
    *,
    scheme: CodeScheme | None = None,
    overlap_tolerance_m2: float = 1.0,
    gap_tolerance_m2: float = 1.0,
    sliver_area_m2: float = 1.0,
    sliver_width_m: float = 0.5,
    gap_width_m: float | None = None,
    allow_multipart: bool | Iterable[str] = False,
    coverage_method: str = "auto",
) -> ValidationReport:
    """Validate a whole plan as a nested coverage and return every finding.

    Parameters
    ----------
    grids:
        Plan frame (``code``, ``level``, ``parent_code``, ``name``, ``geometry``) in EPSG:4490.
    scheme:
        Code scheme; default from settings (``GRIDGOV_CODE_WIDTHS``).
    overlap_tolerance_m2:
        Overlaps between same-level grids up to this area (m²) are not ``overlap`` errors
        (they still show as ``edge_mismatch``: the edges do not match).
    gap_tolerance_m2:
        Gaps inside a parent / overhangs of a child up to this area (m²) are tolerated.
    sliver_area_m2, sliver_width_m:
        A polygon part smaller than this area (m²), or narrower than this width (m)
        everywhere, is a sliver. ``0`` disables the check.
    gap_width_m:
        Gaps between same-level grids narrower than this (m) are reported as
        ``edge_mismatch``; default ``sliver_width_m``.
    allow_multipart:
        ``True`` to allow every non-contiguous grid, or an iterable of codes that may be.
    coverage_method:
        ``"auto"`` (GEOS coverage validator when available), ``"geos"`` or ``"pairwise"``
        (STRtree vertex check, the fallback).

    Raises
    ------
    CRSError
        ``grids`` has no CRS or is not in EPSG:4490.
    ValidationError
        ``grids`` lacks plan columns.
    """
    check_plan_frame(grids)
    if coverage_method not in ("auto", "geos", "pairwise"):
        raise ValueError(f"coverage_method was {coverage_method!r} but is expected in ['auto', 'geos', 'pairwise']")
    if coverage_method == "geos" and not _HAS_GEOS_COVERAGE:
        raise ValueError("coverage_method='geos' needs GEOS >= 3.12 (shapely.coverage_invalid_edges)")
    scheme = scheme or default_scheme()
    out = _Collector()
    n = len(grids)
    codes = grids["code"].to_numpy(dtype=object, na_value=None)
    parents = grids["parent_code"].to_numpy(dtype=object, na_value=None)
    levels_raw = pd.to_numeric(grids["level"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    levels = np.where(np.isfinite(levels_raw), levels_raw, 0).astype(np.int64)
    geoms = np.asarray(grids.geometry.array, dtype=object)

    good_code, code_level = _check_codes(out, codes, levels, parents, scheme)
    usable = _check_geometries(out, codes, geoms) & good_code
    _check_parts(
        out, codes, geoms, usable,
        allow_multipart=allow_multipart, sliver_area_m2=sliver_area_m2, sliver_width_m=sliver_width_m,
    )
    if usable.any():
        lat = float(np.nanmedian(shapely.get_y(shapely.centroid(geoms[usable]))))
        width = sliver_width_m if gap_width_m is None else gap_width_m
        gap_width_deg = metres_to_degrees(width, lat) if width > 0 else 0.0
        for level in sorted(set(code_level[usable].tolist())):
            rows = np.flatnonzero(usable & (code_level == level))
            _check_level_coverage(
                out, codes, geoms, rows, int(level),
                overlap_tolerance_m2=overlap_tolerance_m2, gap_width_deg=gap_width_deg,
                coverage_method=coverage_method,
            )
        _check_nesting(
            out, codes, code_level, parents, geoms, usable, gap_tolerance_m2=gap_tolerance_m2, scheme=scheme
        )
    findings = out.build()
    logger.debug("validate_plan: %d grids, %d findings", n, len(findings))
    return ValidationReport(findings=findings, n_grids=n)


def new_errors(report: ValidationReport, baseline: ValidationReport | None = None) -> list[Finding]:
    """The errors of ``report`` that ``baseline`` does not have (same rule and codes).

    An import or an edit is validated on the whole plan it leaves (:func:`validate_plan`, the
    same function ``gridgov validate`` runs) and refused for every error it *adds*; an error the
    stored plan already had (``baseline``, e.g. a multipart grid imported with
    ``allow_multipart``) is not this change's doing. Every finding counts, whichever grids it
    names: a gap names only the parent it lies in, and it is reported.
    """
    if baseline is None:
        return report.errors
    seen = {(f.rule, f.codes) for f in baseline.errors}
    return [f for f in report.errors if (f.rule, f.codes) not in seen]
