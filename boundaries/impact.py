"""Impact of a proposed plan: who changes grid, and how balanced the workload is.

Households, incidents (points, EPSG:4490) are assigned to the *leaf* grids (grids without
children, normally the micro-grids) of the current and of the proposed plan with
:func:`gis.join.assign_points` (``covered_by``; a point on a shared boundary goes to the
smallest code). Staff assignments are matched by grid code: an assignment to a retired
grid must be moved (its successors come from the lineage), one to a reshaped grid should
be reviewed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from boundaries.coding import resolve_code
from boundaries.assign import assign_to_leaves
from boundaries.model import check_plan_frame, leaf_mask
from gis.crs import STORAGE_EPSG
from gis.errors import CRSError, ValidationError

__all__ = ["ImpactReport", "assess_impact", "workload", "balance_stats"]

logger = logging.getLogger(__name__)

_OUTSIDE = None
_METRICS = ("households", "special_households", "residents")


def _check_points(points: gpd.GeoDataFrame, what: str, required: Iterable[str]) -> None:
    if not isinstance(points, gpd.GeoDataFrame):
        raise ValidationError(f"{what} is a {type(points).__name__} but is expected to be a GeoDataFrame", code="data.frame_invalid")
    missing = [c for c in required if c not in points.columns]
    if missing:
        raise ValidationError(f"{what} lacks the column(s) {missing}", code="data.columns_missing")
    if points.crs is None:
        raise CRSError(f"{what} has no CRS; set it explicitly (e.g. .set_crs(4490)) — GridGov never guesses", code="crs.missing")
    if CRS.from_user_input(points.crs) != CRS.from_epsg(STORAGE_EPSG):
        raise CRSError(f"{what} is in {points.crs.to_string()} but EPSG:{STORAGE_EPSG} is expected (reproject first)", code="crs.mismatch")


def _special_flags(values: pd.Series | None, n: int) -> np.ndarray:
    """Boolean special-household flag from a bool column or a list/array of kinds."""
    if values is None:
        return np.zeros(n, dtype=bool)
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool)

    def _flag(v: Any) -> bool:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return False
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, str):
            return v.strip() not in ("", "{}", "[]", "0", "false", "False")
        try:
            return len(v) > 0
        except TypeError:
            return bool(v)

    return np.fromiter((_flag(v) for v in values), dtype=bool, count=n)


def workload(plan: gpd.GeoDataFrame, codes: np.ndarray, members: np.ndarray, special: np.ndarray) -> pd.DataFrame:
    """Per leaf grid of ``plan``: households, special households, residents (zeros included)."""
    leaves = plan.loc[leaf_mask(plan), "code"].astype(object).tolist()
    frame = pd.DataFrame({"code": codes, "members": members, "special": special})
    frame = frame[frame["code"].notna()]
    grouped = frame.groupby("code").agg(
        households=("members", "size"), special_households=("special", "sum"), residents=("members", "sum")
    )
    out = grouped.reindex(sorted(leaves), fill_value=0).astype("int64")
    out.index.name = "code"
    return out


def balance_stats(load: pd.DataFrame) -> pd.DataFrame:
    """min, max, mean and coefficient of variation (population std / mean) per workload column."""
    rows = {}
    for col in _METRICS:
        values = load[col].to_numpy(dtype=float) if col in load else np.array([], dtype=float)
        if len(values) == 0:
            rows[col] = {"min": np.nan, "max": np.nan, "mean": np.nan, "cv": np.nan}
            continue
        mean = float(values.mean())
        rows[col] = {
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": mean,
            "cv": float(values.std(ddof=0) / mean) if mean > 0 else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")[["min", "max", "mean", "cv"]]


@dataclass(frozen=True)
class ImpactReport:
    """Who changes grid under a proposed plan, and the workload balance before/after.

    Attributes
    ----------
    households:
        Households whose leaf grid changes: ``household_key``, ``from_code``, ``to_code``
        (None = outside every grid), ``members``, ``special``.
    flows:
        From → to counts: ``from_code``, ``to_code`` (``"(outside)"`` for no grid),
        ``households``, ``residents``, ``special_households``.
    incidents:
        Incidents whose grid changes: ``incident_key``, ``from_code``, ``to_code``.
    staff:
        Staff assignments on grids that are retired (``status='retired'``, ``successors``
        from the lineage: where to move them) or reshaped (``status='reshaped'``: review).
    workload_before, workload_after:
        Per leaf grid: households, special_households, residents.
    balance:
        Rows households/special_households/residents; columns (before|after) × (min, max,
        mean, cv).
    counts:
        Totals: households, moved households, residents moved, special moved, incidents
        moved, staff assignments affected, unassigned before/after.
    """

    households: pd.DataFrame
    flows: pd.DataFrame
    incidents: pd.DataFrame
    staff: pd.DataFrame
    workload_before: pd.DataFrame
    workload_after: pd.DataFrame
    balance: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def to_records(self) -> dict[str, Any]:
        """JSON-able summary (counts, flows and balance); a missing (suppressed) value is ``None``."""
        bal = self.balance.copy()
        bal.columns = [f"{a}_{b}" for a, b in bal.columns]

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")

        return {
            "counts": dict(self.counts),
            "flows": records(self.flows),
            "balance": records(bal.reset_index(names="metric")),
        }


def _moves(keys: np.ndarray, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    b = pd.Series(before, dtype=object)
    a = pd.Series(after, dtype=object)
    moved = ~((b == a) | (b.isna() & a.isna()))
    moved = moved.to_numpy(dtype=bool)
    return moved, pd.DataFrame({"key": keys[moved], "from_code": before[moved], "to_code": after[moved]})


def assess_impact(
    current: gpd.GeoDataFrame,
    proposed: gpd.GeoDataFrame,
    *,
    households: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    staff_assignments: pd.DataFrame | None = None,
    lineage: Any = None,
) -> ImpactReport:
    """Compare ``current`` and ``proposed`` plans (EPSG:4490) for the people in them.

    Parameters
    ----------
    households:
        Points with ``household_key``, ``members`` (residents, int), ``special`` (bool, or a
        list of special kinds; non-empty = special) and ``geometry`` (EPSG:4490).
    incidents:
        Points with ``geometry`` and optionally ``incident_key`` (else the index is the key).
    staff_assignments:
        Rows with ``grid_code`` (and any of ``staff_id``/``staff_key``, ``role``...), kept as given.
    lineage:
        Lineage links of the edit (``(old, new, kind)``), to name successors of retired grids.
    """
    check_plan_frame(current, what="current")
    check_plan_frame(proposed, what="proposed")
    empty_hh = gpd.GeoDataFrame(
        {"household_key": pd.Series([], dtype=object), "members": pd.Series([], dtype="int64"),
         "special": pd.Series([], dtype=bool)},
        geometry=gpd.GeoSeries([], crs=STORAGE_EPSG),
    )
    hh = empty_hh if households is None else households
    _check_points(hh, "households", ("household_key", "members"))
    n = len(hh)
    before = assign_to_leaves(hh, current)
    after = assign_to_leaves(hh, proposed)
    members = pd.to_numeric(hh["members"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    special = _special_flags(hh["special"] if "special" in hh.columns else None, n)
    keys = hh["household_key"].astype(object).to_numpy()
    moved, moves = _moves(keys, before, after)
    moved_households = pd.DataFrame(
        {
            "household_key": moves["key"].to_numpy(dtype=object),
            "from_code": moves["from_code"].to_numpy(dtype=object),
            "to_code": moves["to_code"].to_numpy(dtype=object),
            "members": members[moved],
            "special": special[moved],
        }
    )
    if len(moved_households):
        flows = (
            moved_households.assign(from_code=moved_households["from_code"].fillna("(outside)"),
                                    to_code=moved_households["to_code"].fillna("(outside)"))
            .groupby(["from_code", "to_code"], sort=True)
            .agg(households=("household_key", "size"), residents=("members", "sum"),
                 special_households=("special", "sum"))
            .reset_index()
        )
        flows[["households", "residents", "special_households"]] = flows[
            ["households", "residents", "special_households"]].astype("int64")
    else:
        flows = pd.DataFrame(columns=["from_code", "to_code", "households", "residents", "special_households"])

    # incidents
    if incidents is not None and len(incidents):
        _check_points(incidents, "incidents", ())
        ikeys = (incidents["incident_key"] if "incident_key" in incidents.columns
                 else pd.Series(incidents.index, index=incidents.index)).astype(object).to_numpy()
        ib = assign_to_leaves(incidents, current)
        ia = assign_to_leaves(incidents, proposed)
        _, imoves = _moves(ikeys, ib, ia)
        moved_incidents = imoves.rename(columns={"key": "incident_key"})
    else:
        moved_incidents = pd.DataFrame(columns=["incident_key", "from_code", "to_code"])

    # staff assignments
    current_codes = set(current["code"].astype(object))
    proposed_codes = set(proposed["code"].astype(object))
    old_geom = dict(zip(current["code"].astype(object), current.geometry.array))
    new_geom = dict(zip(proposed["code"].astype(object), proposed.geometry.array))
    if staff_assignments is not None and len(staff_assignments):
        if "grid_code" not in staff_assignments.columns:
            raise ValidationError("staff_assignments lacks the column 'grid_code'", code="data.columns_missing")
        status, successors = [], []
        for code in staff_assignments["grid_code"].astype(object):
            if code in current_codes and code not in proposed_codes:
                status.append("retired")
                successors.append(resolve_code(code, lineage or [], proposed_codes))
            elif code in current_codes and code in proposed_codes and not shapely.equals(old_geom[code], new_geom[code]):
                status.append("reshaped")
                successors.append([code])
            else:
                status.append(None)
                successors.append([code] if code in proposed_codes else [])
        staff = pd.DataFrame(staff_assignments).copy()
        staff["status"] = status
        staff["successors"] = successors
        staff = staff[staff["status"].notna()]
    else:
        staff = pd.DataFrame(columns=["grid_code", "status", "successors"])

    load_before = workload(current, before, members, special)
    load_after = workload(proposed, after, members, special)
    balance = pd.concat({"before": balance_stats(load_before), "after": balance_stats(load_after)}, axis=1)
    counts = {
        "households": int(n),
        "households_moved": int(moved.sum()),
        "residents_moved": int(members[moved].sum()),
        "special_households_moved": int(special[moved].sum()),
        "incidents_moved": int(len(moved_incidents)),
        "staff_assignments_affected": int(len(staff)),
        "unassigned_before": int(pd.isna(pd.Series(before, dtype=object)).sum()),
        "unassigned_after": int(pd.isna(pd.Series(after, dtype=object)).sum()),
    }
    logger.debug("assess_impact: %s", counts)
    return ImpactReport(
        households=moved_households.reset_index(drop=True),
        flows=flows,
        incidents=moved_incidents.reset_index(drop=True),
        staff=staff,
        workload_before=load_before,
        workload_after=load_after,
        balance=balance,
        counts=counts,
    )
