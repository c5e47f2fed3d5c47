"""Loading validated frames into PostGIS: one transaction, a staging table, then upserts.

Every ``load_*`` function takes the frame a reader in :mod:`etl.readers` returned (EPSG:4490)
and the problems it found, and:

1. refuses to load when a problem of severity ``error`` is present, unless
   ``skip_invalid=True`` (then only the rows the reader accepted are loaded — they are the
   only rows in the frame anyway);
2. in one transaction: COPYs the rows into a temporary staging table, runs the checks only
   the database can answer (unknown parent grid, retired code, unknown grid of a staff
   assignment), raises :class:`~gis.errors.ValidationError` with every finding if any
   fails (nothing is written), otherwise records a ``changesets`` row and upserts with
   ``INSERT … SELECT … ON CONFLICT`` — no per-row ORM loop;
3. returns an :class:`ImportReport` (inserted / updated / unchanged counts, problems).

``bind`` may be an ``Engine`` (a transaction is opened and committed) or a ``Connection``
(the work runs in a SAVEPOINT inside the caller's transaction; the caller commits).
Imports upsert: rows missing from the file are left alone (no deletions or retirements).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from boundaries.coding import CodeScheme
from gis.problems import ERROR, RowProblem
from gis.crs import STORAGE_EPSG
from gis.errors import CRSError, StaleVersionError, ValidationError
from gis.progress import Progress, Stopwatch, notify
from store.incident_records import fill_references
from store.grids import assign_points_at_times
from store.session import unit_of_work
from store.sql import geometries

__all__ = [
    "ImportReport",
    "load_grids",
    "load_households",
    "load_incidents",
    "load_staff",
    "load_cameras",
    "roster_token",
    "assign_points",
    "REPAIR_RULES",
]

logger = logging.getLogger(__name__)

#: Warning rules the readers report for a geometry they repaired (``--fix``); counted as ``fixed``.
REPAIR_RULES = frozenset({"made_valid", "dropped_non_polygonal", "dropped_empty_parts", "precision_changed_topology"})

#: Rows per COPY chunk (one progress report per chunk).
COPY_CHUNK = 10_000


@dataclass
class ImportReport:
    """What an import did. Counts are rows; ``problems`` includes the reader's warnings.

    ``rows`` are the rows accepted by the reader, ``rejected`` the rows it refused (loaded
    only with ``skip_invalid``), so ``read = rows + rejected``; ``written = inserted +
    updated``; ``fixed`` counts rows whose geometry was repaired (warnings in
    :data:`REPAIR_RULES`); ``seconds`` is the wall-clock time of the load (the CLI replaces
    it with read + load).
    """

    kind: str
    source: str | None = None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    changeset_id: int | None = None
    assigned: int | None = None
    unassigned: int | None = None
    problems: list[RowProblem] = field(default_factory=list)
    fixed: int = 0
    seconds: float | None = None
    #: Staff imports: assignments ``inserted`` / ``updated`` / ``unchanged`` / ``deleted``.
    assignments: dict[str, int] | None = None
    #: Staff imports: :func:`roster_token` of the file's people after the load (the version it left).
    roster_token: str | None = None

    @property
    def read(self) -> int:
        """Features read from the file: accepted plus rejected rows."""
        return self.rows + self.rejected

    @property
    def written(self) -> int:
        """Rows inserted or updated in the database."""
        return self.inserted + self.updated

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "source": self.source, "read": self.read, "rows": self.rows,
            "written": self.written, "inserted": self.inserted, "updated": self.updated,
            "unchanged": self.unchanged, "fixed": self.fixed, "rejected": self.rejected,
            "changeset_id": self.changeset_id, "assigned": self.assigned, "unassigned": self.unassigned,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "assignments": self.assignments,
            "roster_token": self.roster_token,
            "problems": [p.to_record() for p in self.problems],
        }


def _fixed_rows(problems: Sequence[RowProblem]) -> int:
    return len({p.row for p in problems if p.rule in REPAIR_RULES and p.severity != ERROR})


# ---------------------------------------------------------------------------------------
# plumbing
# ---------------------------------------------------------------------------------------
def _refuse_errors(kind: str, problems: Sequence[RowProblem], *, skip_invalid: bool) -> int:
    errors = [p for p in problems if p.severity == ERROR]
    rows = len({p.row for p in errors})
    if errors and not skip_invalid:
        first = errors[0]
        sample = f"row {first.row}{f' ({first.id})' if first.id else ''}: {first.rule}: {first.message}"
        sample += "".join(f"; row {p.row}: {p.rule}" for p in errors[1:5])
        raise ValidationError(
            f"{rows} {kind} row(s) have errors ({sample}{' …' if len(errors) > 5 else ''}); nothing was loaded. "
            "Fix the file, or load the valid rows only with --skip-invalid",
            list(errors), code="import.rows_invalid", params={"count": rows, "lines": _lines(errors)},
        )
    return rows


def _lines(problems: Sequence[RowProblem], limit: int = 10) -> list[int]:
    """The first spreadsheet lines (row + 2: after the header) of ``problems``, for a page's message."""
    return sorted({p.row + 2 for p in problems if p.row >= 0})[:limit]


def _drop_rejected(conn: Connection, stage: str, report: ImportReport) -> None:
    """Remove from ``stage`` the rows refused after their chunk was staged (duplicate keys across
    chunks); ``report.rows`` becomes the rows left, ``report.rejected`` the rows with errors."""
    bad_rows = sorted({p.row for p in report.problems if p.severity == ERROR})
    if bad_rows:
        conn.execute(text(f"DELETE FROM {stage} WHERE row_no = ANY(:rows)"), {"rows": bad_rows})
    report.rows = int(conn.execute(text(f"SELECT count(*) FROM {stage}")).scalar_one())
    report.rejected = len(bad_rows)


def _refuse_chunked(kind: str, report: ImportReport, *, skip_invalid: bool) -> None:
    """:func:`_refuse_errors` after a chunked read: the refusal also carries every problem (warnings
    too, as ``problems``) and the number of rows without errors (``valid_rows``)."""
    try:
        _refuse_errors(kind, report.problems, skip_invalid=skip_invalid)
    except ValidationError as exc:
        exc.problems = list(report.problems)  # type: ignore[attr-defined]
        exc.valid_rows = report.rows  # type: ignore[attr-defined]
        raise


