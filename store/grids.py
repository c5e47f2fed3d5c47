"""Persistence of grid plans in PostGIS: the thin adapter between ``boundaries`` and the database.

Plans cross this boundary as GeoDataFrames in EPSG:4490 with columns ``code``, ``level``,
``parent_code``, ``name``, ``geometry`` (and ``version`` when read). Writing a plan is one
changeset in one transaction:

1. lock the grids it touches (``SELECT ... FOR UPDATE``) and compare their versions with the
   versions the editor read (optimistic locking: a stale version raises
   :class:`~gis.errors.StaleVersionError` naming the grid and the newer changeset, and
   nothing is written);
2. write the changeset (author, time, reason, before/after geometries as WKT);
3. close the current ``grid_versions`` rows of changed grids (``valid_to``) and open new ones,
   update ``grids`` and bump each touched grid's ``version``; retire removed codes in
   ``grid_codes`` (never reused) and record the lineage;
4. re-assign only the households and incidents inside the changed region (old ∪ new
   geometry of touched finest-level grids) and return who moved from which grid to which.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text

from boundaries.coding import CodeScheme, default_scheme, resolve_code
from boundaries.assign import assign_to_leaf_arrays, leaf_coverage_index
from boundaries.versions import same_geometry
from gis.crs import STORAGE_EPSG
from gis.errors import CRSError, NotFoundError, StaleVersionError, ValidationError
from store.sql import SRID, Executor, as_of_param, ewkb_hex, geometries, valid_at

__all__ = [
    "PlanChanges",
    "AppliedChangeset",
    "load_plan",
    "load_versions",
    "plan_versions",
    "compare_plans",
    "apply_plan",
    "check_versions",
    "load_lineage",
    "resolve_code_in_db",
    "changeset_history",
    "reassign_points",
    "leaf_grids_at",
    "assign_points_at",
    "assign_points_at_times",
    "changeset_time",
    "assignment_counts",
    "LeafCoverage",
    "leaf_coverage",
    "ASSIGNMENT_MISMATCH",
]

logger = logging.getLogger(__name__)

_PLAN_COLUMNS = ["code", "level", "parent_code", "name"]


def _frame(rows: Sequence[Any], columns: list[str]) -> gpd.GeoDataFrame:
    data = pd.DataFrame([tuple(r) for r in rows], columns=[*columns, "wkb"])
    geometry = geometries(list(data.pop("wkb")))
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=STORAGE_EPSG, index=data.index), crs=STORAGE_EPSG)
    for column in ("level", "version"):
        if column in frame:
            frame[column] = frame[column].astype("int64")
    return frame


def load_plan(db: Executor, *, as_of: dt.datetime | None = None, level: int | None = None) -> gpd.GeoDataFrame:
    """The plan now (or as valid at ``as_of``, tz-aware): one row per grid, sorted by code."""
    rows = db.execute(
        text(
            f"""
            SELECT code, level, parent_code, name, version, ST_AsBinary(geom)
            FROM grid_versions WHERE {valid_at()} AND (CAST(:level AS int) IS NULL OR level = :level)
            ORDER BY code
            """
        ),
        {"as_of": as_of_param(as_of), "level": level},
    ).all()
    return _frame(rows, [*_PLAN_COLUMNS, "version"])


def load_versions(db: Executor, *, codes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Every stored version (``valid_from``/``valid_to``, changeset ids) of ``codes`` (default all)."""
    code_list = None if codes is None else list(codes)
    rows = db.execute(
        text(
            """
            SELECT code, level, parent_code, name, version, valid_from, valid_to, changeset_id, ST_AsBinary(geom)
            FROM grid_versions WHERE CAST(:codes AS text[]) IS NULL OR code = ANY(:codes)
            ORDER BY code, version
            """
        ),
        {"codes": code_list},
    ).all()
    return _frame(rows, [*_PLAN_COLUMNS, "version", "valid_from", "valid_to", "changeset_id"])


def plan_versions(plan: gpd.GeoDataFrame) -> dict[str, int]:
    """``{code: version}`` of a plan read with :func:`load_plan` (the editor's optimistic-lock token)."""
    return dict(zip(plan["code"], plan["version"].astype(int)))


