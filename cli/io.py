"""``gridgov import …``, ``gridgov export …`` and ``gridgov assign``: files in and out.

Registered on the main app by :func:`register` (called from :mod:`cli.main`). Every import
reads and validates the whole file first, prints every row problem (or writes them with
``--report FILE.csv|.json``), and then loads in one transaction — or loads nothing.
``--dry-run`` does the whole load, database checks included, and rolls it back.
Exit codes: 0 loaded; 1 validation failed (nothing loaded) or ``--dry-run`` found errors;
2 usage/environment errors (a malformed ``--region`` or ``--as-of`` among them).

``gridgov import staff`` is the one staff import (``gridgov roster import`` is the same
command): :func:`etl.readers.read_staff` → :func:`governance.roster.check_roster` →
:func:`store.bulk.load_staff`; ``gridgov export staff --out FILE`` writes a file it reads
back unchanged.

Long imports draw progress bars on stderr (only on a terminal, never with ``--json``) and end
with a summary line: read, written, fixed, rejected, unassigned, seconds (all also in
``--json``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

from cli.main import AS_OF_HELP, JSON_HELP, current_actor, default_actor, emit, fail, open_engine, parse_region_option
from etl.transform import problems_frame, write_problem_report
from gis.problems import ERROR, RowProblem
from gis.errors import ValidationError
from gis.progress import Progress, Stopwatch, notify, tqdm_progress

__all__ = ["register", "import_app", "import_staff"]

logger = logging.getLogger(__name__)

import_app = typer.Typer(help="Import grids, households, incidents, staff or cameras from a file.", no_args_is_help=True)

_PATH = typer.Argument(..., help="File: .shp .geojson .gpkg .kml .parquet .csv .xlsx ...", show_default=False)
_CRS_HELP = "CRS of the coordinates when the file has none or it is wrong: EPSG code, gcj02 (Amap/Tencent), bd09 (Baidu)."
_ENC_HELP = "Text encoding of the attributes (e.g. gbk) when it is not detected correctly."

_LAYER = typer.Option(None, help="Layer of a GeoPackage/KML/OSM file.")
_CRS = typer.Option(None, help=_CRS_HELP)
_ENCODING = typer.Option(None, help=_ENC_HELP)
_SKIP_INVALID = typer.Option(False, "--skip-invalid", help="Load the valid rows even if others have errors.")
_DRY_RUN = typer.Option(False, "--dry-run", help="Validate and load inside a transaction that is rolled back.")
_REPORT = typer.Option(None, "--report", help="Write every problem to FILE.csv or FILE.json.")
_REASON = typer.Option(None, help="Reason recorded in the changeset (default: '<kind> import').")
_REGION = typer.Option(
    None, "--region", metavar="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX",
    help="Region (degrees) the coordinates of this file are checked against (default: the GRIDGOV_REGION setting, "
         "China's bounds).")
_JSON = typer.Option(False, "--json", help=JSON_HELP)


def _region_options(region: str | None) -> dict[str, Any]:
    """``{"region": …}`` for a reader when ``--region`` is given (else the reader's default: the setting)."""
    parsed = parse_region_option(region)
    return {} if parsed is None else {"region": parsed}


def _print_problems(problems: list[RowProblem], *, limit: int = 50) -> None:
    if not problems:
        return
    from rich.console import Console
    from rich.table import Table

    import heapq

    table = Table("row", "id", "rule", "message", "lon", "lat", title=f"{len(problems)} problem(s)", box=None)
    first = heapq.nsmallest(limit, problems, key=lambda p: (p.row, p.rule))  # linear: not a frame of all of them
    for record in problems_frame(first).to_dict(orient="records"):
        style = "red" if record["severity"] == ERROR else "yellow"
        table.add_row(
            str(record["row"]), str(record["id"] or ""), record["rule"], record["message"],
            "" if record["lon"] != record["lon"] or record["lon"] is None else f"{record['lon']:.6f}",
            "" if record["lat"] != record["lat"] or record["lat"] is None else f"{record['lat']:.6f}",
            style=style,
        )
    console = Console(stderr=True)
    console.print(table)
    if len(problems) > limit:
        console.print(f"… {len(problems) - limit} more; write them all with --report FILE.csv", markup=False)


_STAGE_LABELS = {"read": "读取 read", "stage": "暂存 COPY", "grids": "校验写入 validate+write",
                 "assign": "落格 assign", "write": "写入 write"}


def _run(
    kind: str,
    source: Path,
    *,
    read: Callable[[], tuple[Any, list[RowProblem]]],
    report_path: Optional[Path],
    dry_run: bool,
    as_json: bool,
    **load_options: Any,
) -> None:
    """Read (timed, with progress), then :func:`_finish`; the summary's seconds cover both.

    A ``reason`` of ``None`` leaves the loader's default (``"<kind> import"``).
    """
    if load_options.get("reason") is None:
        load_options.pop("reason", None)
    clock = Stopwatch()
    with tqdm_progress(enabled=False if as_json else None, labels=_STAGE_LABELS, min_total=2000) as progress:
        notify(progress, 0, None, "read")
        frame, problems = read()
        notify(progress, len(frame), len(frame), "read")
        _finish(kind, source, frame, problems, report_path=report_path, dry_run=dry_run,
                as_json=as_json, clock=clock, progress=progress, **load_options)


def _run_chunks(
    kind: str,
    source: Path,
    *,
    chunks: Callable[[], Any],
    report_path: Optional[Path],
    dry_run: bool,
    as_json: bool,
    **load_options: Any,
) -> None:
    """Read, validate, transform, assign and COPY one chunk at a time, then write, in one transaction.

    The progress bar moves per chunk (``read``: rows read, validated and staged). Every problem of
    the file is reported as with :func:`_run`; nothing is written when a row has an error (unless
    ``--skip-invalid``) or on ``--dry-run``.
    """
    if load_options.get("reason") is None:
        load_options.pop("reason", None)
    load_options.pop("author", None)
    clock = Stopwatch()
    from services.imports import load_rows

    with tqdm_progress(enabled=False if as_json else None, labels=_STAGE_LABELS, min_total=2000) as progress:
        rows = chunks()
        try:
            report = load_rows(open_engine(), current_actor(), kind, rows, (), dry_run=dry_run, source=source.name,
                               progress=progress, total=rows.total, **load_options)
        except ValidationError as exc:
            problems = list(getattr(exc, "problems", None) or exc.findings)
            if not as_json:
                _print_problems(problems)
            if report_path:
                write_problem_report(problems, report_path)
            if dry_run:
                errors = sum(1 for p in problems if p.severity == ERROR)
                summary = {"kind": kind, "source": source.name, "valid_rows": getattr(exc, "valid_rows", None),
                           "problems": len(problems), "errors": errors, "loaded": False,
                           "seconds": round(clock.seconds, 3)}
                emit(summary, as_json=as_json, render=lambda d: typer.echo(
                    f"{kind}: {d['valid_rows']} valid rows, {d['errors']} error(s), {d['problems']} problem(s); "
                    "dry run, nothing loaded"))
                raise typer.Exit(1)
            raise
    if not as_json:
        _print_problems(report.problems)
    report.seconds = clock.seconds
    if report_path:
        write_problem_report(report.problems, report_path)
    emit(report.to_dict(), as_json=as_json, render=lambda d: _render_report(kind, d, dry_run))


def _render_report(kind: str, d: dict[str, Any], dry_run: bool) -> None:
    line = (f"{kind}: read {d['read']}, written {d['written']} ({d['inserted']} inserted, {d['updated']} updated; "
            f"{d['unchanged']} unchanged), fixed {d['fixed']}, rejected {d['rejected']}")
    if d.get("assigned") is not None:
        line += f", unassigned {d['unassigned']} ({d['assigned']} in a grid)"
    if d.get("assignments") is not None:
        a = d["assignments"]
        line += (f"; assignments {a['inserted']} inserted, {a['updated']} updated, {a['unchanged']} unchanged, "
                 f"{a['deleted']} deleted")
    line += f"; {d['seconds']:.1f} s"
    if d.get("changeset_id"):
        line += f" (changeset {d['changeset_id']})"
    if dry_run:
        line += "; dry run, nothing loaded"
    typer.echo(line)


def _finish(
    kind: str,
    source: Path,
    frame: Any,
    problems: list[RowProblem],
    *,
    report_path: Optional[Path],
    dry_run: bool,
    as_json: bool,
    clock: Stopwatch | None = None,
    progress: Progress | None = None,
    **load_options: Any,
) -> None:
    clock = clock or Stopwatch()
    if not as_json:
        _print_problems(problems)
    errors = sum(1 for p in problems if p.severity == ERROR)
    if dry_run and errors:
        if report_path:
            write_problem_report(problems, report_path)
        summary = {"kind": kind, "source": source.name, "valid_rows": len(frame), "problems": len(problems),
                   "errors": errors, "loaded": False, "seconds": round(clock.seconds, 3)}
        emit(summary, as_json=as_json, render=lambda d: typer.echo(
            f"{kind}: {d['valid_rows']} valid rows, {d['errors']} error(s), {d['problems']} problem(s); dry run, nothing loaded"))
        raise typer.Exit(1)
    from services.imports import load_rows

    load_options.pop("author", None)
    if isinstance(load_options.get("expected_roster"), dict):  # read with the file (import staff)
        load_options["expected_roster"] = load_options["expected_roster"].get("token")
    try:
        # A dry run does the whole load, database checks included, and rolls it back.
        report = load_rows(open_engine(), current_actor(), kind, frame, problems, dry_run=dry_run,
                           source=source.name, progress=progress, **load_options)
    except ValidationError as exc:
        # The database's findings that the reader did not report (a set: linear in the problems).
        known = set(problems)
        extra = [f for f in exc.findings if isinstance(f, RowProblem) and f not in known]
        if report_path:
            write_problem_report(problems + extra, report_path)
        if not as_json:
            _print_problems(extra)
        raise
    report.seconds = clock.seconds
    if report_path:
        write_problem_report(report.problems, report_path)

    def render(d: dict[str, Any]) -> None:
        line = (f"{kind}: read {d['read']}, written {d['written']} ({d['inserted']} inserted, {d['updated']} updated; "
                f"{d['unchanged']} unchanged), fixed {d['fixed']}, rejected {d['rejected']}")
        if d.get("assigned") is not None:
            line += f", unassigned {d['unassigned']} ({d['assigned']} in a grid)"
        if d.get("assignments") is not None:
            a = d["assignments"]
            line += (f"; assignments {a['inserted']} inserted, {a['updated']} updated, {a['unchanged']} unchanged, "
                     f"{a['deleted']} deleted")
        line += f"; {d['seconds']:.1f} s"
        if d.get("changeset_id"):
            line += f" (changeset {d['changeset_id']})"
        if dry_run:
            line += "; dry run, nothing loaded"
        typer.echo(line)

    emit(report.to_dict(), as_json=as_json, render=render)


@import_app.command("grids")
def import_grids(
    path: Path = _PATH,
    layer: Optional[str] = _LAYER,
    crs: Optional[str] = _CRS,
    encoding: Optional[str] = _ENCODING,
    code_field: Optional[str] = typer.Option(None, help="Column with the grid code (default: code/网格编码 ...)."),
    level_field: Optional[str] = typer.Option(None, help="Column with the level (default: derived from the code)."),
    parent_field: Optional[str] = typer.Option(None, help="Column with the parent code (default: derived)."),
    name_field: Optional[str] = typer.Option(None, help="Column with the name (default: name/网格名称 ...)."),
    fix: bool = typer.Option(False, "--fix", help="Repair invalid polygons with make_valid (each repair reported)."),
    allow_multipart: bool = typer.Option(False, "--allow-multipart", help="Allow non-contiguous (multi-part) grids."),
    skip_invalid: bool = _SKIP_INVALID,
    dry_run: bool = _DRY_RUN,
    report: Optional[Path] = _REPORT,
    region: Optional[str] = _REGION,
   
    reason: Optional[str] = _REASON,
    as_json: bool = _JSON,
) -> None:
    """Import grid polygons (upsert on the grid code; new versions for changed grids)."""
    from etl.readers import read_grids

    where = _region_options(region)
    _run("grids", path, read=lambda: read_grids(
        path, layer=layer, code_field=code_field, level_field=level_field, parent_field=parent_field,
        name_field=name_field, crs=crs, encoding=encoding, fix=fix, **where,
    ), report_path=report, dry_run=dry_run, as_json=as_json,
            skip_invalid=skip_invalid, author=default_actor(), reason=reason,
            validate_options={"allow_multipart": allow_multipart})


@import_app.command("households")
def import_households(
    path: Path = _PATH,
    layer: Optional[str] = _LAYER,
    crs: Optional[str] = _CRS,
    encoding: Optional[str] = _ENCODING,
    id_field: Optional[str] = typer.Option(None, help="Household id column (default: 户号/户编号/household_id/id)."),
    address_field: Optional[str] = typer.Option(None, help="Address column (default: 地址/住址/address)."),
    x_field: Optional[str] = typer.Option(None, help="Longitude column of a table (default: 经度/lon/lng/x ...)."),
    y_field: Optional[str] = typer.Option(None, help="Latitude column of a table (default: 纬度/lat/y ...)."),
    skip_invalid: bool = _SKIP_INVALID,
    dry_run: bool = _DRY_RUN,
    report: Optional[Path] = _REPORT,
    region: Optional[str] = _REGION,
   
    reason: Optional[str] = _REASON,
    as_json: bool = _JSON,
) -> None:
    """Import household points (upsert on the household id) and put each in its micro-grid."""
    from etl.readers import iter_households

    where = _region_options(region)
    _run_chunks("households", path, chunks=lambda: iter_households(
        path, id_field=id_field, address_field=address_field, x_field=x_field, y_field=y_field,
        crs=crs, encoding=encoding, layer=layer, **where,
    ), report_path=report, dry_run=dry_run,
            as_json=as_json, skip_invalid=skip_invalid, author=default_actor(), reason=reason)


@import_app.command("incidents")
def import_incidents(
    path: Path = _PATH,
    layer: Optional[str] = _LAYER,
    crs: Optional[str] = _CRS,
    encoding: Optional[str] = _ENCODING,
    id_field: Optional[str] = typer.Option(None, help="Incident id column (default: 事件编号/工单号/id)."),
    x_field: Optional[str] = typer.Option(None, help="Longitude column of a table."),
    y_field: Optional[str] = typer.Option(None, help="Latitude column of a table."),
    skip_invalid: bool = _SKIP_INVALID,
    dry_run: bool = _DRY_RUN,
    report: Optional[Path] = _REPORT,
    region: Optional[str] = _REGION,
   
    reason: Optional[str] = _REASON,
    as_json: bool = _JSON,
) -> None:
    """Import incidents (upsert on the incident id; rows without one are added) and assign grids."""
    from etl.readers import iter_incidents

    where = _region_options(region)
    _run_chunks("incidents", path, chunks=lambda: iter_incidents(
        path, id_field=id_field, x_field=x_field, y_field=y_field, crs=crs, encoding=encoding, layer=layer, **where,
    ), report_path=report, dry_run=dry_run,
            as_json=as_json, skip_invalid=skip_invalid, author=default_actor(), reason=reason)


def import_staff(
    path: Path = typer.Argument(..., help="Staff file: .xlsx .csv .tsv ... (Chinese or English headers; "
                                          "the file `gridgov export staff` writes).", show_default=False),
    encoding: Optional[str] = _ENCODING,
    sheet: Optional[str] = typer.Option(None, help="Worksheet of a workbook (name or 0-based number; default the first)."),
    id_field: Optional[str] = typer.Option(None, help="Staff id column (default: staff_key/工号/编号/id; else the phone)."),
    name_field: Optional[str] = typer.Option(None, help="Name column (default: name/姓名)."),
    phone_field: Optional[str] = typer.Option(None, help="Phone column (default: phone/电话/联系电话 ...)."),
    role_field: Optional[str] = typer.Option(None, help="Role column (default: role/角色/职责 ...)."),
    grid_code_field: Optional[str] = typer.Option(None, help="Grid code column (default: grid_code/网格编码 ...)."),
    replace: bool = typer.Option(
        False, "--replace", help="Delete the other assignments of the people in the file (the file is their whole roster)."),
    skip_invalid: bool = _SKIP_INVALID,
    dry_run: bool = _DRY_RUN,
    report: Optional[Path] = _REPORT,
   
    reason: Optional[str] = _REASON,
    as_json: bool = _JSON,
) -> None:
    """Import staff and their assignments, one row per assignment (upsert on the staff id; one changeset).

    Columns: 工号 staff_key, 姓名 name, 电话 phone, 单位 organisation, 网格编码 grid_code, 角色 role
    (code, Chinese or English label: 微网格员, 网格监督员, 包联领导, Grid head ...), 开始日期 start_date
    (default: today), 结束日期 end_date, 楼栋号 building_no. An open assignment needs an active grid.
    """
    from etl.readers import read_staff

    sheet_option: str | int | None = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    based_on: dict[str, str] = {}

    def read() -> tuple[Any, list[RowProblem]]:
        # The roster the change is based on is read as soon as the file names its people: a
        # concurrent change to them refuses this import instead of being overwritten by it.
        from services.imports import roster_version

        frame, problems = read_staff(
            path, id_field=id_field, name_field=name_field, phone_field=phone_field, role_field=role_field,
            grid_code_field=grid_code_field, encoding=encoding, sheet=sheet_option,
        )
        based_on["token"] = roster_version(open_engine(), list(frame["staff_key"]))
        return frame, problems

    _run("staff", path, read=read, report_path=report, dry_run=dry_run, as_json=as_json, skip_invalid=skip_invalid,
         author=default_actor(), reason=reason, replace_assignments=replace, expected_roster=based_on)


import_app.command("staff")(import_staff)


@import_app.command("cameras")
def import_cameras(
    path: Path = _PATH,
    layer: Optional[str] = _LAYER,
    crs: Optional[str] = _CRS,
    encoding: Optional[str] = _ENCODING,
    id_field: Optional[str] = typer.Option(None, help="Camera id column (default: camera_id/设备编号/点位编号/id)."),
    x_field: Optional[str] = typer.Option(None, help="Longitude column of a table (default: 经度/lon/lng/x ...)."),
    y_field: Optional[str] = typer.Option(None, help="Latitude column of a table (default: 纬度/lat/y ...)."),
    skip_invalid: bool = _SKIP_INVALID,
    dry_run: bool = _DRY_RUN,
    report: Optional[Path] = _REPORT,
    region: Optional[str] = _REGION,
    reason: Optional[str] = _REASON,
    as_json: bool = _JSON,
) -> None:
    """Import cameras (雪亮工程: id, name, type, status, optional stream URL, a point) and put each in its micro-grid."""
    from etl.readers import read_cameras

    where = _region_options(region)
    _run("cameras", path, read=lambda: read_cameras(
        path, id_field=id_field, x_field=x_field, y_field=y_field, crs=crs, encoding=encoding, layer=layer, **where,
    ), report_path=report, dry_run=dry_run, as_json=as_json, skip_invalid=skip_invalid, author=default_actor(),
            reason=reason)


def export_command(
    what: str = typer.Argument(..., help="grids | households | incidents | staff | cameras"),
    out: Path = typer.Option(..., "--out", help="Output file: .gpkg .geojson .shp .kml .parquet .xlsx .csv "
                                                 "(staff: .xlsx or .csv)."),
    format: Optional[str] = typer.Option(None, "--format", help="Override the format given by the suffix."),  # noqa: A002
    level: Optional[int] = typer.Option(None, help="Grids: only this level."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Grids: the plan at this moment: " + AS_OF_HELP),
    with_personal_data: bool = typer.Option(
        False, "--with-personal-data", help="Do not mask names, ID numbers and phone numbers."),
    as_json: bool = _JSON,
) -> None:
    """Export data to a file (stored in EPSG:4490; GeoJSON/KML are written in WGS 84).

    ``staff`` is written as the table ``gridgov import staff`` reads back unchanged.
    """
    from cli.main import parse_as_of
    from etl.export import EXPORTABLE, STAFF_FORMATS

    if what not in EXPORTABLE:
        raise fail(f"what was {what!r} but is expected to be one of {', '.join(EXPORTABLE)}", 2)
    when = parse_as_of(as_of)
    if what == "staff" and (format or out.suffix.lower().lstrip(".")) not in STAFF_FORMATS:
        raise fail(f"staff has no geometry: export it to {' or '.join('.' + f for f in STAFF_FORMATS)}", 2)
    from services.exports import export_to_file

    result = export_to_file(open_engine(), current_actor(), what, out, fmt=format, level=level, as_of=when,
                            with_personal_data=with_personal_data)
    emit({"what": what, "rows": result.rows, "out": str(out), "sha256": result.sha256}, as_json=as_json,
         render=lambda d: typer.echo(f"exported {d['rows']} {what} to {out}"))


def assign_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show who would move; change nothing."),
    engine_name: str = typer.Option("local", "--engine", help="local (this process) or dask (a dask.distributed cluster)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="With --engine dask: an existing scheduler "
                                            "(tcp://HOST:PORT); default a LocalCluster on this machine."),
    workers: int = typer.Option(2, "--workers", min=1, help="With --engine dask and no --scheduler: LocalCluster worker processes."),
    partitions: Optional[int] = typer.Option(None, "--partitions", min=1, help="With --engine dask: spatial partitions "
                                             "(default 4 per worker thread)."),
    points: Optional[Path] = typer.Option(None, "--points", help="With --engine dask: assign the points of this "
                                          "GeoParquet file instead of the database's (nothing in the database changes)."),
    out: Optional[Path] = typer.Option(None, "--out", help="With --points: the Parquet file written (row, lon, lat, "
                                       "grid_code); default FILE.assigned.parquet."),
    as_json: bool = _JSON,
) -> None:
    """Re-assign every household and incident to its micro-grid (leaf grid); print who moved where."""
    from store.grids import assignment_counts, reassign_points

    if engine_name not in {"local", "dask"}:
        raise fail(f"--engine was {engine_name!r} but is expected to be local or dask", 2)
    if engine_name == "local" and (scheduler or points or partitions):
        raise fail("--scheduler, --partitions and --points need --engine dask", 2)
    if out is not None and points is None:
        raise fail("--out needs --points", 2)
    if engine_name == "dask":
        _assign_on_dask(dry_run=dry_run, scheduler=scheduler, workers=workers, partitions=partitions, points=points,
                        out=out, as_json=as_json)
        return
    engine = open_engine()
    with engine.connect() as conn:
        with conn.begin() as trans:
            moves = {table: reassign_points(conn, table) for table in ("households", "incidents", "cameras")}
            totals = {table: assignment_counts(conn, table) for table in moves}
            if dry_run:
                trans.rollback()
    data = _moves_data(moves, totals)
    emit(data, as_json=as_json, render=lambda d: _render_moves(d, dry_run))


def _moves_data(moves: dict[str, Any], totals: dict[str, Any]) -> dict[str, Any]:
    return {
        table: {
            **totals[table],
            "moved": sum(moves[table].values()),
            "moves": [{"from": a, "to": b, "count": n} for (a, b), n in sorted(moves[table].items(), key=str)],
        }
        for table in moves
    }


def _render_moves(d: dict[str, Any], dry_run: bool) -> None:
    for table, info in d.items():
        if table == "dask":
            continue
        typer.echo(f"{table}: {info['moved']} {'would move' if dry_run else 'moved'}; "
                   f"{info['assigned']} in a grid, {info['unassigned']} in none")
        for m in info["moves"]:
            typer.echo(f"  {m['from'] or '(none)'} → {m['to'] or '(none)'}: {m['count']}")
    if dry_run:
        typer.echo("dry run, nothing changed")


def _render_dask(info: dict[str, Any]) -> None:
    for what, n in info["partitions"].items():
        per_worker = ", ".join(f"{w}: {c}" for w, c in sorted(info["points_per_worker"].get(what, {}).items()))
        typer.echo(f"dask {what}: {n} partitions ({info['partitioned_by'].get(what)}); points per worker: "
                   f"{per_worker or '-'}")


def _assign_on_dask(*, dry_run: bool, scheduler: Optional[str], workers: int, partitions: Optional[int],
                    points: Optional[Path], out: Optional[Path], as_json: bool) -> None:
    """``gridgov assign --engine dask``: the same assignment computed on a dask.distributed cluster."""
    from gis.distributed import close_client, local_client
    from services.scale import assign_file_on_dask, reassign_on_dask

    if points is not None and not points.exists():
        raise fail(f"{points}: file not found", 1)
    try:
        client = local_client(scheduler, n_workers=workers)
    except OSError as exc:
        raise fail(f"cannot reach the Dask scheduler {scheduler}: {exc}", 1) from None
    try:
        if points is not None:
            target = out or points.with_name(points.stem + ".assigned.parquet")
            summary, run = assign_file_on_dask(open_engine(), current_actor(), client, points, target,
                                               n_partitions=partitions)
            data = {**summary, "dask": run.to_dict()}

            def render(d: dict[str, Any]) -> None:
                typer.echo(f"{d['points']} points: {d['assigned']} in a grid, {d['unassigned']} in none; "
                           f"written to {d['out']}")
                _render_dask(d["dask"])

            emit(data, as_json=as_json, render=render)
            return
        result, run = reassign_on_dask(open_engine(), current_actor(), client, dry_run=dry_run,
                                       n_partitions=partitions)
        data = _moves_data({t: r[0] for t, r in result.items()}, {t: r[1] for t, r in result.items()})
        data["dask"] = run.to_dict()

        def render_all(d: dict[str, Any]) -> None:
            _render_moves(d, dry_run)
            _render_dask(d["dask"])

        emit(data, as_json=as_json, render=render_all)
    finally:
        close_client(client)


def register(app: typer.Typer) -> None:
    """Attach ``import``, ``export`` and ``assign`` to the main ``gridgov`` app."""
    app.add_typer(import_app, name="import")
    app.command("export")(export_command)
    app.command("assign")(assign_command)