def _check_frame(frame: gpd.GeoDataFrame, kind: str) -> None:
    if frame.crs is None or frame.crs.to_epsg() != STORAGE_EPSG:
        raise CRSError(f"{kind} must be in EPSG:{STORAGE_EPSG} before loading, got {frame.crs}; use to_storage_crs",
                       code="crs.mismatch")


def _ewkb(geoms: Any) -> list[str | None]:
    arr = np.asarray(geoms, dtype=object)
    with_srid = shapely.set_srid(arr, STORAGE_EPSG)
    return list(shapely.to_wkb(with_srid, hex=True, include_srid=True))


def _text_array(values: Any) -> str:
    items = [] if values is None else list(values)
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in items) + "}"


def _stage(
    conn: Connection, columns: dict[str, str], rows: list[tuple[Any, ...]], *, progress: Progress | None = None
) -> str:
    """Create a temporary staging table and COPY ``rows`` into it (reporting progress per
    :data:`COPY_CHUNK` rows as stage ``"stage"``); returns its name."""
    name = f"stage_{uuid.uuid4().hex[:12]}"
    ddl = ", ".join(f"{col} {sqltype}" for col, sqltype in columns.items())
    conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({ddl}) ON COMMIT DROP"))
    raw = conn.connection.driver_connection
    total = len(rows)
    notify(progress, 0, total, "stage")
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for start in range(0, total, COPY_CHUNK):
                for row in rows[start : start + COPY_CHUNK]:
                    copy.write_row(row)
                notify(progress, min(start + COPY_CHUNK, total), total, "stage")
    conn.execute(text(f"ANALYZE {name}"))
    return name


def _new_changeset(conn: Connection, *, author: str, reason: str, details: dict[str, Any]) -> int:
    return int(
        conn.execute(
            text("INSERT INTO changesets (author, reason, kind, details) VALUES (:a, :r, 'import', CAST(:d AS jsonb)) "
                 "RETURNING id"),
            {"a": author, "r": reason, "d": json.dumps(details, ensure_ascii=False, default=str)},
        ).scalar_one()
    )


def _none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NaT:
        return None
    return value