@dataclass(frozen=True)
class PlanChanges:
    """What differs between the stored plan and a proposed plan (by code)."""

    added: list[str]
    retired: list[str]
    reshaped: list[str]
    renamed: list[str] = field(default_factory=list)
    reparented: list[str] = field(default_factory=list)

    @property
    def touched(self) -> list[str]:
        return sorted(set(self.added) | set(self.retired) | set(self.reshaped) | set(self.renamed) | set(self.reparented))

    @property
    def empty(self) -> bool:
        return not self.touched


def compare_plans(current: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame) -> PlanChanges:
    """Per-code differences; a geometry changed when :func:`boundaries.versions.same_geometry` says so
    (exact comparison of the normalized geometries on the stored precision grid: the one rule)."""
    for frame, label in ((current, "current"), (proposed, "proposed")):
        if frame.crs is None or frame.crs.to_epsg() != STORAGE_EPSG:
            raise CRSError(f"the {label} plan must be in EPSG:{STORAGE_EPSG}, not {frame.crs}", code="crs.mismatch")
    cur = current.set_index("code")
    new = proposed.set_index("code")
    added = sorted(set(new.index) - set(cur.index))
    retired = sorted(set(cur.index) - set(new.index))
    common = sorted(set(cur.index) & set(new.index))
    a = cur.loc[common]
    b = new.loc[common]
    same_geom = same_geometry(a.geometry.to_numpy(), b.geometry.to_numpy()) if common else np.array([], dtype=bool)
    reshaped = [c for c, same in zip(common, same_geom) if not same]
    renamed = [c for c in common if str(a.at[c, "name"]) != str(b.at[c, "name"])]
    reparented = [c for c in common if _code_or_none(a.at[c, "parent_code"]) != _code_or_none(b.at[c, "parent_code"])]
    return PlanChanges(added=added, retired=retired, reshaped=reshaped, renamed=renamed, reparented=reparented)


@dataclass(frozen=True)
class AppliedChangeset:
    """The result of :func:`apply_plan`."""

    changeset_id: int
    at: dt.datetime
    changes: PlanChanges
    #: (from_code, to_code) → number of households that moved (None = unassigned).
    households_moved: dict[tuple[str | None, str | None], int]
    incidents_moved: dict[tuple[str | None, str | None], int]

    def to_dict(self) -> dict[str, Any]:
        def moves(d: Mapping[tuple[str | None, str | None], int]) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "count": n} for (a, b), n in sorted(d.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))]

        return {
            "changeset_id": self.changeset_id,
            "at": self.at.isoformat(),
            "added": self.changes.added,
            "retired": self.changes.retired,
            "reshaped": self.changes.reshaped,
            "renamed": self.changes.renamed,
            "households_moved": moves(self.households_moved),
            "incidents_moved": moves(self.incidents_moved),
        }


def _newer_change(db: Executor, code: str) -> str:
    row = _newer_change_row(db, code)
    if row is None:
        return "a change that is not recorded"
    return f"changeset {row.id} by {row.author} at {row.created_at:%Y-%m-%d %H:%M} ({row.reason})"


def _newer_change_row(db: Executor, code: str) -> Any:
    row = db.execute(
        text(
            """
            SELECT c.id, c.author, c.created_at, c.reason FROM grids g JOIN changesets c ON c.id = g.changeset_id
            WHERE g.code = :code
            """
        ),
        {"code": code},
    ).first()
    return row


def check_versions(db: Executor, codes: Sequence[str], base_versions: Mapping[str, int]) -> None:
    """Lock ``codes`` (``FOR UPDATE``) and compare their versions with ``base_versions``.

    The optimistic-lock check :func:`apply_plan` runs on the grids a plan changes; callers
    that know more about what an edit touched (the editing service) run it on those too.

    Raises
    ------
    StaleVersionError
        Naming the first stale grid and the changeset that changed it; nothing is written.
    """
    if not codes:
        return
    rows = db.execute(
        text("SELECT code, name, version FROM grids WHERE code = ANY(:codes) ORDER BY code FOR UPDATE"),
        {"codes": list(codes)},
    ).all()
    found = {r.code: r for r in rows}
    for code in codes:
        if code not in base_versions:
            raise StaleVersionError(
                f"grid {code} was not part of the plan this edit started from; reload the plan and edit again",
                code="grid.not_in_draft", params={"code": code},
            )
        row = found.get(code)
        if row is None:
            raise StaleVersionError(
                f"grid {code} was retired by someone else since you read it; nothing was saved — reload the plan and "
                "edit again", code="grid.retired_meanwhile", params={"code": code},
            )
        if int(row.version) != int(base_versions[code]):
            newer = _newer_change_row(db, code)
            message = (
                f"grid {code} {row.name} was changed by someone else since you read it: {_newer_change(db, code)} "
                f"(your version {base_versions[code]}, now {row.version}); nothing was saved — reload and redo the edit"
            )
            if newer is None:
                raise StaleVersionError(message, code="grid.stale_plain", params={"code": code, "name": row.name})
            raise StaleVersionError(message, code="grid.stale", params={
                "code": code, "name": row.name, "author": newer.author, "at": newer.created_at, "changeset": newer.id})


