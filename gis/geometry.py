"""Per-feature geometry validity and normalization of polygonal data.

Coordinates are whatever the caller's CRS is; GridGov stores EPSG:4490 (degrees), where the
default precision grid of :data:`PRECISION_DEG` (1e-7°) is about 1 cm.

Normalization order (see ``docs``/CONVENTIONS): ``make_valid(method="structure")`` only when
``fix=True`` — every repair is reported —, keep polygonal parts, ``set_precision`` to a fixed
grid, force MultiPolygon, drop empty parts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from gis.errors import ValidationError

__all__ = [
    "PRECISION_DEG",
    "POLYGONAL_TYPES",
    "Repair",
    "NormalizedPolygons",
    "explain_invalid",
    "is_polygonal",
    "to_multipolygon",
    "polygonal_part",
    "normalize_polygons",
]

logger = logging.getLogger(__name__)

#: Precision grid of stored coordinates in degrees (1e-7° ≈ 1.1 cm on the ground).
PRECISION_DEG = 1e-7
#: Geometry type names a grid may have.
POLYGONAL_TYPES = ("Polygon", "MultiPolygon")

_POLYGON_TYPE_IDS = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def _as_array(geoms: Any) -> np.ndarray:
    if isinstance(geoms, shapely.Geometry) or geoms is None:
        return np.array([geoms], dtype=object)
    if hasattr(geoms, "array") and hasattr(geoms, "crs"):
        return np.asarray(geoms.array, dtype=object)
    return np.asarray(geoms, dtype=object)


def explain_invalid(geoms: Any) -> np.ndarray:
    """Why each geometry is invalid, or ``None`` where it is valid.

    Follows the OGC/GEOS validity model (the same verdict as ``ST_IsValid``); an empty
    geometry is valid. A missing geometry (``None``) gets the reason ``"missing geometry"``.

    Returns
    -------
    numpy.ndarray
        Object array of ``str | None``, one entry per input geometry.
    """
    arr = _as_array(geoms)
    out = np.full(len(arr), None, dtype=object)
    missing = shapely.is_missing(arr)
    out[missing] = "missing geometry"
    present = ~missing
    if present.any():
        valid = shapely.is_valid(arr[present])
        reasons = shapely.is_valid_reason(arr[present])
        idx = np.flatnonzero(present)
        bad = ~valid
        out[idx[bad]] = reasons[bad]
    return out


def is_polygonal(geoms: Any) -> np.ndarray:
    """Boolean array: geometry is a Polygon or MultiPolygon (missing → False)."""
    arr = _as_array(geoms)
    return np.isin(shapely.get_type_id(arr), _POLYGON_TYPE_IDS)


def polygonal_part(geoms: Any) -> np.ndarray:
    """The polygonal content of each geometry (collections keep only their polygons).

    Non-polygonal geometries become an empty MultiPolygon; missing stays ``None``.
    """
    arr = _as_array(geoms)
    out = arr.copy()
    types = shapely.get_type_id(arr)
    for i in np.flatnonzero(types == shapely.GeometryType.GEOMETRYCOLLECTION):  # rare: loop is fine
        parts = shapely.get_parts(shapely.get_parts(arr[i]))
        polys = [p for p in parts if p.geom_type == "Polygon"]
        out[i] = shapely.MultiPolygon(polys)
    other = (types >= 0) & ~np.isin(types, _POLYGON_TYPE_IDS) & (types != shapely.GeometryType.GEOMETRYCOLLECTION)
    out[other] = shapely.MultiPolygon()
    return out


def to_multipolygon(geoms: Any) -> np.ndarray:
    """Force every Polygon to a one-part MultiPolygon (MultiPolygons and ``None`` unchanged)."""
    arr = _as_array(geoms)
    out = arr.copy()
    single = np.flatnonzero(shapely.get_type_id(arr) == shapely.GeometryType.POLYGON)
    for i in single:
        out[i] = shapely.MultiPolygon([arr[i]]) if not arr[i].is_empty else shapely.MultiPolygon()
    return out


def _drop_empty_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild MultiPolygons without empty or zero-area parts; returns (geoms, parts dropped per row)."""
    n = len(geoms)
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = ~shapely.is_empty(parts) & (shapely.area(parts) > 0)
    dropped = np.bincount(index[~keep], minlength=n)
    out = np.empty(n, dtype=object)
    if keep.any():
        shapely.multipolygons(parts[keep], indices=index[keep], out=out)
    out[shapely.is_missing(out)] = shapely.MultiPolygon()
    missing = shapely.is_missing(geoms)
    out[missing] = None
    return out, dropped


@dataclass(frozen=True)
class Repair:
    """One change normalization made to one feature.

    ``index`` is the position in the input; ``kind`` one of ``made_valid``,
    ``dropped_non_polygonal``, ``dropped_empty_parts``, ``precision_changed_topology``,
    ``became_empty``.
    """

    index: int
    kind: str
    detail: str

    def to_record(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "detail": self.detail}