# ---------------------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------------------
def load_grids(
    bind: Engine | Connection,
    grids: gpd.GeoDataFrame,
    *,
    problems: Sequence[RowProblem] = (),
    author: str = "import",
    reason: str = "grid import",
    source: str | None = None,
    skip_invalid: bool = False,
    scheme: CodeScheme | None = None,
    validate_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert grids (code, level, parent_code, name, MultiPolygon in EPSG:4490) as one changeset.

    The file's grids are staged, checked against the database (unknown parents, retired
    codes, level conflicts), merged over the current plan and the *merged* plan is validated
    as a nested coverage (:func:`boundaries.validation.validate_plan`): an import that would
    leave overlaps, gaps or children outside their parents is refused with every finding.
    Then :func:`store.grids.apply_plan` writes it (new versions for changed grids,
    unchanged grids untouched) and re-assigns the households and incidents in the changed
    region. Grids missing from the file are kept (imports never retire).

    ``progress(done, total, stage)`` is told about the COPY (``"stage"``, rows) and the
    steps (``"grids"``: check, validate, write; 3 in all).

    Raises
    ------
    ValidationError
        Reader errors (without ``skip_invalid``), database conflicts, or coverage errors.
    """
    from store.grids import apply_plan, compare_plans, load_plan, plan_versions
    from boundaries.validation import new_errors, validate_plan

    clock = Stopwatch()
    _check_frame(grids, "grids")
    report = ImportReport("grids", source=source, rows=len(grids), problems=list(problems))
    report.rejected = _refuse_errors("grid", problems, skip_invalid=skip_invalid)
    report.fixed = _fixed_rows(problems)
    rows = [
        (int(i), str(code), int(level), _none(parent), str(name) if _none(name) is not None else str(code), wkb)
        for i, code, level, parent, name, wkb in zip(
            grids.index, grids["code"], grids["level"], grids["parent_code"], grids["name"], _ewkb(grids.geometry.values)
        )
    ]
    with unit_of_work(bind) as conn:
        stage = _stage(
            conn,
            {"row_no": "integer", "code": "text", "level": "smallint", "parent_code": "text", "name": "text",
             "geom": f"geometry(MultiPolygon, {STORAGE_EPSG})"},
            rows,
            progress=progress,
        )
        notify(progress, 0, 3, "grids")
        findings = _grid_findings(conn, stage)
        if findings:
            raise ValidationError(
                f"{len(findings)} grid(s) conflict with the database: "
                + "; ".join(f"{p.key}: {p.message}" for p in findings[:5]) + (" …" if len(findings) > 5 else ""),
                findings, code="import.grids_conflict", params={"count": len(findings), "lines": _lines(findings)},
            )
        conn.execute(text(f"DROP TABLE {stage}"))
        current = load_plan(conn)
        incoming = gpd.GeoDataFrame(
            {"code": grids["code"].astype(str).to_numpy(), "level": grids["level"].astype(int).to_numpy(),
             "parent_code": [_none(p) for p in grids["parent_code"]],
             "name": [str(n) if _none(n) is not None else str(c) for c, n in zip(grids["code"], grids["name"])]},
            geometry=gpd.GeoSeries(np.asarray(grids.geometry.values, dtype=object), crs=STORAGE_EPSG),
            crs=STORAGE_EPSG,
        )
        row_of = dict(zip(incoming["code"], grids.index))
        kept = current.loc[~current["code"].isin(incoming["code"]), ["code", "level", "parent_code", "name", "geometry"]]
        merged = gpd.GeoDataFrame(pd.concat([kept, incoming], ignore_index=True), geometry="geometry", crs=STORAGE_EPSG)
        notify(progress, 1, 3, "grids")
        # The merged plan is validated by the one function `gridgov validate` runs; every error it
        # adds to the stored plan refuses the import, also one that names only a parent (a gap).
        options = dict(validate_options or {})
        coverage = validate_plan(merged, scheme=scheme, **options)
        errors = coverage.errors
        if errors and len(kept):
            errors = new_errors(coverage, validate_plan(current, scheme=scheme, **options))
        if errors:
            problems_found = [_coverage_problem(f, row_of) for f in errors]
            raise ValidationError(
                f"the grids would not form a valid nested coverage ({len(errors)} error(s)); nothing was loaded: "
                + "; ".join(f"row {p.row}: {p.rule} {p.id}" for p in problems_found[:5]) + (" …" if len(errors) > 5 else ""),
                problems_found, code="import.coverage_invalid",
                params={"count": len(errors), "rules": sorted({f.rule for f in errors})},
            )
        notify(progress, 2, 3, "grids")
        changes = compare_plans(current, merged)
        if not changes.empty:  # nothing changed: no (empty) changeset
            applied = apply_plan(conn, merged, base_versions=plan_versions(current), author=author, reason=reason,
                                 kind="import", details={"operation": "import_grids", "source": source}, scheme=scheme)
            changes = applied.changes
            report.changeset_id = applied.changeset_id
        report.inserted = len(changes.added)
        report.updated = len(set(changes.touched) - set(changes.added))
        report.unchanged = len(incoming) - report.inserted - report.updated
        notify(progress, 3, 3, "grids")
    report.seconds = clock.seconds
    logger.info("grid import: %s", {k: v for k, v in report.to_dict().items() if k != "problems"})
    return report


def _coverage_problem(finding: Any, row_of: Mapping[str, int]) -> RowProblem:
    """A coverage finding as a row problem: the file's row of a grid it names, else of a grid of the
    file under the grid it names (a gap names the parent; the row is the child that left it)."""
    codes = list(finding.codes)
    rows = [row_of[c] for c in codes if c in row_of]
    message = finding.message
    if not rows:
        under = sorted((r, c) for c, r in row_of.items() if any(c.startswith(p) and c != p for p in codes))
        if under:
            rows = [under[0][0]]
            listed = ", ".join(f"{c} (row {r})" for r, c in under[:5]) + (" …" if len(under) > 5 else "")
            message += f"; this file changes its grid(s) {listed}"
    return RowProblem(int(rows[0]) if rows else -1, ",".join(codes), finding.rule, message, *(_lonlat(finding.geometry)))


def _lonlat(geometry: Any) -> tuple[float | None, float | None]:
    if geometry is None or geometry.is_empty:
        return None, None
    point = geometry.representative_point()
    return float(point.x), float(point.y)


def _grid_findings(conn: Connection, stage: str) -> list[RowProblem]:
    findings: list[RowProblem] = []
    for row_no, code, parent in conn.execute(text(
        f"""SELECT s.row_no, s.code, s.parent_code FROM {stage} s
            WHERE s.parent_code IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {stage} p WHERE p.code = s.parent_code)
              AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = s.parent_code)
            ORDER BY s.row_no"""
    )):
        findings.append(RowProblem(row_no, code, "unknown_parent",
                                   f"parent grid {parent!r} is neither in the file nor in the database"))
    for row_no, code, status, level, staged_level in conn.execute(text(
        f"""SELECT s.row_no, s.code, c.status, c.level, s.level FROM {stage} s JOIN grid_codes c ON c.code = s.code
            WHERE c.status = 'retired' OR c.level <> s.level ORDER BY s.row_no"""
    )):
        if status == "retired":
            findings.append(RowProblem(row_no, code, "retired_code",
                                       f"code {code!r} was retired and is never reused; allocate a new code"))
        else:
            findings.append(RowProblem(row_no, code, "level_mismatch",
                                       f"code {code!r} is registered at level {level}, the file says {staged_level}"))
    return sorted(findings, key=lambda p: p.row)


# ---------------------------------------------------------------------------------------
# assignment of points to leaf grids
# ---------------------------------------------------------------------------------------
def assign_points(conn: Connection, table: str, *, only_stage: str | None = None, key: str | None = None) -> tuple[int, int]:
    """Assign ``households`` or ``incidents`` (all, or those keyed in ``only_stage``) to their
    leaf grid with :func:`store.grids.reassign_points`; returns
    ``(assigned, unassigned)`` counts of the rows considered.
    """
    from store.grids import reassign_points

    scope = (only_stage, key) if only_stage and key else None
    reassign_points(conn, table, scope=scope)
    condition = f"t.{key} IN (SELECT {key} FROM {only_stage})" if scope else "TRUE"
    assigned, unassigned = conn.execute(text(
        f"SELECT count(*) FILTER (WHERE grid_code IS NOT NULL), count(*) FILTER (WHERE grid_code IS NULL) "
        f"FROM {table} t WHERE {condition}"
    )).one()
    return int(assigned), int(unassigned)


# ---------------------------------------------------------------------------------------
# households and incidents
# ---------------------------------------------------------------------------------------
def _upsert_counts(conn: Connection, sql: str, params: dict[str, Any], total: int) -> tuple[int, int, int]:
    flags = [bool(r[0]) for r in conn.execute(text(sql), params)]
    inserted = sum(flags)
    updated = len(flags) - inserted
    return inserted, updated, total - len(flags)


def _assign_and_record(
    conn: Connection, report: ImportReport, scope: tuple[str, str], *, assign: bool, progress: Progress | None,
    author: str, reason: str,
) -> None:
    """Assign the loaded points (the rows keyed in ``scope``'s table) and record the changeset."""
    if assign:
        notify(progress, 0, 1, "assign")
        report.assigned, report.unassigned = assign_points(conn, report.kind, only_stage=scope[0], key=scope[1])
        notify(progress, 1, 1, "assign")
    if report.inserted or report.updated:
        report.changeset_id = _new_changeset(conn, author=author, reason=reason, details={
            "operation": f"import_{report.kind}", "source": report.source, "inserted": report.inserted,
            "updated": report.updated,
        })


#: Staging columns of a household import (one row per accepted file row; ``row_no`` = the file row).
_HOUSEHOLD_STAGE = {
    "row_no": "bigint", "household_key": "text", "address": "text", "building_no": "text", "house_no": "text",
    "members": "smallint", "special_kinds": "text[]", "lon": "double precision", "lat": "double precision",
    "grid_code": "text",
}


def _point_xy(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (EPSG:4490 degrees) of a frame of Points; NaN for missing or empty ones."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.any():
        x[ok] = shapely.get_x(geoms[ok])
        y[ok] = shapely.get_y(geoms[ok])
    return x, y


def _chunks_of(frames: Any, problems: Sequence[RowProblem]) -> Any:
    """``frames`` as chunks: a frame (with its problems) is one chunk; chunk iterables pass through."""
    if isinstance(frames, pd.DataFrame):
        return [(frames, list(problems))]
    return frames


def _final_problems(chunks: Any) -> list[RowProblem]:
    """Problems a chunked reader can only tell after the last chunk (duplicate keys across chunks)."""
    final = getattr(chunks, "final_problems", None)
    return list(final()) if callable(final) else []


def load_households(
    bind: Engine | Connection,
    households: gpd.GeoDataFrame | Any,
    *,
    problems: Sequence[RowProblem] = (),
    author: str = "import",
    reason: str = "household import",
    source: str | None = None,
    skip_invalid: bool = False,
    assign: bool = True,
    progress: Progress | None = None,
    total: int | None = None,
) -> ImportReport:
    """Upsert households on ``household_key``, each (``assign``) in its leaf grid, as one changeset.

    ``households`` is a frame from :func:`etl.readers.read_households` (with ``problems``), or the
    chunks of :func:`etl.readers.iter_households` — an iterable of ``(frame, problems)`` read,
    validated and transformed one chunk at a time, whose ``final_problems()`` (if it has one) adds
    what only the whole file tells (duplicate keys across chunks). In one transaction, per chunk:
    the points are assigned with the kept leaf index (:func:`store.grids.leaf_coverage`) and the
    accepted rows COPYed into a staging table (progress ``"read"`` per chunk, in rows); then, when
    no row has an error (or with ``skip_invalid``, without the rejected rows), one checked INSERT
    … ON CONFLICT writes them with their grid codes: the statement also evaluates
    :data:`store.grids.ASSIGNMENT_MISMATCH` on every row and writes nothing when one code does not
    cover its point. Memory is one chunk plus the problems.

    Raises
    ------
    ValidationError
        Reader errors (without ``skip_invalid``); nothing is written.
    """
    from store.grids import leaf_coverage
    from store.sql import copy_columns, create_stage, text_array_literals

    clock = Stopwatch()
    chunks = _chunks_of(households, problems)
    report = ImportReport("households", source=source)
    with unit_of_work(bind) as conn:
        stage = create_stage(conn, _HOUSEHOLD_STAGE)
        coverage = leaf_coverage(conn) if assign else None
        done = 0
        total = total if total is not None else (len(households) if isinstance(households, pd.DataFrame) else None)
        notify(progress, 0, total, "read")
        for frame, found in chunks:
            _check_frame(frame, "households")
            report.problems.extend(found)
            report.rows += len(frame)
            x, y = _point_xy(frame)
            codes = coverage.index.assign(xy=(x, y)) if coverage is not None else np.full(len(frame), None, object)
            copy_columns(conn, stage, {
                "row_no": np.asarray(frame.index, dtype=np.int64),
                "household_key": frame["household_key"].astype(object).to_numpy(),
                "address": np.asarray([a or "" for a in frame["address"].to_numpy(dtype=object)], dtype=object),
                "building_no": _objects(frame["building_no"]), "house_no": _objects(frame["house_no"]),
                "members": frame["members"].to_numpy(dtype=np.int16),
                "special_kinds": text_array_literals(frame["special_kinds"].to_numpy(dtype=object)),
                "lon": x, "lat": y, "grid_code": codes,
            })
            done += len(frame)
            notify(progress, done, max(done, total or 0), "read")
        report.problems.extend(_final_problems(chunks))
        _drop_rejected(conn, stage, report)
        _refuse_chunked("household", report, skip_invalid=skip_invalid)
        report.fixed = _fixed_rows(report.problems)
        conn.execute(text(f"ANALYZE {stage}"))
        notify(progress, 0, 1, "write")
        report.inserted, report.updated, report.unchanged = _write_households(conn, stage, assign=assign,
                                                                              total=report.rows)
        notify(progress, 1, 1, "write")
        if assign:
            report.assigned, report.unassigned = (int(v) for v in conn.execute(text(
                f"SELECT count(grid_code), count(*) - count(grid_code) FROM {stage}")).one())
        if report.inserted or report.updated:
            report.changeset_id = _new_changeset(conn, author=author, reason=reason, details={
                "operation": "import_households", "source": source, "inserted": report.inserted,
                "updated": report.updated,
            })
        conn.execute(text(f"DROP TABLE {stage}"))
    report.seconds = clock.seconds
    return report


def _objects(values: Any) -> np.ndarray:
    """Text column values as an object array with ``None`` for missing (NaN, NA, None)."""
    array = np.asarray(values, dtype=object)
    missing = pd.isna(array)
    if missing.any():
        array = array.copy()
        array[missing] = None
    return array


def _write_households(conn: Connection, stage: str, *, assign: bool, total: int) -> tuple[int, int, int]:
    """The one checked upsert of staged households: ``(inserted, updated, unchanged)``.

    Every staged code is checked in the same statement (:data:`store.grids.ASSIGNMENT_MISMATCH`);
    when one fails nothing is written and :class:`~gis.errors.GridGovError` names the row (a
    disagreement between the assignment rule and the database is a bug, not a user's mistake).
    """
    from gis.errors import GridGovError
    from store.grids import ASSIGNMENT_MISMATCH

    geom = f"ST_SetSRID(ST_MakePoint(s.lon, s.lat), {STORAGE_EPSG})"
    check = ASSIGNMENT_MISMATCH.format(code="s.grid_code", geom="s.geom") if assign else "FALSE"
    grid_insert = ", grid_code" if assign else ""
    grid_set = ", grid_code = EXCLUDED.grid_code" if assign else ""
    grid_differs = " OR h.grid_code IS DISTINCT FROM EXCLUDED.grid_code" if assign else ""
    bad, inserted, written = conn.execute(text(f"""
        WITH staged AS MATERIALIZED (
            SELECT s.row_no, s.household_key, s.address, s.building_no, s.house_no, s.members, s.special_kinds,
                   s.grid_code, {geom} AS geom
            FROM {stage} s),
        wrong AS (SELECT s.row_no FROM staged s WHERE {check} LIMIT 1),
        written AS (
            INSERT INTO households AS h (household_key, address, building_no, house_no, members, special_kinds, geom
                                         {grid_insert})
            SELECT household_key, address, building_no, house_no, members, special_kinds, geom {grid_insert}
            FROM staged WHERE NOT EXISTS (SELECT 1 FROM wrong)
            ON CONFLICT (household_key) DO UPDATE SET address = EXCLUDED.address, building_no = EXCLUDED.building_no,
                house_no = EXCLUDED.house_no, members = EXCLUDED.members, special_kinds = EXCLUDED.special_kinds,
                geom = EXCLUDED.geom, updated_at = now() {grid_set}
            WHERE (h.address, h.building_no, h.house_no, h.members, h.special_kinds)
                  IS DISTINCT FROM (EXCLUDED.address, EXCLUDED.building_no, EXCLUDED.house_no, EXCLUDED.members,
                                    EXCLUDED.special_kinds)
               OR NOT ST_Equals(h.geom, EXCLUDED.geom){grid_differs}
            RETURNING (xmax = 0) AS inserted)
        SELECT (SELECT row_no FROM wrong), count(*) FILTER (WHERE inserted), count(*) FROM written""")).one()
    if bad is not None:
        raise GridGovError(f"internal error: the grid assigned to household row {bad} does not cover its point "
                           "(the assignment rule and the database disagree); nothing was written")
    return int(inserted), int(written) - int(inserted), total - int(written)


def load_incidents(
    bind: Engine | Connection,
    incidents: gpd.GeoDataFrame | Any,
    *,
    problems: Sequence[RowProblem] = (),
    author: str = "import",
    reason: str = "incident import",
    source: str | None = None,
    skip_invalid: bool = False,
    assign: bool = True,
    progress: Progress | None = None,
    total: int | None = None,
) -> ImportReport:
    """Upsert incidents on ``incident_key`` (rows without a key are inserted) and assign grids.

    ``incidents`` is a frame from :func:`etl.readers.read_incidents` (with ``problems``), or the
    chunks of :func:`etl.readers.iter_incidents` (as for :func:`load_households`): each chunk is
    COPYed into a staging table as it is read (progress ``"read"``, in rows); after the last one,
    rows refused by the whole file (duplicate keys across chunks) are dropped, and nothing is
    written when a row has an error (unless ``skip_invalid``). Memory is one chunk plus the
    problems and the ids of the written incidents.
    """
    clock = Stopwatch()
    chunks = _chunks_of(incidents, problems)
    report = ImportReport("incidents", source=source)

    def stamp(value: Any) -> str | None:
        return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()

    with unit_of_work(bind) as conn:
        stage = f"stage_{uuid.uuid4().hex[:12]}"
        conn.execute(text(
            f"CREATE TEMPORARY TABLE {stage} (stage_id bigserial, row_no bigint, incident_key text, "
            "reported_at timestamptz, category text, description text, status text, address text, "
            "closed_at timestamptz, disposition text, deadline timestamptz, "
            f"geom geometry(Point, {STORAGE_EPSG})) ON COMMIT DROP"))
        raw = conn.connection.driver_connection
        done = 0
        total = total if total is not None else (len(incidents) if isinstance(incidents, pd.DataFrame) else None)
        notify(progress, 0, total, "read")
        for frame, found in chunks:
            _check_frame(frame, "incidents")
            report.problems.extend(found)
            times = pd.to_datetime(frame["reported_at"])
            columns = frame.reindex(columns=["closed_at", "disposition", "deadline"])
            with raw.cursor() as cursor, cursor.copy(
                    f"COPY {stage} (row_no, incident_key, reported_at, category, description, status, address, "
                    "closed_at, disposition, deadline, geom) FROM STDIN") as copy:
                for row in zip(
                    (int(i) for i in frame.index), (_none(k) for k in frame["incident_key"]),
                    (t.isoformat() for t in times), (str(c) for c in frame["category"]),
                    (d or "" for d in frame["description"]), frame["status"], (a or "" for a in frame["address"]),
                    (stamp(v) for v in columns["closed_at"]), (_none(v) for v in columns["disposition"]),
                    (stamp(v) for v in columns["deadline"]), _ewkb(frame.geometry.values),
                ):
                    copy.write_row(row)
            done += len(frame)
            notify(progress, done, max(done, total or 0), "read")
        report.problems.extend(_final_problems(chunks))
        _drop_rejected(conn, stage, report)
        _refuse_chunked("incident", report, skip_invalid=skip_invalid)
        conn.execute(text(f"ANALYZE {stage}"))
        before = dict(conn.execute(text(
            f"SELECT i.incident_key, i.status FROM incidents i JOIN {stage} s ON s.incident_key = i.incident_key"
        )).all())
        # An imported closed incident carries its closing time (the reader refuses one without);
        # a disposition (and the deadline it gives) is kept when the file has one.
        keyed = conn.execute(text(f"""
            INSERT INTO incidents AS i (incident_key, reported_at, category, description, status, address,
                                        closed_at, disposition, deadline, geom)
            SELECT incident_key, reported_at, category, description, status, address, closed_at, disposition,
                   deadline, geom FROM {stage}
            WHERE incident_key IS NOT NULL
            ON CONFLICT (incident_key) DO UPDATE SET reported_at = EXCLUDED.reported_at, category = EXCLUDED.category,
                description = EXCLUDED.description, status = EXCLUDED.status, address = EXCLUDED.address,
                closed_at = EXCLUDED.closed_at, disposition = coalesce(EXCLUDED.disposition, i.disposition),
                deadline = coalesce(EXCLUDED.deadline, i.deadline),
                geom = EXCLUDED.geom, version = i.version + 1, updated_at = now()
            WHERE (i.reported_at, i.category, i.description, i.status, i.address, i.closed_at)
                  IS DISTINCT FROM (EXCLUDED.reported_at, EXCLUDED.category, EXCLUDED.description, EXCLUDED.status,
                                    EXCLUDED.address, EXCLUDED.closed_at)
               OR (EXCLUDED.disposition IS NOT NULL AND EXCLUDED.disposition IS DISTINCT FROM i.disposition)
               OR (EXCLUDED.deadline IS NOT NULL AND EXCLUDED.deadline IS DISTINCT FROM i.deadline)
               OR NOT ST_Equals(i.geom, EXCLUDED.geom)
            RETURNING i.id, i.incident_key, i.status, i.reported_at, i.closed_at, (xmax = 0) AS inserted""")).all()
        keyed_inserted = sum(1 for r in keyed if r.inserted)
        keyed_updated = len(keyed) - keyed_inserted
        keyed_unchanged = int(conn.execute(text(
            f"SELECT count(*) FROM {stage} WHERE incident_key IS NOT NULL")).scalar_one()) - len(keyed)
        unkeyed = conn.execute(text(f"""
            INSERT INTO incidents (reported_at, category, description, status, address, closed_at, disposition,
                                   deadline, geom)
            SELECT reported_at, category, description, status, address, closed_at, disposition, deadline, geom
            FROM {stage} WHERE incident_key IS NULL ORDER BY stage_id
            RETURNING id, status, reported_at, closed_at""")).all()
        # Every incident keeps a consistent event log: an 'import' event for each new incident
        # (→ its imported status, at the report time) and for each imported change of status. A
        # closed incident's history is reported (at the report time) then closed (at its closing
        # time), so the log says when it was closed as the incident row does.
        now = dt.datetime.now(dt.timezone.utc)
        events: list[dict[str, Any]] = []
        for r in [*(k for k in keyed if k.inserted), *unkeyed]:
            if r.status == "closed":
                events.append({"id": r.id, "at": r.reported_at, "action": "import", "from": None, "to": "reported"})
                events.append({"id": r.id, "at": r.closed_at, "action": "close", "from": "reported", "to": "closed"})
            else:
                events.append({"id": r.id, "at": r.reported_at, "action": "import", "from": None, "to": r.status})
        for r in keyed:
            old = before.get(r.incident_key)
            if r.inserted or old == r.status:
                continue
            if r.status == "closed":
                events.append({"id": r.id, "at": r.closed_at, "action": "close", "from": old, "to": "closed"})
            else:
                events.append({"id": r.id, "at": now, "action": "import", "from": old, "to": r.status})
        if events:
            conn.execute(
                text("INSERT INTO incident_events (incident_id, at, action, actor, from_status, to_status, note) "
                     "VALUES (:id, :at, :action, :actor, :from, :to, :note)"),
                [{**e, "actor": author, "note": f"imported from {source or 'a file'}"} for e in events],
            )
        new_ids = [r.id for r in keyed if r.inserted] + [r.id for r in unkeyed]
        # each new (or changed, if it had none) incident gets its public reference code
        fill_references(conn, [r.id for r in keyed] + [r.id for r in unkeyed])
        if new_ids:
            # The grid valid when each incident was reported (history keeps it; the current
            # grid is assigned below and may differ after later boundary edits).
            # The one rule (store.grids.assign_points_at_times), once per plan period.
            located = conn.execute(
                text("SELECT id, reported_at, ST_AsBinary(geom) FROM incidents WHERE id = ANY(:ids) ORDER BY id"),
                {"ids": new_ids},
            ).all()
            at_report = assign_points_at_times(
                conn, geometries([r[2] for r in located]), [r[1] for r in located]
            )
            pairs = [(int(r[0]), c) for r, c in zip(located, at_report) if c is not None]
            if pairs:
                conn.execute(
                    text("UPDATE incidents i SET grid_code_at_report = v.code "
                         "FROM unnest(CAST(:ids AS bigint[]), CAST(:codes AS text[])) AS v(id, code) WHERE i.id = v.id"),
                    {"ids": [p[0] for p in pairs], "codes": [p[1] for p in pairs]},
                )
        report.inserted = keyed_inserted + len(unkeyed)
        report.updated = keyed_updated
        report.unchanged = keyed_unchanged
        # Every row of the file, keyed or not, by id: assigned in one pass.
        conn.execute(text(f"CREATE TEMPORARY TABLE {stage}_ids ON COMMIT DROP AS "
                          f"SELECT i.id FROM incidents i JOIN {stage} s ON s.incident_key = i.incident_key"))
        conn.execute(text(f"INSERT INTO {stage}_ids (id) SELECT unnest(CAST(:ids AS bigint[]))"),
                     {"ids": [r.id for r in unkeyed]})
        _assign_and_record(conn, report, (f"{stage}_ids", "id"), assign=assign, progress=progress,
                           author=author, reason=reason)
        conn.execute(text(f"DROP TABLE {stage}_ids"))
        conn.execute(text(f"DROP TABLE {stage}"))
    report.seconds = clock.seconds
    return report


# ---------------------------------------------------------------------------------------
# cameras (雪亮工程)
# ---------------------------------------------------------------------------------------
def load_cameras(
    bind: Engine | Connection,
    cameras: gpd.GeoDataFrame,
    *,
    problems: Sequence[RowProblem] = (),
    author: str = "import",
    reason: str = "camera import",
    source: str | None = None,
    skip_invalid: bool = False,
    assign: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert cameras on ``camera_key`` and (``assign``) put each in its micro-grid by the one rule.

    A stream URL given in the file replaces the stored one; an empty cell leaves it. The stream URL
    is written without being read back (the application role may not read it: it carries
    credentials), so a row whose only change is its stream URL counts as unchanged.
    """
    clock = Stopwatch()
    _check_frame(cameras, "cameras")
    report = ImportReport("cameras", source=source, rows=len(cameras), problems=list(problems))
    report.rejected = _refuse_errors("camera", problems, skip_invalid=skip_invalid)
    rows = [
        (str(k), str(n), str(t), str(st), _none(u), w)
        for k, n, t, st, u, w in zip(cameras["camera_key"], cameras["name"], cameras["type"], cameras["status"],
                                     cameras["stream_url"], _ewkb(cameras.geometry.values))
    ]
    with unit_of_work(bind) as conn:
        stage = _stage(conn, {"camera_key": "text", "name": "text", "type": "text", "status": "text",
                              "stream_url": "text", "geom": f"geometry(Point, {STORAGE_EPSG})"}, rows, progress=progress)
        report.inserted, report.updated, report.unchanged = _upsert_counts(conn, f"""
            INSERT INTO cameras AS c (camera_key, name, type, status, geom)
            SELECT camera_key, name, type, status, geom FROM {stage}
            ON CONFLICT (camera_key) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, status = EXCLUDED.status,
                geom = EXCLUDED.geom, updated_at = now()
            WHERE (c.name, c.type, c.status) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.type, EXCLUDED.status)
               OR NOT ST_Equals(c.geom, EXCLUDED.geom)
            RETURNING (created_at = updated_at)""", {}, len(rows))  # xmax: no column privilege reaches it
        conn.execute(text(f"UPDATE cameras c SET stream_url = s.stream_url FROM {stage} s "
                          "WHERE c.camera_key = s.camera_key AND s.stream_url IS NOT NULL"))
        _assign_and_record(conn, report, (stage, "camera_key"), assign=assign, progress=progress,
                           author=author, reason=reason)
        conn.execute(text(f"DROP TABLE {stage}"))
    report.seconds = clock.seconds
    return report


# ---------------------------------------------------------------------------------------
# staff
# ---------------------------------------------------------------------------------------
def _local_today() -> dt.date:
    from zoneinfo import ZoneInfo

    from gis.settings import get_settings

    return dt.datetime.now(ZoneInfo(get_settings().timezone)).date()


def _staff_findings(conn: Connection, stage: str, today: dt.date) -> list[RowProblem]:
    """Assignments whose grid cannot take them: unknown codes; open assignments on grids that are not active."""
    findings = []
    for row_no, key, code, status, is_open in conn.execute(text(
        f"""SELECT s.row_no, s.staff_key, s.grid_code, c.status, (s.end_date IS NULL OR s.end_date >= :today)
            FROM {stage} s LEFT JOIN grid_codes c ON c.code = s.grid_code LEFT JOIN grids g ON g.code = s.grid_code
            WHERE s.grid_code IS NOT NULL
              AND (c.code IS NULL OR (g.code IS NULL AND (s.end_date IS NULL OR s.end_date >= :today)))
            ORDER BY s.row_no"""
    ), {"today": today}):
        if status is None:
            findings.append(RowProblem(row_no, key, "unknown_grid", f"grid {code!r} does not exist in the database"))
        else:
            findings.append(RowProblem(
                row_no, key, "inactive_grid",
                f"grid {code!r} is {status}, not an active grid: an open assignment needs an active grid "
                "(give the row an end_date, or assign the grid that replaced it)"))
    return findings


_ROSTER_TOKEN_SQL = """
    SELECT md5(coalesce(string_agg(line, '|' ORDER BY line), '')) FROM (
        SELECT concat_ws('/', s.staff_key, s.name, s.phone, s.organisation) AS line
        FROM staff s WHERE s.staff_key = ANY(:keys)
        UNION ALL
        SELECT concat_ws('/', s.staff_key, a.grid_code, a.role, a.start_date, a.end_date, a.building_no)
        FROM staff s JOIN staff_assignments a ON a.staff_id = s.id WHERE s.staff_key = ANY(:keys)
    ) AS rows
"""


def roster_token(db: Any, staff_keys: Sequence[str]) -> str:
    """The version of the roster of ``staff_keys``: an md5 of their staff rows and assignments.

    What a staff import was based on (the CLI reads it when it starts, the roster page when it
    shows the preview); :func:`load_staff` refuses to write when it changed since.
    """
    keys = sorted({str(k) for k in staff_keys if k is not None})
    return str(db.execute(text(_ROSTER_TOKEN_SQL), {"keys": keys}).scalar_one())


def _check_roster_token(conn: Connection, keys: list[str], expected: str) -> None:
    """Lock the file's people (an advisory lock per staff key, in key order, also for people not
    stored yet) and refuse when their roster is no longer at ``expected``."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridgov.staff:' || k)) "
                      "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"), {"keys": keys})
    current = roster_token(conn, keys)
    if current != expected:
        shown = ", ".join(keys[:5]) + (" …" if len(keys) > 5 else "")
        raise StaleVersionError(
            f"the roster of staff {shown} was changed by someone else since you read it (version {expected[:8]}, "
            f"now {current[:8]}); nothing was saved — read it again (gridgov export staff) and redo the change",
            code="roster.stale", params={"staff": keys[:5]},
        )