def _code_or_none(value: Any) -> str | None:
    """A parent code as ``str`` or ``None`` (missing values of any flavour become ``None``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value == "":
        return None
    return str(value)


def apply_plan(
    db: Executor,
    proposed: gpd.GeoDataFrame,
    *,
    base_versions: Mapping[str, int],
    author: str,
    reason: str,
    kind: str = "edit",
    lineage: Iterable[tuple[str, str, str]] = (),
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
    reactivate: Iterable[str] = (),
    scheme: CodeScheme | None = None,
) -> AppliedChangeset:
    """Write ``proposed`` (the whole new plan) as one changeset; see the module docstring.

    The caller owns the transaction (``with Session(engine) as s, s.begin():`` or
    ``engine.begin()``); a raised error leaves nothing written once it rolls back.

    Parameters
    ----------
    proposed:
        The complete new plan (EPSG:4490). Validate it first (:func:`boundaries.validate_plan`).
    base_versions:
        ``{code: version}`` the editor started from (:func:`plan_versions`).
    lineage:
        ``(old_code, new_code, kind)`` links recorded with the changeset.
    reactivate:
        Retired codes that come back to the very grid they named (rollback only). Any other
        retired code in ``proposed`` is refused: codes are never reused.
    """
    scheme = scheme or default_scheme()
    if not reason or not reason.strip():
        raise ValueError("a changeset needs a reason")
    current = load_plan(db)
    changes = compare_plans(current, proposed)
    existing_touched = [c for c in changes.touched if c in set(current["code"])]
    check_versions(db, existing_touched, base_versions)
    when = at or db.execute(text("SELECT clock_timestamp()")).scalar_one()

    cur = current.set_index("code")
    new = proposed.set_index("code")
    before = {c: cur.at[c, "geometry"].wkt for c in changes.touched if c in cur.index}
    after = {c: new.at[c, "geometry"].wkt for c in changes.touched if c in new.index}
    payload = dict(details or {})
    payload.update({"added": changes.added, "retired": changes.retired, "reshaped": changes.reshaped,
                    "renamed": changes.renamed, "before": before, "after": after})
    changeset_id = db.execute(
        text(
            "INSERT INTO changesets (author, reason, kind, details, created_at) "
            "VALUES (:a, :r, :k, CAST(:d AS jsonb), :t) RETURNING id"
        ),
        {"a": author, "r": reason.strip(), "k": kind, "d": json.dumps(payload, ensure_ascii=False), "t": when},
    ).scalar_one()

    # Close the current versions of every changed or retired grid.
    changed = sorted(set(changes.touched) - set(changes.added))
    if changed:
        db.execute(
            text(
                "UPDATE grid_versions SET valid_to = :t, "
                "retired_changeset_id = CASE WHEN code = ANY(:retired) THEN :cs ELSE retired_changeset_id END "
                "WHERE code = ANY(:codes) AND valid_to IS NULL"
            ),
            {"t": when, "codes": changed, "retired": changes.retired, "cs": changeset_id},
        )
    # New codes; a retired code may only come back through ``reactivate`` (rollback).
    for code in changes.added:
        scheme.parse(code)
    known = {
        r.code: r.status
        for r in db.execute(text("SELECT code, status FROM grid_codes WHERE code = ANY(:c)"), {"c": changes.added}).all()
    }
    allowed_back = set(reactivate)
    reused = sorted(c for c in known if c not in allowed_back)
    if reused:
        raise ValidationError(
            f"grid code(s) {', '.join(reused)} were used before and are retired; codes are never reused — "
            "allocate new codes under the parent", code="grid.code_reused", params={"codes": reused},
        )
    back = sorted(known)
    if back:
        db.execute(
            text("UPDATE grid_codes SET status = 'active', retired_at = NULL, retired_changeset_id = NULL WHERE code = ANY(:c)"),
            {"c": back},
        )
    fresh = [c for c in changes.added if c not in known]
    if fresh:
        db.execute(
            text(
                "INSERT INTO grid_codes (code, level, status, created_changeset_id, created_at) "
                "VALUES (:code, :level, 'active', :cs, :t)"
            ),
            [{"code": c, "level": int(new.at[c, "level"]), "cs": changeset_id, "t": when} for c in fresh],
        )
    # Retire removed codes (children first so parent FKs stay satisfied at commit).
    if changes.retired:
        db.execute(text("DELETE FROM grids WHERE code = ANY(:codes)"), {"codes": changes.retired})
        db.execute(
            text("UPDATE grid_codes SET status = 'retired', retired_at = :t, retired_changeset_id = :cs WHERE code = ANY(:codes)"),
            {"t": when, "cs": changeset_id, "codes": changes.retired},
        )
    upserts = sorted(set(changes.added) | (set(changed) - set(changes.retired)))
    if upserts:
        rows = [
            {
                "code": c,
                "level": int(new.at[c, "level"]),
                "parent": _code_or_none(new.at[c, "parent_code"]),
                "name": str(new.at[c, "name"]),
                "geom": ewkb_hex(new.at[c, "geometry"])[0],
                "cs": changeset_id,
                "t": when,
            }
            for c in upserts
        ]
        db.execute(
            text(
                """
                INSERT INTO grids (code, level, parent_code, name, geom, version, changeset_id, created_at, updated_at)
                VALUES (:code, :level, :parent, :name, ST_Multi(CAST(:geom AS geometry)),
                        -- 1 for a new code; a code reactivated by a rollback continues its versions
                        COALESCE((SELECT max(gv.version) FROM grid_versions gv WHERE gv.code = :code), 0) + 1,
                        :cs, :t, :t)
                ON CONFLICT (code) DO UPDATE SET
                    level = EXCLUDED.level, parent_code = EXCLUDED.parent_code, name = EXCLUDED.name,
                    geom = EXCLUDED.geom, version = grids.version + 1, changeset_id = EXCLUDED.changeset_id,
                    updated_at = EXCLUDED.updated_at
                """
            ),
            rows,
        )
        db.execute(
            text(
                """
                INSERT INTO grid_versions (code, version, level, parent_code, name, geom, valid_from, changeset_id)
                SELECT g.code, g.version, g.level, g.parent_code, g.name, g.geom, :t, :cs
                FROM grids g WHERE g.code = ANY(:codes)
                """
            ),
            {"t": when, "cs": changeset_id, "codes": upserts},
        )
    links = list(lineage)
    if links:
        db.execute(
            text("INSERT INTO code_lineage (old_code, new_code, kind, at, changeset_id) VALUES (:o, :n, :k, :t, :cs)"),
            [{"o": o, "n": n, "k": k, "t": when, "cs": changeset_id} for o, n, k in links],
        )

    # Re-assign only the points inside the changed region (old and new outlines of every
    # touched grid; parents change only when their leaves do, so this covers the leaves).
    region = list(before.values()) + list(after.values())
    households_moved = reassign_points(db, "households", region_wkt=region)
    incidents_moved = reassign_points(db, "incidents", region_wkt=region)
    reassign_points(db, "cameras", region_wkt=region)
    logger.info(
        "changeset %s: %d added, %d retired, %d reshaped; %d households moved",
        changeset_id, len(changes.added), len(changes.retired), len(changes.reshaped), sum(households_moved.values()),
    )
    return AppliedChangeset(changeset_id, when, changes, households_moved, incidents_moved)


#: Up to this many points, only the leaves whose bounding box meets the points' box are read.
_FEW_POINTS = 64


def leaf_grids_at(
    db: Executor, *, as_of: dt.datetime | dt.date | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and geometries (EPSG:4490) of the leaf grids valid at ``as_of`` (default: now), by code.

    A leaf is a grid version with no child version valid at the same moment. ``bbox``
    (lon_min, lat_min, lon_max, lat_max) keeps only leaves whose bounding box meets it (the
    GiST index narrows the candidates; :func:`boundaries.assign` decides).
    """
    params: dict[str, Any] = {"as_of": as_of_param(as_of)}
    box = ""
    if bbox is not None:
        box = f" AND gv.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, {SRID})"
        params.update(x0=bbox[0], y0=bbox[1], x1=bbox[2], y1=bbox[3])
    rows = db.execute(
        text(
            f"SELECT gv.code, ST_AsBinary(gv.geom) FROM grid_versions gv WHERE {valid_at('gv')}{box} "
            f"AND NOT EXISTS (SELECT 1 FROM grid_versions c WHERE c.parent_code = gv.code AND {valid_at('c')}) "
            "ORDER BY gv.code"
        ),
        params,
    ).all()
    codes = np.array([r[0] for r in rows], dtype=object)
    return codes, geometries([r[1] for r in rows])


