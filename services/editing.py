"""Boundary editing as a service: the one place the editor page and ``gridgov edit`` share.

The flow is *draft → preview → save*:

1. :func:`start_edit` reads the current plan with each grid's version (the optimistic-lock
   token) and every retired code (never reused).
2. :func:`preview_edit` runs a pure edit operation of :mod:`boundaries.edits` on the draft,
   validates the result and measures its impact (households, residents, special
   households, incidents and staff that change grid; workload balance before/after).
   Nothing is written.
3. :func:`save_edit` writes the previewed plan as one changeset with
   :func:`store.grids.apply_plan`: refused when the preview has validation
   errors, or when any touched grid changed since :func:`start_edit` (StaleVersionError
   naming the grid and the other change).

:func:`rollback_changeset` undoes a changeset as a new changeset, validated like any edit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries import edits
from boundaries.coding import CodeScheme, default_scheme
from boundaries.edits.catalogue import OPERATIONS
from boundaries.impact import ImpactReport, assess_impact, balance_stats
from store.grids import AppliedChangeset, apply_plan, compare_plans, load_plan, plan_versions
from store.grids import check_versions
from store import grids as grid_store
from store import queries
from store import audit
from store import staffing
from gis import clock
from governance.staff_moves import MOVE_COLUMNS, moves_that_change, propose_staff_moves, role_flags, with_choices
from store.session import run_in_transaction
from store.sql import Executor
from access.actor import Actor
from access.permissions import require
from sqlalchemy import Connection, Engine
from boundaries.validation import ValidationReport, validate_plan
from gis.crs import STORAGE_EPSG
from gis.errors import NotFoundError, StaleVersionError, ValidationError

__all__ = [
    "OPERATIONS",
    "EditDraft",
    "EditPreview",
    "start_edit",
    "preview_edit",
    "save_edit",
    "rollback_changeset",
    "load_points_for_impact",
    "worker_workload",
    "grids_under",
    "history_frame",
    "changed_areas",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EditDraft:
    """The plan an edit starts from, with the versions it was read at."""

    plan: gpd.GeoDataFrame
    base_versions: dict[str, int]
    retired_codes: frozenset[str]
    started_at: dt.datetime


@dataclass(frozen=True)
class EditPreview:
    """A proposed plan, its validation report and its impact (nothing written yet).

    ``staff_moves`` (:data:`governance.staff_moves.MOVE_COLUMNS`): every assignment on an
    affected grid and where it goes (proposed by the rule, or the planner's choice through
    :meth:`with_staff_choices`); saving applies them in the changeset's transaction.
    """

    draft: EditDraft
    operation: str
    parameters: dict[str, Any]
    result: edits.EditResult
    impact: ImpactReport
    staff_moves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(MOVE_COLUMNS)))

    @property
    def staff_flags(self) -> pd.DataFrame:
        """Roles of the new grids without own staff after :attr:`staff_moves` (``shared`` / ``missing``)."""
        return role_flags(self.staff_moves, self.result.added)

    def with_staff_choices(self, choices: Mapping[int, Any]) -> "EditPreview":
        """This preview with the planner's staff choices ``{assignment_id: [codes, primary first]}``.

        Raises ValidationError naming the assignment when a choice is not one of its options."""
        try:
            moves = with_choices(self.staff_moves, {k: ([v] if isinstance(v, str) else list(v))
                                                    for k, v in choices.items()})
        except ValueError as exc:
            raise ValidationError(str(exc), code="edit.staff_choice_invalid") from None
        return replace(self, staff_moves=moves)

    @property
    def plan(self) -> gpd.GeoDataFrame:
        return self.result.plan

    @property
    def report(self) -> ValidationReport:
        return self.result.report

    @property
    def can_save(self) -> bool:
        return self.result.report.ok

    def to_dict(self) -> dict[str, Any]:
        """JSON-able preview (the CLI's ``--dry-run`` output)."""
        return {
            "operation": self.operation,
            "parameters": _jsonable_parameters(self.parameters),
            "can_save": self.can_save,
            "added": self.result.added,
            "retired": self.result.retired,
            "reshaped": self.result.reshaped,
            "lineage": [list(link) for link in self.result.lineage],
            "changes": [c.to_record() for c in self.result.changes],
            "findings": self.result.report.to_records(),
            "impact": self.impact.to_records(),
            "staff_moves": _moves_records(self.staff_moves),
            "staff_flags": self.staff_flags.to_dict("records"),
        }


def _moves_records(moves: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"assignment_id": int(r.assignment_id), "staff_key": r.staff_key, "name": r.name, "role": r.role,
             "from": r.from_code, "to": list(r.to_codes), "options": list(r.options), "rule": r.rule}
            for r in moves.itertuples(index=False)]


