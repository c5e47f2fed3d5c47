"""The grid domain: code scheme, plan validation, versions, topology-safe edits, impact.

Everything here is pure (GeoDataFrames, shapely arrays, dataclasses); plans are persisted by
:mod:`store.grids`. :mod:`boundaries.assign` is the one point → grid rule. Plans are GeoDataFrames in EPSG:4490 with the columns ``code``, ``level``,
``parent_code``, ``name``, ``geometry`` (see :mod:`boundaries.model`).
"""

from __future__ import annotations

from boundaries.coding import LINEAGE_KINDS, CodeScheme, default_scheme, lineage_edges, resolve_code
from boundaries.edits import (
    EditRefused,
    EditResult,
    merge_grids,
    replace_children,
    reshape_boundary,
    split_grid,
    transfer_area,
)
from boundaries.model import (
    PLAN_COLUMNS,
    GridChange,
    LineageLink,
    check_plan_frame,
    leaf_mask,
    make_plan,
    rectangular_plan,
)
from boundaries.validation import RULES, Finding, ValidationReport, validate_plan
from boundaries.versions import VERSION_COLUMNS, PlanDiff, diff_plans, plan_as_of

_LAZY = {"ImpactReport": "boundaries.impact", "assess_impact": "boundaries.impact", "balance_stats": "boundaries.impact",
         "assign_to_leaves": "boundaries.assign", "leaf_grids": "boundaries.assign"}


def __getattr__(name: str) -> object:
    # impact and assign need gis.join; import them on first use so `import boundaries` stays light
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'boundaries' has no attribute {name!r}")

__all__ = [
    "LINEAGE_KINDS",
    "PLAN_COLUMNS",
    "RULES",
    "VERSION_COLUMNS",
    "CodeScheme",
    "EditRefused",
    "EditResult",
    "Finding",
    "GridChange",
    "ImpactReport",
    "LineageLink",
    "PlanDiff",
    "ValidationReport",
    "assess_impact",
    "assign_to_leaves",
    "balance_stats",
    "check_plan_frame",
    "default_scheme",
    "diff_plans",
    "leaf_grids",
    "leaf_mask",
    "lineage_edges",
    "make_plan",
    "merge_grids",
    "plan_as_of",
    "rectangular_plan",
    "replace_children",
    "reshape_boundary",
    "resolve_code",
    "split_grid",
    "transfer_area",
    "validate_plan",
]