@dataclass(frozen=True)
class LeafCoverage:
    """The current leaf grids as a kept :class:`gis.join.CoverageIndex`, with the key naming them.

    ``key`` is what the index is kept under (:func:`leaf_coverage`): the database, and the code,
    version and ``valid_from`` moment of every current leaf version (md5), so it changes with
    every changeset that touches a leaf and never names two different plans. ``codes`` are the
    leaf codes (sorted); ``index.assign(points)`` / ``index.assign(xy=(lon, lat))`` is the one
    rule of :mod:`boundaries.assign` (EPSG:4490 degrees).
    """

    key: str
    codes: np.ndarray
    index: Any


_LEAF_KEY_SQL = f"""
    SELECT current_database() || ':' || coalesce(inet_server_port(), 0) || ':' || count(*) || ':'
           || md5(coalesce(string_agg(gv.id || '/' || gv.code || '/' || gv.version || '/' || gv.valid_from::text, ','
                                      ORDER BY gv.code), ''))
    FROM grid_versions gv WHERE {valid_at('gv')}
      AND NOT EXISTS (SELECT 1 FROM grid_versions c WHERE c.parent_code = gv.code AND {valid_at('c')})
"""


def leaf_coverage(db: Executor) -> LeafCoverage:
    """The current leaf grids as an index kept between calls (keyed by the plan's versions: their row ids,
    which a sequence never hands out twice — a plan rolled back and another written with the same codes,
    versions and dates, as a test's examples or a dry run do, is a new key).

    Reads only the key (no geometry) when the index of the same plan is already kept in this
    process (:func:`gis.join.cached_index`); otherwise reads the leaves and builds it once.
    """
    from gis.join import cached_index

    key = "leaves:" + str(db.execute(text(_LEAF_KEY_SQL), {"as_of": None}).scalar_one())
    index = cached_index(key)
    if index is None:
        codes, geoms = leaf_grids_at(db)
        index = leaf_coverage_index(codes, geoms, token=key)
    return LeafCoverage(key, np.asarray(index.keys, dtype=object), index)