def worker_workload(
    impact: ImpactReport,
    staff_assignments: pd.DataFrame | None,
    *,
    role: str = "micro_worker",
    lineage: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Workload per worker before and after an edit, and its spread.

    Joins the per-grid workload of ``impact`` (``workload_before`` / ``workload_after``)
    with the active staff assignments of ``role`` (``staff_key``, ``name``, ``role``,
    ``grid_code``, as from :func:`load_points_for_impact`). Before the edit a worker
    carries the grids assigned to them; after it, a worker on a retired grid carries its
    successors (from the edit's lineage) until reassigned.

    Returns
    -------
    (per_worker, balance)
        ``per_worker``: one row per ``staff_key`` with ``name``, ``grids_before``,
        ``grids_after`` and ``<metric>_before`` / ``<metric>_after`` for households,
        special_households and residents. ``balance``: rows = metric, columns
        (before|after) × (min, max, mean, cv) as in :func:`boundaries.impact.balance_stats`.
    """
    from boundaries.coding import resolve_code

    metrics = ["households", "special_households", "residents"]
    columns = ["staff_key", "name", "grids_before", "grids_after",
               *[f"{m}_{when}" for m in metrics for when in ("before", "after")]]
    if staff_assignments is None or not len(staff_assignments):
        empty = pd.DataFrame(columns=columns)
        return empty, pd.concat({"before": balance_stats(pd.DataFrame(columns=metrics)),
                                 "after": balance_stats(pd.DataFrame(columns=metrics))}, axis=1)
    staff = staff_assignments.loc[staff_assignments["role"] == role] if "role" in staff_assignments else staff_assignments
    before_codes = set(impact.workload_before.index)
    after_codes = set(impact.workload_after.index)
    links = lineage if lineage is not None else []
    rows_before: list[tuple[str, str]] = []
    rows_after: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    for key, name, code in zip(staff["staff_key"].astype(object), staff["name"].astype(object),
                               staff["grid_code"].astype(object)):
        names[str(key)] = "" if name is None else str(name)
        if code in before_codes:
            rows_before.append((str(key), code))
        successors = [code] if code in after_codes else [c for c in resolve_code(code, links, after_codes)
                                                         if c in after_codes]
        rows_after.extend((str(key), c) for c in successors)

    def per_worker(pairs: list[tuple[str, str]], load: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(pairs, columns=["staff_key", "code"]).drop_duplicates()
        joined = frame.join(load[metrics], on="code")
        out = joined.groupby("staff_key").agg(grids=("code", "size"), **{m: (m, "sum") for m in metrics})
        return out.reindex(sorted(names), fill_value=0).astype("int64")

    before = per_worker(rows_before, impact.workload_before)
    after = per_worker(rows_after, impact.workload_after)
    table = pd.DataFrame({"staff_key": list(before.index), "name": [names[k] for k in before.index],
                          "grids_before": before["grids"].to_numpy(), "grids_after": after["grids"].to_numpy()})
    for m in metrics:
        table[f"{m}_before"] = before[m].to_numpy()
        table[f"{m}_after"] = after[m].to_numpy()
    balance = pd.concat({"before": balance_stats(before), "after": balance_stats(after)}, axis=1)
    return table[columns], balance


def grids_under(plan: gpd.GeoDataFrame, geometry: BaseGeometry, *, leaves_only: bool = True) -> list[str]:
    """Codes of the grids a drawn geometry (EPSG:4490) crosses, most overlap first.

    Overlap is the length of a line inside the grid, or the area of a polygon inside it
    (degrees; only used for ordering). With ``leaves_only`` only grids without children count.
    The editor uses it to pre-select the grid(s) an edit applies to.
    """
    from boundaries.model import leaf_mask

    frame = plan.loc[leaf_mask(plan)] if leaves_only else plan
    if geometry is None or geometry.is_empty or not len(frame):
        return []
    geoms = frame.geometry.to_numpy()
    idx = shapely.STRtree(geoms).query(geometry, predicate="intersects")
    if not len(idx):
        return []
    inter = shapely.intersection(geoms[idx], geometry)
    measure = shapely.area(inter) if geometry.geom_type in ("Polygon", "MultiPolygon") else shapely.length(inter)
    codes = frame["code"].astype(object).to_numpy()[idx]
    order = sorted(range(len(idx)), key=lambda k: (-float(measure[k]), str(codes[k])))
    return [str(codes[k]) for k in order if measure[k] > 0]


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return value.wkt
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _jsonable_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Edit parameters as JSON (geometries, also inside lists, as WKT in EPSG:4490)."""
    return {k: _jsonable(v) for k, v in parameters.items()}


def start_edit(db: Executor) -> EditDraft:
    """Read the current plan (with versions) and the retired codes."""
    plan = load_plan(db)
    return EditDraft(plan=plan, base_versions=plan_versions(plan), retired_codes=grid_store.retired_codes(db),
                     started_at=grid_store.database_now(db))


def load_points_for_impact(db: Executor) -> dict[str, Any]:
    """Households, open incidents and active staff assignments as frames for :func:`assess_impact`."""
    return queries.points_for_impact(db)


def preview_edit(
    db: Executor,
    draft: EditDraft,
    operation: str,
    *,
    points: Mapping[str, Any] | None = None,
    scheme: CodeScheme | None = None,
    **parameters: Any,
) -> EditPreview:
    """Run ``operation`` (a key of :data:`OPERATIONS`) on the draft and measure its impact.

    ``parameters`` are the operation's own (e.g. ``code=..., line=...`` for ``split``);
    geometries are shapely objects in EPSG:4490. ``points`` may pass pre-loaded frames
    from :func:`load_points_for_impact` (the app caches them).

    Raises
    ------
    boundaries.edits.EditRefused
        The edit cannot be made valid; ``findings`` say why.
    """
    if operation not in OPERATIONS:
        raise ValidationError(f"operation was {operation!r} but is expected to be one of {sorted(OPERATIONS)}",
                              code="edit.unknown_operation", params={"operation": str(operation)})
    spec = OPERATIONS[operation]
    spec.check(parameters)
    scheme = scheme or default_scheme()
    result = spec.run(draft.plan, retired_codes=draft.retired_codes, scheme=scheme, **parameters)
    frames = dict(points) if points is not None else load_points_for_impact(db)
    impact = assess_impact(draft.plan, result.plan, lineage=result.lineage, **frames)
    moves = _propose_staff(db, draft, result, impact)
    return EditPreview(draft=draft, operation=operation, parameters=dict(parameters), result=result, impact=impact,
                       staff_moves=moves)


def _propose_staff(db: Executor, draft: EditDraft, result: edits.EditResult, impact: ImpactReport) -> pd.DataFrame:
    """The staff of every grid the edit retires, reshapes or adds, and where each goes."""
    retired = set(result.retired)
    affected = (set(result.reshaped) | set(result.added)) - retired
    assignments = staffing.open_assignments(db, retired | affected, on=clock.today())
    after = impact.workload_after
    households = after["households"].to_dict() if "households" in after else {}
    return propose_staff_moves(assignments, lineage=[tuple(link) for link in result.lineage],
                               after_codes=set(result.plan["code"]), households_after=households,
                               retired=retired, affected=affected)


def save_edit(
    bind: Engine | Connection, preview: EditPreview, *, actor: Actor, reason: str, scheme: CodeScheme | None = None
) -> AppliedChangeset:
    """Write a previewed edit as one changeset by ``actor``, in one transaction (a SAVEPOINT when
    ``bind`` is a connection already in a transaction).

    Raises
    ------
    ValidationError
        The preview has validation errors (an edit that breaks the coverage cannot be saved),
        or no reason was given.
    StaleVersionError
        A touched grid changed since the edit began; nothing is written.
    """
    require(actor.role, "edit_boundaries")
    if not reason or not reason.strip():
        raise ValidationError("saving a boundary change needs a reason", code="edit.reason_required")
    if not preview.can_save:
        preview.report.raise_for_errors()
    return run_in_transaction(bind, actor, lambda db: _save(db, preview, actor=actor, reason=reason, scheme=scheme))


def _save(db: Executor, preview: EditPreview, *, actor: Actor, reason: str, scheme: CodeScheme | None) -> AppliedChangeset:
    # The grids this edit changed (relative to its draft) must still be at the draft's
    # versions — also when the stored plan happens to equal the proposal already (another
    # planner made the same change first), which apply_plan alone would not notice.
    edited = compare_plans(preview.draft.plan, preview.plan)
    base = preview.draft.base_versions
    check_versions(db, [c for c in edited.touched if c in base], base)
    moves = moves_that_change(preview.staff_moves)
    stranded = [f"{r.name} ({r.staff_key}, {r.role}) on {r.from_code}" for r in moves.itertuples(index=False)
                if not len(r.to_codes)]
    if stranded:
        raise ValidationError("choose a new grid for " + "; ".join(stranded), code="edit.staff_stranded",
                              params={"staff": [f"{r.name} {r.staff_key}" for r in moves.itertuples(index=False)
                                                if not len(r.to_codes)]})
    details = {"operation": preview.operation,
               "parameters": _jsonable_parameters(preview.parameters),
               "staff_moves": [{"assignment_id": int(r.assignment_id), "staff_key": r.staff_key, "role": r.role,
                                "from": r.from_code, "to": list(r.to_codes)} for r in moves.itertuples(index=False)]}
    applied = apply_plan(
        db, preview.plan, base_versions=preview.draft.base_versions, author=actor.name, reason=reason,
        kind="edit", lineage=[tuple(link) for link in preview.result.lineage], details=details, scheme=scheme,
    )
    _carry_staff(db, moves, changeset_id=applied.changeset_id, retired=applied.changes.retired)
    return applied


def _carry_staff(db: Executor, moves: pd.DataFrame, *, changeset_id: int, retired: list[str]) -> None:
    """Move the staff with the boundaries (same transaction), audit it, and check that no assignment
    still running points at a code this changeset retired (else the whole changeset is refused)."""
    today = clock.today()
    if len(moves):
        done = staffing.move_assignments(db, moves, on=today)
        audit.record(db, "move_staff", object_type="staff_assignments",
                     object_ids=[m["assignment_id"] for m in done], row_count=len(done),
                     details={"changeset_id": changeset_id, "moves": done})
    left = staffing.assignments_on_retired_codes(db, on=today, codes=retired)
    if left:
        raise ValidationError(
            "staff would stay on retired grids: " + "; ".join(f"{key} ({role}) on {code}" for _i, key, role, code in left)
            + " — preview the edit again and choose where they go",
            [{"assignment_id": i, "staff_key": key, "role": role, "grid_code": code} for i, key, role, code in left],
            code="edit.staff_on_retired",
            params={"staff": [key for _i, key, _role, _code in left], "codes": sorted({code for *_, code in left})})


def rollback_changeset(
    bind: Engine | Connection, changeset_id: int, *, actor: Actor, reason: str | None = None,
    scheme: CodeScheme | None = None,
) -> AppliedChangeset:
    """Undo changeset ``changeset_id`` as a new changeset (kind ``rollback``).

    The grids it touched get back the geometry, name and parent they had just before it;
    grids it added are retired; codes it retired come back to the very grids they named
    (the only way a retired code becomes active again: it is the same grid, not a reuse).
    Refused when a later changeset touched the same grids (roll that back first) or when
    the restored plan is not valid.
    """
    require(actor.role, "rollback")
    return run_in_transaction(
        bind, actor, lambda db: _rollback(db, changeset_id, actor=actor, reason=reason, scheme=scheme or default_scheme()))


def _rollback(db: Executor, changeset_id: int, *, actor: Actor, reason: str | None, scheme: CodeScheme) -> AppliedChangeset:
    row = grid_store.changeset(db, changeset_id)
    if row is None:
        raise NotFoundError(f"no changeset {changeset_id}", code="changeset.not_found", params={"id": changeset_id})
    if row["kind"] in ("demo", "import") and not row["details"].get("before"):
        raise ValidationError(f"changeset {changeset_id} ({row['kind']}) cannot be rolled back: it has no previous plan",
                              code="changeset.no_previous_plan", params={"id": changeset_id, "kind": row["kind"]})
    details = row["details"] or {}
    added = list(details.get("added", []))
    retired = list(details.get("retired", []))
    touched = sorted(set(details.get("before", {})) | set(details.get("after", {})) | set(added) | set(retired))
    later = grid_store.later_changeset_touching(db, changeset_id, touched)
    if later is not None:
        raise StaleVersionError(
            f"changeset {changeset_id} cannot be rolled back: changeset {later['id']} by {later['author']} at "
            f"{later['created_at']:%Y-%m-%d %H:%M} changed the same grids later; roll that one back first",
            code="changeset.later_change",
            params={"id": changeset_id, "later": later["id"], "author": later["author"], "at": later["created_at"]},
        )
    draft = start_edit(db)
    just_before = row["created_at"] - dt.timedelta(microseconds=1)
    before_plan = load_plan(db, as_of=just_before).set_index("code")
    current = draft.plan.set_index("code")
    restore = [c for c in touched if c in before_plan.index]
    new_plan = current.drop(index=[c for c in touched if c in current.index])
    new_plan = pd.concat([new_plan, before_plan.loc[restore]])
    new_plan = gpd.GeoDataFrame(new_plan.reset_index(), geometry="geometry", crs=STORAGE_EPSG).sort_values("code")
    report = validate_plan(new_plan, scheme=scheme)
    if not report.ok:
        raise ValidationError(f"rolling back changeset {changeset_id} would give an invalid plan: {report.summary()}",
                              report.errors, code="changeset.rollback_invalid",
                              params={"id": changeset_id, "count": len(report.errors)})
    applied = apply_plan(
        db, new_plan, base_versions=draft.base_versions, author=actor.name,
        reason=reason or f"roll back changeset {changeset_id}: {row['reason']}", kind="rollback",
        details={"rolled_back": changeset_id}, reactivate=retired, scheme=scheme,
    )
    _carry_staff(db, _rollback_moves(db, current, new_plan, applied.changes.retired),
                 changeset_id=applied.changeset_id, retired=applied.changes.retired)
    return applied


def _rollback_moves(db: Executor, current: gpd.GeoDataFrame, restored: gpd.GeoDataFrame,
                    retired: list[str]) -> pd.DataFrame:
    """Staff on the grids a rollback retires go to the restored grid that overlaps their grid most."""
    if not retired:
        return pd.DataFrame(columns=list(MOVE_COLUMNS))
    assignments = staffing.open_assignments(db, retired, on=clock.today())
    by_code = restored.set_index("code")
    rows = []
    for rec in assignments.itertuples(index=False):
        old = current.geometry[rec.grid_code]
        level = int(current.at[rec.grid_code, "level"])
        same_level = by_code.loc[by_code["level"] == level]
        overlap = shapely.area(shapely.intersection(same_level.geometry.to_numpy(), old))
        if not len(overlap) or float(overlap.max()) <= 0:
            continue  # nowhere to go: the check after the moves names it
        target = str(same_level.index[int(np.argmax(overlap))])
        rows.append((int(rec.assignment_id), rec.staff_key, rec.name, rec.role, rec.grid_code, (target,), (target,),
                     "successor"))
    return pd.DataFrame(rows, columns=list(MOVE_COLUMNS))


def history_frame(db: Executor, *, code: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Changesets newest first as a frame (``id``, ``at``, ``author``, ``kind``, ``reason``,
    ``added``, ``retired``, ``reshaped`` — code lists joined with ", ")."""
    from store.grids import changeset_history

    rows = changeset_history(db, code=code, limit=limit)
    columns = ["id", "at", "author", "kind", "reason", "added", "retired", "reshaped"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("added", "retired", "reshaped"):
        frame[col] = frame[col].map(lambda v: ", ".join(v) if isinstance(v, list) else ("" if v is None else str(v)))
    return frame


def changed_areas(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0
) -> tuple[Any, gpd.GeoDataFrame]:
    """What changed between two plans (EPSG:4490) and where.

    Returns the :class:`boundaries.versions.PlanDiff` and a frame of changed areas: one row
    per added grid (its geometry), retired grid (its old geometry) and reshaped grid (the
    symmetric difference of old and new), with ``code``, ``change``, ``level`` and
    ``area_m2`` (m², measured in the CGCS2000 Gauss-Krüger zone).
    """
    from boundaries.versions import diff_plans
    from gis.measure import area_m2

    diff = diff_plans(old, new, tolerance_m2=tolerance_m2)
    old_by = old.drop_duplicates("code").set_index("code")
    new_by = new.drop_duplicates("code").set_index("code")
    rows: list[tuple[str, str, int, BaseGeometry]] = []
    rows += [(c, "added", int(new_by.at[c, "level"]), new_by.geometry[c]) for c in diff.added]
    rows += [(c, "retired", int(old_by.at[c, "level"]), old_by.geometry[c]) for c in diff.retired]
    reshaped = list(diff.reshaped["code"]) if len(diff.reshaped) else []
    if reshaped:
        sym = shapely.symmetric_difference(
            np.asarray(old_by.geometry.reindex(reshaped).array, dtype=object),
            np.asarray(new_by.geometry.reindex(reshaped).array, dtype=object),
        )
        rows += [(c, "reshaped", int(new_by.at[c, "level"]), g) for c, g in zip(reshaped, sym)]
    codes = [r[0] for r in rows]
    kinds = [r[1] for r in rows]
    levels = [r[2] for r in rows]
    geoms = [r[3] for r in rows]
    frame = gpd.GeoDataFrame({"code": codes, "change": kinds, "level": levels},
                             geometry=gpd.GeoSeries(geoms, crs=STORAGE_EPSG), crs=STORAGE_EPSG)
    frame["area_m2"] = area_m2(frame.geometry.to_numpy(), crs=STORAGE_EPSG) if len(frame) else []
    return diff, frame
