"""``gridgov validate | diff | history | resolve``: the boundaries domain on the command line."""

from __future__ import annotations


import datetime as dt
from pathlib import Path
from typing import Any, Optional

import typer

from cli.main import (
    current_actor,
    AS_OF_HELP,
    JSON_HELP,
    emit,
    fail,
    id_parser,
    open_engine,
    parse_as_of,
    parse_region_option,
)

__all__ = ["register"]


def _render_findings(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(data["summary"], markup=False)
    if data["findings"]:
        table = Table("severity", "rule", "codes", "area m²", "where (lon, lat)", "message")
        for f in data["findings"]:
            area = "" if f["area_m2"] is None else f"{f['area_m2']:.1f}"
            table.add_row(f["severity"], f["rule"], ",".join(f["codes"]) or f"rows {f['rows']}", area,
                          f.get("where") or "", f["message"])
        console.print(table)


def _where(finding: Any) -> str | None:
    if finding.geometry is None or finding.geometry.is_empty:
        return None
    p = finding.geometry.representative_point()
    return f"{p.x:.6f}, {p.y:.6f}"


def validate(
    file: Optional[Path] = typer.Argument(None, help="A file of grids to check before import (any format the ETL reads). Default: the current plan."),
    layer: Optional[str] = typer.Option(None, help="Layer of a multi-layer file."),
    code_field: Optional[str] = typer.Option(None, help="Column holding the grid code."),
    crs: Optional[str] = typer.Option(None, help="CRS of the file when it has none or it is wrong (EPSG code, gcj02, bd09)."),
    encoding: Optional[str] = typer.Option(None, help="Attribute encoding (e.g. gbk) when detection fails."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Validate the stored plan at this moment: " + AS_OF_HELP),
    region: Optional[str] = typer.Option(
        None, "--region", metavar="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX",
        help="With FILE: the region (degrees) its coordinates are checked against (default: the GRIDGOV_REGION setting)."),
    overlap_tolerance_m2: float = typer.Option(1.0, help="Overlaps up to this area (m²) are tolerated."),
    gap_tolerance_m2: float = typer.Option(1.0, help="Gaps up to this area (m²) are tolerated."),
    sliver_area_m2: float = typer.Option(1.0, help="Parts smaller than this (m²) are slivers."),
    sliver_width_m: float = typer.Option(0.5, help="Parts narrower than this (m) are slivers."),
    allow_multipart: bool = typer.Option(False, help="Allow non-contiguous (multi-part) grids."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check a plan as a nested coverage; exit 1 when any finding is an error."""
    from boundaries.validation import validate_plan

    when = parse_as_of(as_of)
    bounds = parse_region_option(region)
    if file is not None and as_of is not None:
        raise fail("--as-of applies to the stored plan; a FILE is checked as it is", 2)
    if file is None and region is not None:
        raise fail("--region applies to a FILE's coordinates; the stored plan was checked when it was imported", 2)
    row_problems: list[Any] = []
    if file is not None:
        from etl.readers import read_grids

        grids, row_problems = read_grids(file, layer=layer, code_field=code_field, crs=crs, encoding=encoding,
                                         **({} if bounds is None else {"region": bounds}))
    else:
        from store.grids import load_plan

        engine = open_engine()
        with engine.connect() as conn:
            grids = load_plan(conn, as_of=when)
    report = validate_plan(
        grids, overlap_tolerance_m2=overlap_tolerance_m2, gap_tolerance_m2=gap_tolerance_m2,
        sliver_area_m2=sliver_area_m2, sliver_width_m=sliver_width_m, allow_multipart=allow_multipart,
    )
    findings = [{**f.to_record(), "where": _where(f)} for f in report.findings]
    for p in row_problems:
        record = p.to_record() if hasattr(p, "to_record") else dict(p)
        findings.insert(0, {
            "rule": record.get("rule"), "severity": record.get("severity", "error"),
            "codes": [str(record["id"])] if record.get("id") not in (None, "") else [],
            "message": record.get("message"), "area_m2": None, "geometry_wkt": None,
            "rows": [record.get("row")] if record.get("row") is not None else [],
            "where": None if record.get("lon") is None else f"{record['lon']:.6f}, {record['lat']:.6f}",
        })
    errors = sum(1 for f in findings if f["severity"] == "error")
    data = {
        "ok": errors == 0,
        "source": str(file) if file else "database",
        "grids": int(len(grids)),
        "errors": errors,
        "warnings": len(findings) - errors,
        "summary": f"{len(grids)} grids: {errors} error(s), {len(findings) - errors} warning(s)",
        "findings": findings,
    }
    emit(data, as_json=as_json, render=_render_findings)
    if errors:
        first = next(f for f in findings if f["severity"] == "error")
        raise fail(f"{data['summary']}; first: {first['rule']} {','.join(first['codes'])}: {first['message']}", 1)


def _point(value: str, name: str) -> int | dt.datetime | None:
    """A point in time given as ``OLD``/``NEW``: a changeset id (``N`` or ``cs:N``), ``now`` (``None``), or a moment."""
    if value == "now":
        return None
    if value.isdigit() or (value.startswith("cs:") and value[3:].isdigit()):
        return int(value.removeprefix("cs:"))
    return parse_as_of(value, option=name)


def _plan_at(conn: Any, point: int | dt.datetime | None) -> Any:
    """The plan at a moment, right after a changeset (an ``int``), or now (``None``)."""
    from store.grids import changeset_time, load_plan

    if isinstance(point, int):
        when = changeset_time(conn, point)
        if when is None:
            raise fail(f"no changeset {point}", 1)
        return load_plan(conn, as_of=when)
    return load_plan(conn, as_of=point)


def diff(
    old: str = typer.Argument(..., help="Date (YYYY-MM-DD), ISO timestamp, or changeset id."),
    new: str = typer.Argument("now", help="Date, timestamp, changeset id, or 'now'."),
    tolerance_m2: float = typer.Option(
        1.0, help="Reshapes whose changed area is at most this (m²) are not listed (vertex snapping noise)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Grids added, retired, reshaped (with area change in m²) and renamed between two points in time."""
    from boundaries.versions import diff_plans

    old_point, new_point = _point(old, "OLD"), _point(new, "NEW")
    engine = open_engine()
    with engine.connect() as conn:
        before = _plan_at(conn, old_point)
        after = _plan_at(conn, new_point)
    result = diff_plans(before, after, tolerance_m2=tolerance_m2)

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"added: {', '.join(d['added']) or '-'}")
        typer.echo(f"retired: {', '.join(d['retired']) or '-'}")
        for r in d["reshaped"]:
            typer.echo(f"reshaped: {r['code']} {r['area_change_m2']:+.0f} m² (changed {r['changed_area_m2']:.0f} m²)")
        for r in d["renamed"]:
            typer.echo(f"renamed: {r['code']} {r['old_name']} → {r['new_name']}")

    emit(result.to_records(), as_json=as_json, render=render)


def history(
    code: Optional[str] = typer.Argument(None, help="A grid code; default: the whole subdistrict."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Timeline of changesets, newest first."""
    from store.grids import changeset_history

    engine = open_engine()
    with engine.connect() as conn:
        rows = changeset_history(conn, code=code)

    def render(items: list[dict[str, Any]]) -> None:
        for r in items:
            typer.echo(f"#{r['id']} {r['at']:%Y-%m-%d %H:%M} {r['author']} [{r['kind']}] {r['reason']} "
                       f"(+{len(r['added'])} -{len(r['retired'])} ~{len(r['reshaped'])})")

    emit(rows, as_json=as_json, render=render)


def resolve(
    code: str = typer.Argument(..., help="A grid code, possibly retired."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Today's grid(s) for a code, following split/merge/renumber lineage."""
    from store.grids import resolve_code_in_db

    engine = open_engine()
    with engine.connect() as conn:
        codes = resolve_code_in_db(conn, code)
    emit({"code": code, "current": codes}, as_json=as_json,
         render=lambda d: typer.echo(f"{d['code']} → {', '.join(d['current']) or '(no current grid)'}"))




# -- edits ----------------------------------------------------------------------------------
edit_app = typer.Typer(help="Edit grid boundaries (the boundary editor's operations).", no_args_is_help=True)

_DRY = typer.Option(False, "--dry-run", help="Preview only (validation, who moves, workload balance) as JSON; write nothing.")
_REASON = typer.Option(None, help="Why the boundary changes (required to save).")
_JSON = typer.Option(False, "--json", help=JSON_HELP)


def _wkt(value: str, what: str, *, polygon: bool = False) -> Any:
    """A geometry option (EPSG:4490 WKT): parsed, 2-D, within the vertex limit, finite and, for an
    area, a valid polygon — so an edit never reaches GEOS with a geometry it cannot overlay."""
    import numpy as np
    import shapely

    from gis.geometry import explain_invalid
    from gis.plausibility import Limits

    limits = Limits.from_settings()
    if len(value) > limits.max_vertices * 200:  # far more text than that many vertices need: not parsed at all
        raise fail(f"{what} is {len(value):,} characters of WKT: more than {limits.max_vertices:,} vertices "
                   "(GRIDGOV_MAX_VERTICES) would need", 1)
    try:
        geom = shapely.from_wkt(value)
    except Exception:  # shapely.errors.GEOSException
        raise fail(f"{what} is not valid WKT: {value[:60]!r}", 2) from None
    if geom is None or geom.is_empty:
        raise fail(f"{what} is empty", 2)
    geom = shapely.force_2d(geom)
    count = int(shapely.get_num_coordinates(geom))
    if count > limits.max_vertices:
        raise fail(f"{what} has {count:,} vertices; at most {limits.max_vertices:,} are accepted (GRIDGOV_MAX_VERTICES)", 1)
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise fail(f"{what} has coordinates that are not finite numbers (NaN or infinity)", 1)
    if polygon:
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise fail(f"{what} is a {geom.geom_type}, expected a POLYGON or MULTIPOLYGON", 1)
        reason = explain_invalid(np.array([geom], dtype=object))[0]
        if reason is not None:
            raise fail(f"{what} is not a valid polygon: {reason}; draw it without crossing or touching edges", 1)
    elif not geom.is_valid:
        reason = explain_invalid(np.array([geom], dtype=object))[0] or shapely.is_valid_reason(geom)
        raise fail(f"{what} is not a valid geometry: {reason}", 1)
    return geom


def _checked_frame(path: Path, crs: str | None) -> Any:
    """A geometry file for an edit, in EPSG:4490: within the vertex limit, every polygon valid."""
    import numpy as np
    import shapely

    from gis.crs import to_storage_crs
    from gis.geometry import explain_invalid
    from gis.io import read_vector
    from gis.plausibility import Limits, vertex_problems

    raw = read_vector(path, crs=crs)
    _, too_many = vertex_problems(raw.geometry.to_numpy(), limit=Limits.from_settings().max_vertices)
    if too_many:
        raise fail(f"{path.name}: feature {too_many[0].row}: {too_many[0].message}", 1)
    frame = to_storage_crs(raw, source_crs=crs)
    geoms = np.asarray(frame.geometry.to_numpy(), dtype=object)
    reasons = explain_invalid(geoms)
    for i, reason in enumerate(reasons):
        if reason is not None:
            raise fail(f"{path.name}: feature {i} is not a valid geometry: {reason}; repair it first", 1)
    if len(geoms) and not np.isin(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]), [3, 6]).all():
        raise fail(f"{path.name}: expected polygons only", 1)
    return frame


def _geometry_file(path: Path, crs: str | None) -> Any:
    import shapely

    frame = _checked_frame(path, crs)
    geom = shapely.union_all(frame.geometry.to_numpy())
    if geom.is_empty:
        raise fail(f"{path} has no geometry", 1)
    return geom


def _geometry_parts(path: Path, crs: str | None) -> list[Any]:
    frame = _checked_frame(path, crs)
    parts = [g for g in frame.geometry.to_numpy() if g is not None and not g.is_empty]
    if not parts:
        raise fail(f"{path} has no geometry", 1)
    return parts


_STAFF = typer.Option(
    None, "--staff",
    help="Where a person of an affected grid goes instead of the proposal: ASSIGNMENT_ID=CODE[+CODE...] "
         "(primary grid first; the ids and their options are in --dry-run's staff_moves). Repeatable.")


def _staff_choices(values: list[str] | None) -> dict[int, list[str]]:
    choices: dict[int, list[str]] = {}
    for value in values or []:
        key, sep, codes = value.partition("=")
        if not sep or not key.strip().isdigit() or not codes.strip():
            raise fail(f"--staff was {value!r} but is expected to be ASSIGNMENT_ID=CODE[+CODE...]", 2)
        choices[int(key)] = [c.strip() for c in codes.split("+") if c.strip()]
    return choices


def _run_edit(operation: str, *, dry_run: bool, reason: str | None, as_json: bool,
              staff: list[str] | None = None, **parameters: Any) -> None:
    from boundaries.edits import EditRefused
    from governance.staff_moves import moves_that_change
    from services.editing import preview_edit, save_edit, start_edit

    engine = open_engine()
    try:
        with engine.connect() as conn:
            draft = start_edit(conn)
            preview = preview_edit(conn, draft, operation, **parameters)
            choices = _staff_choices(staff)
            if choices:
                preview = preview.with_staff_choices(choices)
    except EditRefused as exc:
        data = {"operation": operation, "refused": True, "message": str(exc),
                "findings": [f.to_record() for f in exc.findings]}
        if as_json or dry_run:
            emit(data, as_json=True)
        raise fail(f"edit refused: {exc}", 1) from None
    if dry_run:
        from services.overview import disclose_impact

        data = preview.to_dict()  # small special-household counts: the grid's own people only
        data["impact"] = disclose_impact(preview.impact, current_actor()).to_records()
        emit(data, as_json=True)
        if not preview.can_save:
            raise typer.Exit(1)
        return
    if not reason:
        raise fail("saving a boundary change needs --reason (or preview it with --dry-run)", 2)
    with engine.begin() as conn:
        applied = save_edit(conn, preview, actor=current_actor(), reason=reason)

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"saved changeset {d['changeset_id']}: added {', '.join(d['added']) or '-'}; "
                   f"retired {', '.join(d['retired']) or '-'}; reshaped {', '.join(d['reshaped']) or '-'}")
        for m in d["households_moved"]:
            typer.echo(f"  households {m['from'] or '(none)'} → {m['to'] or '(none)'}: {m['count']}")
        for m in d.get("staff_moves", []):
            typer.echo(f"  staff {m['staff_key']} ({m['role']}) {m['from']} → {'+'.join(m['to'])}")

    data = applied.to_dict()
    data["staff_moves"] = [{"assignment_id": int(r.assignment_id), "staff_key": r.staff_key, "role": r.role,
                            "from": r.from_code, "to": list(r.to_codes)}
                           for r in moves_that_change(preview.staff_moves).itertuples(index=False)]
    emit(data, as_json=as_json, render=render)


@edit_app.command("split")
def edit_split(
    code: str = typer.Argument(..., help="Grid to split."),
    line: str = typer.Option(..., "--line", help="Split line as WKT (EPSG:4490 lon/lat)."),
    dry_run: bool = _DRY, reason: Optional[str] = _REASON, as_json: bool = _JSON,
    staff: Optional[list[str]] = _STAFF,
) -> None:
    """Split a grid along a line; the parts get new codes, the old code is retired."""
    _run_edit("split", dry_run=dry_run, staff=staff, reason=reason, as_json=as_json,
              code=code, line=_wkt(line, "--line"))


@edit_app.command("merge")
def edit_merge(
    codes: list[str] = typer.Argument(..., help="Two or more adjacent sibling grids."),
    dry_run: bool = _DRY, reason: Optional[str] = _REASON, as_json: bool = _JSON,
    staff: Optional[list[str]] = _STAFF,
) -> None:
    """Merge adjacent grids; the largest keeps its code, the others are retired (never reused)."""
    if len(codes) < 2:
        raise fail("merge needs at least two grid codes", 2)
    _run_edit("merge", dry_run=dry_run, staff=staff, reason=reason, as_json=as_json, codes=codes)


@edit_app.command("reshape")
def edit_reshape(
    code_a: str = typer.Argument(..., help="One of the two neighbouring micro-grids."),
    code_b: str = typer.Argument(..., help="The other one."),
    line: Optional[str] = typer.Option(None, "--line", help="Their new shared boundary as WKT (EPSG:4490 lon/lat)."),
    area: Optional[str] = typer.Option(None, "--area", help="Or: the new area of CODE_A as WKT polygon."),
    dry_run: bool = _DRY, reason: Optional[str] = _REASON, as_json: bool = _JSON,
    staff: Optional[list[str]] = _STAFF,
) -> None:
    """Move the boundary between two neighbouring grids (the editor's 调整边界)."""
    if (line is None) == (area is None):
        raise fail("give exactly one of --line (the new shared boundary) or --area (CODE_A's new area)", 2)
    geometry = _wkt(line, "--line") if line is not None else _wkt(area, "--area", polygon=True)
    _run_edit("reshape", dry_run=dry_run, staff=staff, reason=reason, as_json=as_json,
              code_a=code_a, code_b=code_b, new_line_or_area=geometry)


@edit_app.command("reshape-grid")
def edit_reshape_grid(
    code: str = typer.Argument(..., help="Micro-grid to give a new outline."),
    geometry: Path = typer.Option(..., "--geometry", help="File with the new outline (any format the ETL reads)."),
    crs: Optional[str] = typer.Option(None, help="CRS of the file when it has none."),
    dry_run: bool = _DRY, reason: Optional[str] = _REASON, as_json: bool = _JSON,
    staff: Optional[list[str]] = _STAFF,
) -> None:
    """Give a grid a new outline; its neighbours give and take the difference (the editor's 重绘网格)."""
    _run_edit("reshape_grid", dry_run=dry_run, staff=staff, reason=reason, as_json=as_json,
              code=code, geometry=_geometry_file(geometry, crs))


@edit_app.command("annex")
def edit_annex(
    parent_code: str = typer.Argument(..., help="Grid that receives the new land as a new child."),
    area: str = typer.Option(..., "--area", help="The new land as WKT polygon (EPSG:4490 lon/lat), outside every grid."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the new grid."),
    dry_run: bool = _DRY, reason: Optional[str] = _REASON, as_json: bool = _JSON,
    staff: Optional[list[str]] = _STAFF,
) -> None:
    """Add land outside the street as a new grid under a parent."""
    _run_edit("annex", dry_run=dry_run, staff=staff, reason=reason, as_json=as_json,
              parent_code=parent_code, area=_wkt(area, "--area", polygon=True), name=name)


@edit_app.command("replace")
def edit_replace(
    parent_code: str = typer.Argument(..., help="Grid whose children are replaced."),
    areas: Path = typer.Option(..., "--areas", help="File with the new children's areas (any format the ETL reads)."),
    crs: Optional[str] = typer.Option(None, help="CRS of the file when it has none."),
    dry_run: bool = _DRY, reason: Optional[str] = _REASON, as_json: bool = _JSON,
    staff: Optional[list[str]] = _STAFF,
) -> None:
    """Replace all children of a grid by new areas (new codes; the old children are retired)."""
    _run_edit("replace", dry_run=dry_run, staff=staff, reason=reason, as_json=as_json,
              parent_code=parent_code, new_children_geoms=_geometry_parts(areas, crs))


@edit_app.command("transfer")
def edit_transfer(
    from_code: str = typer.Argument(..., help="Grid giving the area."),
    to_code: str = typer.Argument(..., help="Neighbour receiving it."),
    area: str = typer.Option(..., "--area", help="Area to move as WKT polygon (EPSG:4490 lon/lat)."),
    dry_run: bool = _DRY, reason: Optional[str] = _REASON, as_json: bool = _JSON,
    staff: Optional[list[str]] = _STAFF,
) -> None:
    """Move an area from one grid to its neighbour."""
    _run_edit("transfer", dry_run=dry_run, staff=staff, reason=reason, as_json=as_json,
              from_code=from_code, to_code=to_code, area=_wkt(area, "--area", polygon=True))


def rollback(
    changeset: int = typer.Argument(..., parser=id_parser("changeset id"), metavar="CHANGESET",
                                    help="Changeset id to undo."),
   
    reason: Optional[str] = typer.Option(None, help="Why (default: 'roll back changeset N')."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Do the rollback, validation included, and undo it: show what it would change."),
    as_json: bool = _JSON,
) -> None:
    """Undo a changeset as a new changeset (validated like any edit)."""
    from services.editing import rollback_changeset

    engine = open_engine()
    with engine.connect() as conn:
        with conn.begin() as trans:
            applied = rollback_changeset(conn, changeset, actor=current_actor(), reason=reason)
            if dry_run:
                trans.rollback()
    data = applied.to_dict()
    if dry_run:
        data["changeset_id"] = None

    def render(d: dict[str, Any]) -> None:
        if dry_run:
            typer.echo(f"rolling back changeset {changeset} would add {', '.join(d['added']) or '-'}; retire "
                       f"{', '.join(d['retired']) or '-'}; reshape {', '.join(d['reshaped']) or '-'}; dry run, nothing saved")
        else:
            typer.echo(f"rolled back changeset {changeset} as changeset {d['changeset_id']}")

    emit(data, as_json=as_json, render=render)


def register(app: typer.Typer) -> None:
    """Attach the boundaries commands to the main ``gridgov`` app."""
    app.command("validate")(validate)
    app.command("diff")(diff)
    app.command("history")(history)
    app.command("resolve")(resolve)
    app.add_typer(edit_app, name="edit")
    app.command("rollback")(rollback)