#: The check every write of assigned grid codes passes (``gridgov.apply_assignment`` runs the same
#: predicate on its arrays): the row's ``{code}`` must be a current leaf grid whose geometry covers
#: ``{geom}``, or NULL only where no leaf grid covers it. Format with the two SQL expressions; true
#: for a wrong row.
ASSIGNMENT_MISMATCH = """CASE WHEN {code} IS NULL THEN EXISTS (
        SELECT 1 FROM grids l WHERE ST_Covers(l.geom, {geom})
        AND NOT EXISTS (SELECT 1 FROM grids c WHERE c.parent_code = l.code))
    ELSE NOT EXISTS (
        SELECT 1 FROM grids g WHERE g.code = {code} AND ST_Covers(g.geom, {geom})
        AND NOT EXISTS (SELECT 1 FROM grids c WHERE c.parent_code = g.code)) END"""


def assign_points_at(db: Executor, points: Any, *, as_of: dt.datetime | dt.date | None = None) -> np.ndarray:
    """The leaf grid covering each point (EPSG:4490 shapely Points) in the plan valid at ``as_of``.

    The one rule (:mod:`boundaries.assign`: covered_by, smallest code on a shared boundary,
    ``None`` outside) applied to the plan stored in the database. For a few points only the
    candidate leaves around them are read.
    """
    points = np.asarray(points, dtype=object)
    if points.ndim == 0:
        points = points.reshape(1)
    if len(points) == 0:
        return np.array([], dtype=object)
    bbox = None
    if len(points) <= _FEW_POINTS:
        present = points[~shapely.is_missing(points) & ~shapely.is_empty(points)]
        if len(present) == 0:
            return np.full(len(points), None, dtype=object)
        bounds = shapely.total_bounds(present)
        if not np.isfinite(bounds).all():
            finite = present[np.isfinite(shapely.get_x(present)) & np.isfinite(shapely.get_y(present))]
            if len(finite) == 0:
                return np.full(len(points), None, dtype=object)
            bounds = shapely.total_bounds(finite)
        bbox = tuple(float(v) for v in bounds)
    codes, geoms = leaf_grids_at(db, as_of=as_of, bbox=bbox)
    return assign_to_leaf_arrays(points, codes, geoms)


