"""The grid plan as data: the frame shape every boundary function takes and returns.

A *plan* is a GeoDataFrame with one row per grid and the columns ``code`` (str),
``level`` (int, 1-based), ``parent_code`` (str or missing for level 1), ``name`` (str) and
``geometry`` (Polygon/MultiPolygon in EPSG:4490, lon/lat degrees). Extra columns are kept.

The nesting rule: every grid of level > 1 lies in its parent, siblings do not overlap, and
a parent with children is exactly the union of its children ("parents follow their
children"). The grids without children (*leaves*, normally the micro-grids) therefore form
one coverage of the whole territory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from gis.crs import STORAGE_EPSG
from gis.errors import CRSError, ValidationError

__all__ = [
    "PLAN_COLUMNS",
    "GridChange",
    "LineageLink",
    "check_plan_frame",
    "make_plan",
    "leaf_mask",
    "children_index",
    "rectangular_plan",
]

#: Columns every plan frame has (geometry last).
PLAN_COLUMNS = ("code", "level", "parent_code", "name", "geometry")


@dataclass(frozen=True)
class GridChange:
    """One grid touched by an edit.

    ``kind`` is ``added`` (new code), ``retired`` (code retired, never reused),
    ``reshaped`` (same code, new geometry) or ``renamed``. ``area_before_m2`` /
    ``area_after_m2`` are in square metres (None when the grid did not exist).
    """

    kind: str
    code: str
    area_before_m2: float | None = None
    area_after_m2: float | None = None
    detail: str = ""

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


class LineageLink(NamedTuple):
    """``old_code`` → ``new_code`` because of an edit of ``kind``.

    ``kind`` is one of :data:`boundaries.coding.LINEAGE_KINDS` (split, merge, renumber,
    transfer, reshape, replace). A plain 3-tuple, so ``for old, new, kind in lineage`` works;
    the repository adds the time and the changeset when it persists the link.
    """

    old_code: str
    new_code: str
    kind: str

    def to_record(self) -> dict[str, Any]:
        return {"old_code": self.old_code, "new_code": self.new_code, "kind": self.kind}


def check_plan_frame(grids: gpd.GeoDataFrame, *, what: str = "grids") -> None:
    """Raise if ``grids`` is not a plan frame in EPSG:4490.

    Raises
    ------
    CRSError
        The frame has no CRS (never guessed) or another CRS than EPSG:4490.
    ValidationError
        It is not a GeoDataFrame or lacks one of :data:`PLAN_COLUMNS`.
    """
    if not isinstance(grids, gpd.GeoDataFrame):
        raise ValidationError(f"{what} is a {type(grids).__name__} but is expected to be a GeoDataFrame", code="data.frame_invalid")
    missing = [c for c in PLAN_COLUMNS[:-1] if c not in grids.columns]
    if missing:
        raise ValidationError(
            f"{what} lacks the column(s) {missing}; a plan has the columns {list(PLAN_COLUMNS)}", code="data.columns_missing"
        )
    if grids.crs is None:
        raise CRSError(
            f"{what} has no CRS; set it explicitly (e.g. .set_crs(4490)) — GridGov never guesses a CRS", code="crs.missing"
        )
    if CRS.from_user_input(grids.crs) != CRS.from_epsg(STORAGE_EPSG):
        raise CRSError(
            f"{what} is in {grids.crs.to_string()} but plans are expected in EPSG:{STORAGE_EPSG}; "
            f"reproject with .to_crs({STORAGE_EPSG}) first", code="crs.mismatch"
        )


def make_plan(
    records: Iterable[dict[str, Any]] | Sequence[dict[str, Any]], *, crs: int | str = STORAGE_EPSG
) -> gpd.GeoDataFrame:
    """Build a plan frame from dicts with ``code``, ``level``, ``parent_code``, ``name``, ``geometry``.

    Codes stay strings (object dtype) and a missing ``parent_code`` is ``None``. ``crs``
    states the CRS of the geometries (default EPSG:4490); nothing is reprojected.
    """
    rows = list(records)
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(PLAN_COLUMNS))
    for col in PLAN_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    frame = frame[list(PLAN_COLUMNS) + [c for c in frame.columns if c not in PLAN_COLUMNS]]
    frame["code"] = frame["code"].astype(object)
    parents = frame["parent_code"].astype(object)
    frame["parent_code"] = parents.where(parents.notna(), None)
    frame["level"] = frame["level"].astype("int64")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)


def _norm_parent(values: pd.Series) -> np.ndarray:
    """Parent codes as an object array with ``None`` for missing."""
    arr = values.to_numpy(dtype=object, na_value=None)
    return arr


def leaf_mask(grids: pd.DataFrame) -> np.ndarray:
    """Boolean array: the grid has no children in ``grids`` (a leaf of the nesting)."""
    codes = grids["code"].to_numpy(dtype=object)
    parents = set(p for p in _norm_parent(grids["parent_code"]) if p is not None)
    return np.array([c not in parents for c in codes], dtype=bool)


def children_index(grids: pd.DataFrame) -> dict[str, list[int]]:
    """Parent code → positions (``iloc``) of its children in ``grids``."""
    out: dict[str, list[int]] = {}
    for pos, parent in enumerate(_norm_parent(grids["parent_code"])):
        if parent is not None:
            out.setdefault(str(parent), []).append(pos)
    return out


def _level1_code(scheme_width: int, k: int) -> str:
    """A plausible level-1 code of ``scheme_width`` digits ending in sequence ``k``."""
    seq_width = min(3, scheme_width)
    prefix = "420102001000000000"[: max(scheme_width - seq_width, 0)]
    return f"{prefix}{k:0{seq_width}d}"


def rectangular_plan(
    *,
    lon0: float = 113.3,
    lat0: float = 29.5,
    splits: Sequence[tuple[int, int]] = ((2, 1), (2, 2), (2, 2)),
    cell_deg: float = 0.001,
    widths: tuple[int, ...] = (12, 3, 3),
    name_prefix: str = "网格",
) -> gpd.GeoDataFrame:
    """A synthetic, exactly nested plan of rectangles (EPSG:4490), for tests, demos and benchmarks.

    ``splits[k] = (nx, ny)`` splits every level-k grid into ``nx × ny`` children
    (``splits[0]`` is the level-1 layout). Leaves are ``cell_deg`` degrees square, with the
    south-west corner at (``lon0``, ``lat0``). Parents are the coverage union of their
    children, so shared edges match vertex for vertex at every level. Codes follow the scheme
    ``widths`` (children numbered row by row from 1).
    """
    import shapely

    from boundaries.coding import CodeScheme

    scheme = CodeScheme(tuple(widths))
    if not 1 <= len(splits) <= scheme.levels:
        raise ValueError(f"splits has {len(splits)} levels but the scheme has {scheme.levels}")
    # size (in leaf cells) of one grid at each level
    nlev = len(splits)
    size = [(1, 1)] * nlev
    for k in range(nlev):
        px = int(np.prod([s[0] for s in splits[k + 1:]])) if k + 1 < nlev else 1
        py = int(np.prod([s[1] for s in splits[k + 1:]])) if k + 1 < nlev else 1
        size[k] = (px, py)

    def _x(i: int) -> float:
        return round(lon0 + i * cell_deg, 7)

    def _y(j: int) -> float:
        return round(lat0 + j * cell_deg, 7)

    records: list[dict[str, Any]] = []

    def _build(level: int, code: str | None, parent: str | None, ix: int, iy: int) -> shapely.Geometry:
        nx, ny = splits[level - 1]
        if level == nlev:
            geom = shapely.box(_x(ix), _y(iy), _x(ix + 1), _y(iy + 1))
            records.append({"code": code, "level": level, "parent_code": parent, "name": f"{name_prefix}{code}",
                            "geometry": geom})
            return geom
        cw, ch = size[level]
        children = []
        seq = 0
        cnx, cny = splits[level]
        for row in range(cny):
            for col in range(cnx):
                seq += 1
                child = scheme.child_code(code, seq)  # type: ignore[arg-type]
                children.append(_build(level + 1, child, code, ix + col * cw, iy + row * ch))
        geom = shapely.coverage_union_all(np.array(children, dtype=object))
        records.append({"code": code, "level": level, "parent_code": parent, "name": f"{name_prefix}{code}",
                        "geometry": geom})
        return geom

    nx1, ny1 = splits[0]
    w1, h1 = size[0]
    seq = 0
    for row in range(ny1):
        for col in range(nx1):
            seq += 1
            _build(1, _level1_code(scheme.widths[0], seq), None, col * w1, row * h1)
    plan = make_plan(records)
    plan["geometry"] = shapely.normalize(
        np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in plan.geometry],
                 dtype=object)
    )
    return plan.sort_values(["level", "code"], ignore_index=True)
