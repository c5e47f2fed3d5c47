"""Plan versions, pure side: the plan as of a moment, and the difference of two plans.

A *versions frame* has one row per version of a grid: ``code``, ``version``, ``level``,
``parent_code``, ``name``, ``geometry`` (EPSG:4490) and tz-aware ``valid_from`` /
``valid_to`` (``valid_to`` missing while current). A version is valid on
``[valid_from, valid_to)`` — MapIt's generations, with real dates. The PostGIS repository
loads such frames and calls these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from boundaries.model import PLAN_COLUMNS, check_plan_frame
from gis.crs import STORAGE_EPSG
from gis.errors import ValidationError
from gis.geometry import PRECISION_DEG
from gis.measure import area_m2

__all__ = ["VERSION_COLUMNS", "PlanDiff", "plan_as_of", "diff_plans", "same_geometry"]

#: Columns of a versions frame.
VERSION_COLUMNS = ("code", "version", "level", "parent_code", "name", "geometry", "valid_from", "valid_to")


def _aware(when: Any, what: str) -> pd.Timestamp:
    ts = pd.Timestamp(when)
    if ts.tzinfo is None:
        raise ValidationError(
            f"{what} {when!r} has no time zone; pass a tz-aware datetime "
            "(e.g. datetime(..., tzinfo=ZoneInfo('Asia/Shanghai')))", code="time.naive"
        )
    return ts


def _aware_column(series: pd.Series, name: str) -> pd.Series:
    values = pd.to_datetime(series)
    if getattr(values.dt, "tz", None) is None:
        if values.notna().any():
            raise ValidationError(f"column {name!r} holds naive datetimes; versions need tz-aware timestamps", code="time.naive")
        values = values.dt.tz_localize("UTC")
    return values


def same_geometry(a: Any, b: Any, *, grid_size: float = PRECISION_DEG) -> Any:
    """Whether stored geometries ``a`` and ``b`` (EPSG:4490; scalars or arrays) are the same version.

    The one rule for "this grid's geometry changed" — a new version is written exactly when it
    is ``False`` (or a name, parent or level changes). Both sides are snapped to the stored
    precision grid (``grid_size`` degrees, 1e-7° ≈ 1 cm: what imports and edits store), put in
    normal form (ring start and orientation, part order) and compared coordinate for coordinate
    with no tolerance. So a grid rebuilt by an edit without any real change (same vertices, other
    ring start or part order, or float noise far below the precision) is the same, and any moved,
    added or removed vertex — also a node added on a shared edge so neighbours stay matched
    vertex for vertex — is a change. Missing geometries equal only each other.
    """
    left = np.asarray(a, dtype=object)
    right = np.asarray(b, dtype=object)
    scalar = left.ndim == 0 and right.ndim == 0
    left, right = np.broadcast_arrays(np.atleast_1d(left), np.atleast_1d(right))
    missing_l, missing_r = shapely.is_missing(left), shapely.is_missing(right)
    out = missing_l & missing_r
    both = ~missing_l & ~missing_r
    if both.any():
        def canonical(geoms: np.ndarray) -> np.ndarray:
            snapped = shapely.set_precision(geoms, grid_size, mode="pointwise") if grid_size > 0 else geoms
            return shapely.normalize(snapped)

        out[both] = shapely.equals_exact(canonical(left[both]), canonical(right[both]), tolerance=0.0)
    return bool(out[0]) if scalar else out


def plan_as_of(versions: gpd.GeoDataFrame, when: dt.datetime | pd.Timestamp) -> gpd.GeoDataFrame:
    """The plan that was valid at ``when`` (tz-aware): every version with
    ``valid_from <= when < valid_to`` (or no ``valid_to``).

    Returns a plan frame (``code``, ``level``, ``parent_code``, ``name``, ``geometry`` in
    EPSG:4490, plus ``version`` and the other columns), keeping the input index, sorted by
    level and code.

    Raises
    ------
    ValidationError
        ``when`` or the validity columns are naive, a column is missing, or two versions of
        one code are valid at ``when``.
    CRSError
        The frame has no CRS or is not EPSG:4490.
    """
    missing = [c for c in VERSION_COLUMNS if c not in versions.columns]
    if missing:
        raise ValidationError(f"the versions frame lacks the column(s) {missing}; expected {list(VERSION_COLUMNS)}", code="data.columns_missing")
    check_plan_frame(versions, what="versions")
    ts = _aware(when, "when")
    start = _aware_column(versions["valid_from"], "valid_from")
    end = _aware_column(versions["valid_to"], "valid_to")
    mask = (start <= ts) & (end.isna() | (ts < end))
    plan = versions.loc[mask.to_numpy()].copy()
    dup = plan["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(plan.loc[dup, "code"]))
        raise ValidationError(
            f"{len(codes)} code(s) have more than one version valid at {ts.isoformat()}: {codes[:5]}",
            [{"code": c} for c in codes], code="plan.versions_overlap"
        )
    ordered = list(PLAN_COLUMNS) + ["version"] + [c for c in plan.columns if c not in PLAN_COLUMNS and c != "version"]
    plan = plan[ordered]
    return gpd.GeoDataFrame(plan, geometry="geometry", crs=versions.crs).sort_values(["level", "code"])


@dataclass(frozen=True)
class PlanDiff:
    """What changed between two plans.

    Attributes
    ----------
    added, retired:
        Codes only in the new / only in the old plan (sorted).
    reshaped:
        One row per code in both plans whose geometry changed: ``code``,
        ``area_before_m2``, ``area_after_m2``, ``area_change_m2`` (after − before) and
        ``changed_area_m2`` (area of the symmetric difference), all in m².
    renamed:
        ``code``, ``old_name``, ``new_name`` for codes whose name changed.
    """

    added: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    reshaped: pd.DataFrame = field(default_factory=pd.DataFrame)
    renamed: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.retired or len(self.reshaped) or len(self.renamed))

    @property
    def touched(self) -> list[str]:
        """Every code added, retired, reshaped or renamed (sorted)."""
        codes = set(self.added) | set(self.retired)
        if len(self.reshaped):
            codes |= set(self.reshaped["code"])
        if len(self.renamed):
            codes |= set(self.renamed["code"])
        return sorted(codes)

    def to_records(self) -> dict[str, Any]:
        """JSON-able summary."""
        return {
            "added": list(self.added),
            "retired": list(self.retired),
            "reshaped": self.reshaped.to_dict(orient="records"),
            "renamed": self.renamed.to_dict(orient="records"),
        }


def diff_plans(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, *, tolerance_m2: float = 0.0) -> PlanDiff:
    """Compare two plans (both EPSG:4490).

    A grid is *reshaped* when its geometry is not topologically equal in both plans and the
    symmetric difference exceeds ``tolerance_m2`` (m²); extra vertices on a shared edge are
    not a reshape.
    """
    check_plan_frame(old, what="old")
    check_plan_frame(new, what="new")
    old_by = old.drop_duplicates("code").set_index("code")
    new_by = new.drop_duplicates("code").set_index("code")
    old_codes, new_codes = set(old_by.index), set(new_by.index)
    common = sorted(old_codes & new_codes)
    before = np.asarray(old_by.geometry.reindex(common).array, dtype=object)
    after = np.asarray(new_by.geometry.reindex(common).array, dtype=object)
    reshaped = pd.DataFrame(
        columns=["code", "area_before_m2", "area_after_m2", "area_change_m2", "changed_area_m2"]
    )
    if common:
        equal = shapely.equals(before, after)
        equal = np.where(shapely.is_missing(before) | shapely.is_missing(after),
                         shapely.is_missing(before) & shapely.is_missing(after), equal)
        idx = np.flatnonzero(~equal)
        if len(idx):
            sym = shapely.symmetric_difference(before[idx], after[idx])
            changed = area_m2(sym, crs=STORAGE_EPSG)
            keep = changed > tolerance_m2 if tolerance_m2 > 0 else np.ones(len(idx), dtype=bool)
            idx, changed = idx[keep], changed[keep]
            a0 = area_m2(before[idx], crs=STORAGE_EPSG)
            a1 = area_m2(after[idx], crs=STORAGE_EPSG)
            reshaped = pd.DataFrame(
                {
                    "code": [common[i] for i in idx],
                    "area_before_m2": a0,
                    "area_after_m2": a1,
                    "area_change_m2": a1 - a0,
                    "changed_area_m2": changed,
                }
            )
    renamed = pd.DataFrame(columns=["code", "old_name", "new_name"])
    if common:
        old_names = old_by["name"].reindex(common).astype(object).to_numpy()
        new_names = new_by["name"].reindex(common).astype(object).to_numpy()
        diff = [i for i in range(len(common)) if old_names[i] != new_names[i]]
        if diff:
            renamed = pd.DataFrame(
                {"code": [common[i] for i in diff], "old_name": old_names[diff], "new_name": new_names[diff]}
            )
    return PlanDiff(
        added=sorted(new_codes - old_codes),
        retired=sorted(old_codes - new_codes),
        reshaped=reshaped.reset_index(drop=True),
        renamed=renamed.reset_index(drop=True),
    )