def assign_points_at_times(db: Executor, points: Any, times: Sequence[dt.datetime]) -> np.ndarray:
    """For each point, the leaf grid covering it in the plan valid at its own moment (aware).

    The moments are grouped by plan period (between two changesets the plan is the same), so
    the rule runs once per period, not once per point. A moment before every plan version
    gives ``None``.
    """
    points = np.asarray(points, dtype=object)
    out = np.full(len(points), None, dtype=object)
    if len(points) == 0:
        return out
    edges = sorted(
        {r[0] for r in db.execute(text("SELECT DISTINCT valid_from FROM grid_versions")).all()}
        | {r[0] for r in db.execute(text("SELECT DISTINCT valid_to FROM grid_versions WHERE valid_to IS NOT NULL")).all()}
    )
    if not edges:
        return out
    stamps = pd.to_datetime(pd.Series(list(times)), utc=True).to_numpy(dtype="datetime64[ns]")
    edge_array = pd.to_datetime(pd.Series(edges), utc=True).to_numpy(dtype="datetime64[ns]")
    period = np.searchsorted(edge_array, stamps, side="right") - 1  # -1: before every version
    for k in np.unique(period[period >= 0]):
        members = np.flatnonzero(period == k)
        moment = pd.Timestamp(edge_array[k]).tz_localize("UTC").to_pydatetime()
        out[members] = assign_points_at(db, points[members], as_of=moment)
    return out