def load_staff(
    bind: Engine | Connection,
    staff: pd.DataFrame,
    *,
    problems: Sequence[RowProblem] = (),
    author: str = "import",
    reason: str = "staff import",
    source: str | None = None,
    skip_invalid: bool = False,
    start_date: dt.date | None = None,
    replace_assignments: bool = False,
    expected_roster: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """The one staff import: upsert people on ``staff_key`` and their assignments, as one changeset.

    ``expected_roster`` is the :func:`roster_token` of the file's people the change was based on
    (``None``: the roster read inside this transaction): when another write changed them since,
    :class:`~gis.errors.StaleVersionError` and nothing is written.

    ``staff`` is a roster frame from :func:`etl.readers.read_staff` (one row per assignment,
    :data:`governance.roster.ROSTER_COLUMNS`, already checked by
    :func:`governance.roster.check_roster`). In one transaction:

    * every assignment's grid is checked: an open assignment (no end date, or one not yet
      passed) needs an active grid, an ended one a known code; any failure refuses the file;
    * people are upserted (name, phone, organisation; the first non-empty value of their rows);
    * an assignment with a ``start_date`` matches the one with the same person, grid, role and
      start (its end date and building are updated when they differ); one without a start
      date matches the same person, grid and role still open, else starts on ``start_date``
      (default: today in ``GRIDGOV_TIMEZONE``); unmatched ones are inserted;
    * with ``replace_assignments`` the other assignments of the people in the file are deleted;
    * a ``changesets`` row (kind ``import``) is written only when something changed.

    Re-loading the table :func:`store.governance.staff_table` returns changes nothing.
    ``inserted``/``updated``/``unchanged`` count people; ``assignments`` counts assignments.

    Raises
    ------
    ValidationError
        Reader errors (without ``skip_invalid``), or assignments whose grid cannot take them.
    """
    clock = Stopwatch()
    report = ImportReport("staff", source=source, rows=len(staff), problems=list(problems))
    report.rejected = _refuse_errors("staff", problems, skip_invalid=skip_invalid)
    today = start_date or _local_today()
    frame = staff.reindex(columns=["staff_key", "name", "phone", "organisation", "grid_code", "role", "start_date",
                                   "end_date", "building_no"])
    rows = [
        (int(i), str(k), str(n), _none(p), _none(o), _none(g), _none(r), _none(a), _none(b), _none(bn))
        for i, k, n, p, o, g, r, a, b, bn in zip(
            frame.index, frame["staff_key"], frame["name"], frame["phone"], frame["organisation"],
            frame["grid_code"], frame["role"], frame["start_date"], frame["end_date"], frame["building_no"],
        )
    ]
    people = len({r[1] for r in rows})
    keys = sorted({r[1] for r in rows})
    with unit_of_work(bind) as conn:
        _check_roster_token(conn, keys, roster_token(conn, keys) if expected_roster is None else expected_roster)
        stage = _stage(
            conn,
            {"row_no": "integer", "staff_key": "text", "name": "text", "phone": "text", "organisation": "text",
             "grid_code": "text", "role": "text", "start_date": "date", "end_date": "date", "building_no": "text"},
            rows,
            progress=progress,
        )
        findings = _staff_findings(conn, stage, today)
        if findings:
            raise ValidationError(
                f"{len(findings)} staff row(s) name grids that cannot take them; nothing was loaded: "
                + "; ".join(f"row {p.row}: {p.message}" for p in findings[:5]) + (" …" if len(findings) > 5 else ""),
                findings, code="roster.grids_invalid", params={"count": len(findings), "lines": _lines(findings)},
            )
        report.inserted, report.updated, report.unchanged = _upsert_counts(conn, f"""
            INSERT INTO staff AS t (staff_key, name, phone, organisation)
            SELECT staff_key, (array_agg(name ORDER BY row_no))[1],
                   (array_agg(phone ORDER BY row_no) FILTER (WHERE phone IS NOT NULL))[1],
                   (array_agg(organisation ORDER BY row_no) FILTER (WHERE organisation IS NOT NULL))[1]
            FROM {stage} GROUP BY staff_key
            ON CONFLICT (staff_key) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone,
                organisation = EXCLUDED.organisation
            WHERE (t.name, t.phone, t.organisation) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.phone, EXCLUDED.organisation)
            RETURNING (xmax = 0)""", {}, people)
        wanted = f"{stage}_a"
        conn.execute(text(f"""
            CREATE TEMPORARY TABLE {wanted} ON COMMIT DROP AS
            SELECT DISTINCT ON (t.id, s.grid_code, s.role, s.start_date)
                   t.id AS staff_id, s.grid_code, s.role, s.start_date, s.end_date, s.building_no,
                   CAST(NULL AS bigint) AS match_id
            FROM {stage} s JOIN staff t ON t.staff_key = s.staff_key
            WHERE s.role IS NOT NULL AND s.grid_code IS NOT NULL
            ORDER BY t.id, s.grid_code, s.role, s.start_date, s.row_no"""))
        conn.execute(text(f"""
            UPDATE {wanted} w SET match_id = (
                SELECT min(a.id) FROM staff_assignments a
                WHERE a.staff_id = w.staff_id AND a.grid_code = w.grid_code AND a.role = w.role
                  AND CASE WHEN w.start_date IS NOT NULL THEN a.start_date = w.start_date
                           ELSE a.end_date IS NULL OR a.end_date >= :today END)"""), {"today": today})
        updated = conn.execute(text(f"""
            UPDATE staff_assignments a SET end_date = w.end_date, building_no = w.building_no
            FROM {wanted} w
            WHERE a.id = w.match_id AND w.start_date IS NOT NULL
              AND (a.end_date, a.building_no) IS DISTINCT FROM (w.end_date, w.building_no)""")).rowcount
        deleted = 0
        if replace_assignments:
            deleted = conn.execute(text(f"""
                DELETE FROM staff_assignments a
                WHERE a.staff_id IN (SELECT t.id FROM staff t JOIN {stage} s ON s.staff_key = t.staff_key)
                  AND a.id NOT IN (SELECT match_id FROM {wanted} WHERE match_id IS NOT NULL)""")).rowcount
        inserted = conn.execute(text(f"""
            INSERT INTO staff_assignments (staff_id, grid_code, role, start_date, end_date, building_no)
            SELECT staff_id, grid_code, role, coalesce(start_date, :today), end_date, building_no
            FROM {wanted} WHERE match_id IS NULL"""), {"today": today}).rowcount
        matched = conn.execute(text(f"SELECT count(*) FROM {wanted} WHERE match_id IS NOT NULL")).scalar_one()
        report.assignments = {"inserted": int(inserted), "updated": int(updated),
                              "unchanged": int(matched) - int(updated), "deleted": int(deleted)}
        if report.inserted or report.updated or inserted or updated or deleted:
            report.changeset_id = _new_changeset(conn, author=author, reason=reason, details={
                "operation": "import_staff", "source": source, "inserted": report.inserted, "updated": report.updated,
                "assignments": report.assignments,
            })
        conn.execute(text(f"DROP TABLE {wanted}"))
        conn.execute(text(f"DROP TABLE {stage}"))
        report.roster_token = roster_token(conn, keys)
    report.seconds = clock.seconds
    logger.info("staff import: %s", {k: v for k, v in report.to_dict().items() if k != "problems"})
    return report