@dataclass(frozen=True)
class NormalizedPolygons:
    """Result of :func:`normalize_polygons`: MultiPolygons (same order as the input) and repairs."""

    geometries: np.ndarray
    repairs: list[Repair] = field(default_factory=list)

    @property
    def repaired_indices(self) -> list[int]:
        return sorted({r.index for r in self.repairs})


def normalize_polygons(
    geoms: Any, *, fix: bool = False, grid_size: float = PRECISION_DEG
) -> NormalizedPolygons:
    """Normalize polygonal geometries for storage.

    Steps: (1) invalid geometries are repaired with ``make_valid(method="structure")`` when
    ``fix`` is true, otherwise every invalid feature is collected and one
    :class:`~gis.errors.ValidationError` is raised listing them all; (2) non-polygonal parts
    of collections are dropped; (3) coordinates are snapped to a ``grid_size`` grid (units of
    the CRS: degrees for EPSG:4490; ``0`` keeps full precision) with ``set_precision``,
    which keeps the result valid; (4) every geometry becomes a MultiPolygon; (5) empty parts
    are dropped. Every change is returned as a :class:`Repair`.

    Raises
    ------
    ValidationError
        Missing geometries, non-polygonal geometries (points, lines), or — when ``fix`` is
        false — invalid geometries; ``findings`` holds ``{"index", "reason"}`` dicts for all.
    """
    arr = _as_array(geoms)
    problems: list[dict[str, Any]] = []
    missing = shapely.is_missing(arr)
    for i in np.flatnonzero(missing):
        problems.append({"index": int(i), "reason": "missing geometry"})
    types = shapely.get_type_id(arr)
    polygonal = np.isin(types, _POLYGON_TYPE_IDS)
    collection = types == shapely.GeometryType.GEOMETRYCOLLECTION
    wrong = ~missing & ~polygonal & ~collection
    for i in np.flatnonzero(wrong):
        problems.append(
            {"index": int(i), "reason": f"geometry is a {arr[i].geom_type}, expected Polygon or MultiPolygon"}
        )
    reasons = explain_invalid(arr)
    invalid = ~missing & (reasons != None)  # noqa: E711  (object array comparison)
    if not fix:
        for i in np.flatnonzero(invalid & ~wrong):
            problems.append({"index": int(i), "reason": f"invalid geometry: {reasons[i]}"})
    if problems:
        problems.sort(key=lambda p: p["index"])
        raise ValidationError(
            f"{len(problems)} of {len(arr)} geometries cannot be normalized"
            + ("" if fix else " (pass fix=True to repair invalid geometries with make_valid)")
            + ": "
            + "; ".join(f"#{p['index']}: {p['reason']}" for p in problems[:5])
            + (" …" if len(problems) > 5 else ""),
            problems,
        )
    repairs: list[Repair] = []
    out = arr.copy()
    if fix and invalid.any():
        idx = np.flatnonzero(invalid)
        out[idx] = shapely.make_valid(arr[idx], method="structure", keep_collapsed=False)
        for i in idx:
            repairs.append(Repair(int(i), "made_valid", f"repaired: {reasons[i]}"))
    types = shapely.get_type_id(out)
    coll = types == shapely.GeometryType.GEOMETRYCOLLECTION
    if coll.any():
        for i in np.flatnonzero(coll):
            parts = shapely.get_parts(out[i])
            polys = [p for p in parts if p.geom_type in POLYGONAL_TYPES]
            flat = shapely.get_parts(np.array(polys, dtype=object)) if polys else []
            dropped_types = sorted({p.geom_type for p in parts if p.geom_type not in POLYGONAL_TYPES})
            out[i] = shapely.MultiPolygon(list(flat))
            if dropped_types:
                repairs.append(Repair(int(i), "dropped_non_polygonal", "dropped " + ", ".join(dropped_types)))
    if grid_size and grid_size > 0:
        before = out
        out = shapely.set_precision(out, grid_size, mode="valid_output")
        changed_type = shapely.get_type_id(before) != shapely.get_type_id(out)
        parts_before = shapely.get_num_geometries(before)
        parts_after = shapely.get_num_geometries(out)
        for i in np.flatnonzero(changed_type | (parts_before != parts_after)):
            if shapely.is_empty(out[i]):
                continue
            repairs.append(
                Repair(int(i), "precision_changed_topology",
                       f"snapping to a {grid_size:g} grid changed the parts ({parts_before[i]} → {parts_after[i]})")
            )
        out = np.asarray(polygonal_part(out), dtype=object)
    out = to_multipolygon(out)
    out, dropped = _drop_empty_parts(np.asarray(out, dtype=object))
    for i in np.flatnonzero(dropped):
        repairs.append(Repair(int(i), "dropped_empty_parts", f"dropped {dropped[i]} empty or zero-area part(s)"))
    for i in np.flatnonzero(shapely.is_empty(out) & ~shapely.is_empty(arr)):
        repairs.append(Repair(int(i), "became_empty", "nothing polygonal is left after normalization"))
    for r in repairs:
        logger.debug("normalize_polygons: #%d %s: %s", r.index, r.kind, r.detail)
    return NormalizedPolygons(geometries=np.asarray(out, dtype=object), repairs=sorted(repairs, key=lambda r: r.index))