def reassign_points(
    db: Executor,
    table: str,
    *,
    region_wkt: Sequence[str] | None = None,
    scope: tuple[str, str] | None = None,
    assigner: Callable[[Executor, np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> dict[tuple[str | None, str | None], int]:
    """Re-assign ``households``, ``incidents`` or ``cameras`` to the leaf grid covering each point.

    Bulk assignment at import, by ``gridgov assign`` and after a boundary edit: the points are
    read from PostGIS and assigned in Python by the one rule of :mod:`boundaries.assign`
    (``covered_by``, so boundary points match; a point on a shared boundary goes to the smallest
    code) to the current leaf grids (grids without children: the micro-grids of a full plan), and
    only the rows whose grid changed are written back, through ``gridgov.apply_assignment`` (it
    checks each code covers its point, and lets an account that may assign, edit boundaries or
    import move rows it may not otherwise write). Points outside every grid become
    unassigned (NULL), never dropped. For incidents, ``grid_code_at_report`` is filled where
    it is still empty (it keeps the grid valid when the incident was reported).

    Parameters
    ----------
    region_wkt:
        Only points inside these EPSG:4490 WKT geometries are recomputed (``None``: all;
        an empty list: none). Boundary edits pass the old and new outlines of what changed.
    scope:
        ``(table_name, key_column)``: only rows whose key is in that (staging) table.
    assigner:
        ``assigner(db, x, y, old_codes) → codes`` instead of the kept leaf index of this process
        (:func:`leaf_coverage`): e.g. the Dask engine of ``gridgov assign --engine dask``
        (:mod:`services.scale`), which must give the same answers. The codes it returns are
        written, and checked, exactly as the local ones.

    Returns
    -------
    dict
        ``{(from_code, to_code): count}`` of the rows whose grid changed.
    """
    if table not in ("households", "incidents", "cameras"):
        raise ValueError(f"table was {table!r} but is expected to be 'households', 'incidents' or 'cameras'")
    if region_wkt is not None and not region_wkt:
        return {}
    conditions = ["TRUE"]
    if region_wkt is not None:
        conditions.append(
            f"ST_Intersects(t.geom, (SELECT ST_Union(ST_GeomFromText(w, {SRID})) FROM unnest(CAST(%(region)s AS text[])) AS w))"
        )
    if scope is not None:
        stage, key = scope
        if not (stage.replace("_", "").isalnum() and key.replace("_", "").isalnum()):
            raise ValueError(f"scope {scope!r} must name a table and a column")
        conditions.append(f"t.{key} IN (SELECT {key} FROM {stage})")
    where = " AND ".join(conditions)
    params = {"region": list(region_wkt)} if region_wkt is not None else {}
    at_report = "t.grid_code_at_report IS NULL" if table == "incidents" else "FALSE"
    ids, old, x, y, unfilled = read_points(
        db, f"SELECT t.id, t.grid_code, ST_X(t.geom), ST_Y(t.geom), {at_report} FROM {table} t WHERE {where}", params)
    moves: Counter[tuple[str | None, str | None]] = Counter()
    if len(ids):
        if assigner is None:
            new = leaf_coverage(db).index.assign(xy=(x, y))
        else:
            new = np.asarray(assigner(db, x, y, old), dtype=object)
        differs = np.asarray(pd.Series(old, dtype=object).ne(pd.Series(new, dtype=object)).to_numpy(), dtype=bool)
        both_none = pd.isna(pd.Series(old, dtype=object)).to_numpy() & pd.isna(pd.Series(new, dtype=object)).to_numpy()
        differs = differs & ~both_none
        has_code = ~pd.isna(pd.Series(new, dtype=object)).to_numpy()
        write = np.flatnonzero(differs | (unfilled & has_code))
        if len(write):
            apply_assignment(db, table, ids[write], new[write])
        changed = np.flatnonzero(differs)
        moves.update(zip(old[changed], new[changed]))
    return dict(moves)


def _connection(db: Executor) -> Any:
    """The Connection behind ``db`` (a Session's current one)."""
    from sqlalchemy.orm import Session

    return db.connection() if isinstance(db, Session) else db


def read_points(db: Executor, select: str, params: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
    """Run ``select`` (id, grid code, x, y, flag) through ``COPY … TO STDOUT``; column arrays.

    ``select`` takes psycopg-style parameters (``%(name)s``), bound by psycopg.

    The fast way to read millions of points: text CSV parsed by pyarrow (doubles come back
    exactly: PostgreSQL prints the shortest round-trip form). Returns ``(ids int64, codes object
    with None, x float64, y float64, flags bool)``.
    """
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    conn = _connection(db)
    raw = conn.connection.driver_connection
    conn.execute(text("SELECT 1"))  # the transaction (and its session binding) is open on this connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)", dict(params) or None) as copy:
            for block in copy:
                buffer.write(block)
    if not buffer.tell():
        return (np.empty(0, np.int64), np.empty(0, object), np.empty(0), np.empty(0), np.empty(0, bool))
    buffer.seek(0)
    names = ["id", "code", "x", "y", "flag"]
    table = pacsv.read_csv(buffer, read_options=pacsv.ReadOptions(column_names=names),
                           convert_options=pacsv.ConvertOptions(
                               column_types={"id": pa.int64(), "code": pa.string(), "x": pa.float64(),
                                             "y": pa.float64(), "flag": pa.string()},
                               strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=False))
    codes = np.asarray(table.column("code").to_pandas(), dtype=object)
    codes = np.where(pd.isna(codes), None, codes)
    return (table.column("id").to_numpy(), codes,
            table.column("x").to_numpy(zero_copy_only=False), table.column("y").to_numpy(zero_copy_only=False),
            np.asarray(table.column("flag").to_pandas() == "t", dtype=bool))


def apply_assignment(db: Executor, table: str, ids: np.ndarray, codes: np.ndarray) -> int:
    """Write assigned grid codes through the staging-and-COPY path and ``gridgov.apply_assignment``.

    ``(id, code)`` pairs are COPYed into a temporary table; the checked database function then
    receives them as two arrays built by the server (no per-row Python) and checks every code
    (:data:`ASSIGNMENT_MISMATCH`: a leaf covering the point, NULL only outside every leaf) before
    it writes — also for an account that may assign but not otherwise write those rows.
    """
    from store.sql import copy_columns, create_stage

    conn = _connection(db)
    stage = create_stage(conn, {"id": "bigint", "code": "text"}, prefix="assign")
    copy_columns(conn, stage, {"id": np.asarray(ids, dtype=np.int64), "code": np.asarray(codes, dtype=object)})
    written = conn.execute(text(
        f"SELECT gridgov.apply_assignment(:t, array_agg(id ORDER BY id), array_agg(code ORDER BY id)) FROM {stage}"),
        {"t": table}).scalar_one()
    conn.execute(text(f"DROP TABLE {stage}"))
    return int(written or 0)


def load_lineage(db: Executor) -> pd.DataFrame:
    """All lineage links: old_code, new_code, kind, at, changeset_id."""
    rows = db.execute(text("SELECT old_code, new_code, kind, at, changeset_id FROM code_lineage ORDER BY id")).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["old_code", "new_code", "kind", "at", "changeset_id"])


def resolve_code_in_db(db: Executor, code: str) -> list[str]:
    """Today's grid code(s) for ``code``, following split/merge/renumber lineage transitively."""
    active = {r[0] for r in db.execute(text("SELECT code FROM grids")).all()}
    if code in active:
        return [code]
    known = db.execute(text("SELECT 1 FROM grid_codes WHERE code = :c"), {"c": code}).first()
    if known is None:
        raise NotFoundError(f"no grid has ever had the code {code}", code="grid.never", params={"code": code})
    return resolve_code(code, load_lineage(db), active)


def changeset_history(db: Executor, *, code: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Changesets, newest first; with ``code`` only those that touched that grid (or its lineage)."""
    rows = db.execute(
        text(
            """
            SELECT c.id, c.author, c.created_at, c.reason, c.kind,
                   c.details -> 'added' AS added, c.details -> 'retired' AS retired,
                   c.details -> 'reshaped' AS reshaped
            FROM changesets c
            WHERE CAST(:code AS text) IS NULL
               OR EXISTS (SELECT 1 FROM grid_versions gv WHERE gv.code = :code
                          AND (gv.changeset_id = c.id OR gv.retired_changeset_id = c.id))
            ORDER BY c.created_at DESC, c.id DESC LIMIT :limit
            """
        ),
        {"code": code, "limit": limit},
    ).all()
    return [
        {
            "id": r.id, "author": r.author, "at": r.created_at, "reason": r.reason, "kind": r.kind,
            "added": r.added or [], "retired": r.retired or [], "reshaped": r.reshaped or [],
        }
        for r in rows
    ]


def retired_codes(db: Executor) -> frozenset[str]:
    """Every grid code that was retired (codes are never reused)."""
    return frozenset(r[0] for r in db.execute(text("SELECT code FROM grid_codes WHERE status = 'retired'")).all())


def database_now(db: Executor) -> dt.datetime:
    """The database server's clock (``clock_timestamp()``), aware."""
    return db.execute(text("SELECT clock_timestamp()")).scalar_one()


def changeset(db: Executor, changeset_id: int) -> dict[str, Any] | None:
    """One changeset (id, author, created_at, reason, kind, details) or ``None``."""
    row = db.execute(
        text("SELECT id, author, created_at, reason, kind, details FROM changesets WHERE id = :id"), {"id": changeset_id}
    ).mappings().first()
    return None if row is None else dict(row)


def later_changeset_touching(db: Executor, changeset_id: int, codes: Sequence[str]) -> dict[str, Any] | None:
    """The first changeset after ``changeset_id`` that versioned or retired any of ``codes``, or ``None``."""
    row = db.execute(
        text(
            """
            SELECT c.id, c.author, c.created_at FROM changesets c
            WHERE c.id > :id AND EXISTS (
                SELECT 1 FROM grid_versions gv WHERE gv.code = ANY(:codes)
                AND (gv.changeset_id = c.id OR gv.retired_changeset_id = c.id))
            ORDER BY c.id LIMIT 1
            """
        ),
        {"id": changeset_id, "codes": list(codes)},
    ).mappings().first()
    return None if row is None else dict(row)


def changeset_time(db: Executor, changeset_id: int) -> dt.datetime | None:
    """When changeset ``changeset_id`` was saved (``None`` when there is no such changeset)."""
    return db.execute(text("SELECT created_at FROM changesets WHERE id = :id"), {"id": changeset_id}).scalar()


def assignment_counts(db: Executor, table: str) -> dict[str, int]:
    """``{"assigned": n, "unassigned": m}``: rows of ``households`` or ``incidents`` with and without a grid."""
    if table not in ("households", "incidents", "cameras"):
        raise ValueError(f"table was {table!r} but is expected to be 'households', 'incidents' or 'cameras'")
    assigned, unassigned = db.execute(text(
        f"SELECT count(*) FILTER (WHERE grid_code IS NOT NULL), count(*) FILTER (WHERE grid_code IS NULL) FROM {table}"
    )).one()
    return {"assigned": int(assigned), "unassigned": int(unassigned)}
