"""``gridgov incident|report|roster|visit``: the governance command groups.

Registered by :func:`register` from :mod:`cli.main`. Domain errors propagate to
``cli.main.main``, which prints one line on stderr and exits with the error's code.
Options mean what they mean everywhere (:mod:`cli.main`): ``--as-of`` the
moment looked at (a day for the roster), ``--at`` when a recorded event happened,
``--month YYYY-MM``, ``--out FILE``, ``--json``. ``gridgov roster import`` is
``gridgov import staff`` (:func:`cli.io.import_staff`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional
from gis import clock

import typer

from cli.io import import_staff
from cli.main import (
    AS_OF_HELP,
    JSON_HELP,
    check_lonlat,
    default_actor,
    id_parser,
    parse_as_of,
    parse_day,
    parse_id,
    parse_language,
    parse_month,
    today,
)
from gis.errors import NotFoundError, ValidationError

__all__ = ["register", "incident_app", "report_app", "roster_app", "visit_app"]

incident_app = typer.Typer(help="Incident closed loop: report, accept/reject, classify, dispatch, handle, close, reopen.",
                           no_args_is_help=True)
report_app = typer.Typer(help="Assessment figures and the monthly joint-meeting report.", no_args_is_help=True)
roster_app = typer.Typer(help="Staff roster: import/export (XLSX, CSV), gaps, contact cards.", no_args_is_help=True)
visit_app = typer.Typer(help="Household visits: record, monthly plan.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach the four command groups to the ``gridgov`` app."""
    app.add_typer(incident_app, name="incident")
    app.add_typer(report_app, name="report")
    app.add_typer(roster_app, name="roster")
    app.add_typer(visit_app, name="visit")


# -- helpers ---------------------------------------------------------------------------------------
def _cli():  # noqa: ANN202 - the cli.main module (imported late: it imports us)
    from cli import main as cli

    return cli


def _when(value: str | None, *, option: str = "--as-of") -> dt.datetime | None:
    """A moment option (:func:`cli.main.parse_as_of`: a date is the end of that local day)."""
    return parse_as_of(value, option=option)


def _day(value: str | None, *, option: str = "--as-of") -> dt.date:
    """A day option (:func:`cli.main.parse_day`); default today in ``GRIDGOV_TIMEZONE``."""
    return parse_day(value, option=option) or today()


def _actor() -> str:
    return default_actor()


def _staff_id(conn: Any, value: str | None, *, option: str = "--staff") -> int | None:
    """A staff id from a staff key or a numeric id."""
    if value is None:
        return None
    from store.governance import staff_exists, staff_id_by_key

    from gis.plausibility import check_text

    check_text(value, what=option, kind="key")
    found = staff_id_by_key(conn, [value])
    if value in found:
        return found[value]
    if value.strip().isdigit() and staff_exists(conn, parse_id(value, what=option)):
        return int(value)
    raise NotFoundError(f"no staff member has the key or id {value!r} ({option})")


def _emit(data: Any, as_json: bool, render=None) -> None:  # noqa: ANN001
    _cli().emit(data, as_json=as_json, render=render)


def _render_incident(detail: dict[str, Any]) -> None:
    tz = clock.zone()

    def local(value: Any) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else ""

    typer.echo(
        f"incident {detail['id']} [{detail['status']}] v{detail['version']} {detail['category']}: {detail['description']}"
    )
    typer.echo(
        f"  grid {detail['grid_code']} (at report {detail['grid_code_at_report']}), disposition "
        f"{detail['disposition'] or '-'}, assigned to {detail.get('assigned_to_name') or detail['assigned_to'] or '-'}, "
        f"deadline {local(detail['deadline']) or '-'}"
    )
    if detail.get("reference"):
        from governance.feedback import format_reference

        typer.echo(f"  reference code {format_reference(detail['reference'])}")
    for e in detail["events"]:
        typer.echo(f"  {local(e['at'])}  {e['action']:<8} {e['from_status'] or '':>10} → {e['to_status']:<10} "
                   f"{e['actor']}  {e['note']}")


# -- incident --------------------------------------------------------------------------------------
@incident_app.command("report")
def incident_report(
    lon: float = typer.Option(..., help="Longitude, EPSG:4490 degrees."),
    lat: float = typer.Option(..., help="Latitude, EPSG:4490 degrees."),
    category: str = typer.Option(..., help="Category, e.g. 环境卫生."),
    description: str = typer.Option("", help="What was seen."),
    address: str = typer.Option("", help="Address text."),
    staff: Optional[str] = typer.Option(None, "--staff", help="Reporter's staff key or id (a worker's discovery)."),
    at: Optional[str] = typer.Option(None, "--at", help="When it happened: YYYY-MM-DD or ISO timestamp; default now."),
    key: Optional[str] = typer.Option(None, "--key", help="Natural key from a source system."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Report an incident at a point; its micro-grid is found by ST_Covers."""
    from services.incidents import report_incident
    from store.governance import incident_detail

    check_lonlat(lon, lat)
    reported_at = _when(at, option="--at")
    engine = _cli().open_engine()
    with engine.connect() as conn:
        staff_id = _staff_id(conn, staff)
    actor = _cli().current_actor()
    reported = report_incident(
        engine, actor, lon=lon, lat=lat, category=category, description=description, address=address,
        reported_at=reported_at, reported_by=staff_id, incident_key=key,
    )
    from access.permissions import may

    def told(d: dict[str, Any]) -> None:
        typer.echo(f"incident {d['id']} reported; reference code {d['reference']} (the public status page takes it)")

    if not may(actor.role, "view_incidents"):  # may report, may not read incidents (a family doctor)
        _emit({**reported.to_dict(), "status": "reported"}, as_json, told)
        return
    with engine.connect() as conn:
        detail = incident_detail(conn, reported.id)
    detail["reference"] = reported.shown_reference  # the form the reporter is given
    _emit(detail, as_json, _render_incident)


def _read_version(engine: Any, incident_id: int, expected_version: int | None) -> int:
    """The version a transition is based on: ``--expected-version``, else the one read now.

    Either way the write succeeds only if nobody changed the incident since; otherwise it fails
    (exit 1) with "changed by someone else since you read it" and nothing is overwritten.
    """
    from services.incidents import incident_version

    return expected_version if expected_version is not None else incident_version(engine, incident_id)


def _transition(action: str, incident_id: int, note: str, *, expected_version: int | None = None,
                as_json: bool = False, engine: Any = None, **kw: Any) -> None:
    from gis.plausibility import check_text
    from governance.deadlines import DeadlinePolicy
    from services.incidents import act_on_incident
    from store.governance import incident_detail

    check_text(note, what="--note", kind="text")
    engine = engine or _cli().open_engine()
    base = _read_version(engine, incident_id, expected_version)
    act_on_incident(engine, _cli().current_actor(), incident_id, action, note=note, expected_version=base,
                    policy=DeadlinePolicy.from_settings(), **kw)
    with engine.connect() as conn:
        detail = incident_detail(conn, incident_id)
    _emit(detail, as_json, _render_incident)


_NOTE = typer.Option("", "--note", help="Note (reason / feedback).")
_VERSION = typer.Option(
    None, "--expected-version", parser=id_parser("--expected-version"), metavar="VERSION",
    help="The version you saw (gridgov incident show); refused if the incident changed since. Default: the version "
         "read when the command starts.")
_INCIDENT = typer.Argument(..., parser=id_parser("incident id"), metavar="ID", help="Incident id.")
_JSON = typer.Option(False, "--json", help=JSON_HELP)
_AS_OF = typer.Option(None, "--as-of", help=AS_OF_HELP)
_AS_OF_DAY = typer.Option(None, "--as-of", help="The day to look at (YYYY-MM-DD); default today.")


@incident_app.command("accept")
def incident_accept(incident_id: int = _INCIDENT, note: str = _NOTE,
                    expected_version: Optional[int] = _VERSION, as_json: bool = _JSON) -> None:
    """Accept (verified): reported → accepted."""
    _transition("accept", incident_id, note, expected_version=expected_version, as_json=as_json)


@incident_app.command("reject")
def incident_reject(incident_id: int = _INCIDENT, note: str = _NOTE,
                    expected_version: Optional[int] = _VERSION, as_json: bool = _JSON) -> None:
    """Reject with the reason in --note: reported → rejected."""
    _transition("reject", incident_id, note, expected_version=expected_version, as_json=as_json)


@incident_app.command("classify")
def incident_classify(
    incident_id: int = _INCIDENT,
    disposition: str = typer.Option(..., help="solve_now | research_assign | explain_respond"),
    note: str = _NOTE, expected_version: Optional[int] = _VERSION, as_json: bool = _JSON,
) -> None:
    """Classify: accepted → classified; sets the deadline."""
    _transition("classify", incident_id, note, expected_version=expected_version, as_json=as_json,
                disposition=disposition)


@incident_app.command("dispatch")
def incident_dispatch(
    incident_id: int = _INCIDENT,
    to: Optional[str] = typer.Option(None, "--to", help="Staff key or id (default: the grid's micro-grid worker)."),
    note: str = _NOTE, expected_version: Optional[int] = _VERSION, as_json: bool = _JSON,
) -> None:
    """Dispatch to a person: classified → dispatched (again: reassign)."""
    from store.governance import incident_detail, proposed_assignee

    engine = _cli().open_engine()
    # The version the dispatch is based on is read first: a concurrent dispatch (or any change)
    # made after it refuses this one instead of being silently overwritten.
    base = _read_version(engine, incident_id, expected_version)
    with engine.connect() as conn:
        if to is None:
            grid = incident_detail(conn, incident_id)["grid_code"]
            assignee = proposed_assignee(conn, grid)
            if assignee is None:
                raise ValidationError(f"grid {grid} has no active micro-grid worker; name one with --to")
        else:
            assignee = _staff_id(conn, to, option="--to")
    _transition("dispatch", incident_id, note, expected_version=base, as_json=as_json, engine=engine,
                assignee=assignee)


@incident_app.command("handle")
def incident_handle(incident_id: int = _INCIDENT, note: str = _NOTE,
                    expected_version: Optional[int] = _VERSION, as_json: bool = _JSON) -> None:
    """Record the handling feedback (--note): dispatched → handled."""
    _transition("handle", incident_id, note, expected_version=expected_version, as_json=as_json)


@incident_app.command("close")
def incident_close(incident_id: int = _INCIDENT, note: str = _NOTE,
                   expected_version: Optional[int] = _VERSION, as_json: bool = _JSON) -> None:
    """Close: handled → closed."""
    _transition("close", incident_id, note, expected_version=expected_version, as_json=as_json)


@incident_app.command("reopen")
def incident_reopen(incident_id: int = _INCIDENT, note: str = _NOTE,
                    expected_version: Optional[int] = _VERSION, as_json: bool = _JSON) -> None:
    """Reopen with the reason (--note): closed → dispatched, rejected → reported."""
    _transition("reopen", incident_id, note, expected_version=expected_version, as_json=as_json)


@incident_app.command("show")
def incident_show(incident_id: int = _INCIDENT, as_json: bool = _JSON) -> None:
    """An incident with its event log."""
    from store.governance import incident_detail

    with _cli().open_engine().connect() as conn:
        detail = incident_detail(conn, incident_id)
    _emit(detail, as_json, _render_incident)


@incident_app.command("overdue")
def incident_overdue(as_of: Optional[str] = _AS_OF, as_json: bool = _JSON) -> None:
    """Open incidents past their deadline, most overdue first."""
    from governance.deadlines import overdue_incidents
    from store.governance import load_incidents

    now = _when(as_of) or dt.datetime.now(dt.UTC)
    with _cli().open_engine().connect() as conn:
        incidents = load_incidents(conn)
    overdue = overdue_incidents(incidents, now=now)
    rows = overdue[["id", "category", "grid_code", "status", "disposition", "deadline", "overdue_hours", "assigned_to"]]
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")

    def render(items: list[dict[str, Any]]) -> None:
        typer.echo(f"{len(items)} overdue incident(s)")
        for r in items:
            typer.echo(f"  {r['id']:>6} {r['category']} grid {r['grid_code']} [{r['status']}] "
                       f"{r['overdue_hours'] / 24:.1f} days overdue")

    _emit(records, as_json, render)


# -- report ----------------------------------------------------------------------------------------
@report_app.command("assessment")
def report_assessment(
    month: str = typer.Option(..., "--month", help="YYYY-MM (in the GRIDGOV_TIMEZONE zone)."),
    as_of: Optional[str] = _AS_OF,
    as_json: bool = _JSON,
) -> None:
    """Per-worker and per-grid figures and scores for a month."""
    import dataclasses

    from governance.assessment import assess_month, rank
    from services.overview import disclose_assessment
    from store.governance import load_frames

    month = parse_month(month)  # type: ignore[assignment]
    when = _when(as_of)
    with _cli().open_engine().connect() as conn:
        frames = load_frames(conn, month=month)
    result = assess_month(
        households=frames["households"], visits=frames["visits"], assignments=frames["assignments"],
        incidents=frames["incidents"], grids=frames["grids"].loc[frames["grids"]["level"] == frames["grids"]["level"].max()]
        if len(frames["grids"]) else None, staff=frames["staff"], month=month, as_of=when,
    )
    actor = _cli().current_actor()  # small special-household counts: exact only for the grid's own people
    result = dataclasses.replace(result, workers=disclose_assessment(result.workers, actor, code_column="grid_codes"),
                                 grids=disclose_assessment(result.grids, actor, code_column="grid_code"))
    payload = result.to_json_dict()

    def render(_: Any) -> None:
        import pandas as pd
        from rich.console import Console
        from rich.table import Table

        table = Table("rank", "staff", "name", "visits", "req", "special", "found", "closed", "rate", "overdue", "score",
                      title=f"{result.month} worker ranking")
        for r in rank(result.workers).to_dict("records"):
            rate = "" if r["closure_rate"] != r["closure_rate"] else f"{r['closure_rate']:.0%}"
            special = "<5" if pd.isna(r["special_covered"]) else r["special_covered"]
            table.add_row(*map(str, (r["rank"], r["staff_id"], r.get("name", ""), r["visits_made"], r["visits_required"],
                                     special, r["incidents_discovered"], r["incidents_closed"])),
                          rate, str(r["overdue"]), f"{r['score']:.1f}")
        Console().print(table)

    _emit(payload, as_json, render)


@report_app.command("monthly")
def report_monthly(
    month: str = typer.Option(..., "--month", help="YYYY-MM (in the GRIDGOV_TIMEZONE zone)."),
    out: Path = typer.Option(..., "--out", help="Output file; FILE.xlsx and FILE.html are both written."),
    as_of: Optional[str] = _AS_OF,
    lang: str = typer.Option("zh", "--lang", help="Language of the sheets, headers and headings: zh (default) or en."),
    as_json: bool = _JSON,
) -> None:
    """The monthly joint-meeting report as XLSX and HTML (maps embedded), over the grids you may see."""
    from services.report import write_monthly_report

    month = parse_month(month)  # type: ignore[assignment]
    language = parse_language(lang)
    when = _when(as_of)
    files = write_monthly_report(_cli().open_engine(), _cli().current_actor(), month=month,  # type: ignore[arg-type]
                                 xlsx=out.with_suffix(".xlsx"), html=out.with_suffix(".html"), as_of=when,
                                 lang=language)
    _emit({"month": files.month, "xlsx": str(files.xlsx), "html": str(files.html), "sha256": files.sha256}, as_json,
          lambda d: typer.echo(f"monthly report {d['month']}: {d['xlsx']} and {d['html']}"))


# -- roster ----------------------------------------------------------------------------------------
@roster_app.command("export")
def roster_export(
    out: Path = typer.Option(..., "--out", help="Output file: .xlsx or .csv."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Only assignments active on this day (YYYY-MM-DD)."),
    as_json: bool = _JSON,
) -> None:
    """Export the assignments (one row each) as the file `gridgov import staff` reads back."""
    from services.exports import export_roster

    on = parse_day(as_of)
    result = export_roster(_cli().open_engine(), _cli().current_actor(), out, on=on)
    _emit({"assignments": result.rows, "out": str(out), "sha256": result.sha256}, as_json,
          lambda d: typer.echo(f"{d['assignments']} assignment(s) written to {d['out']}"))


roster_app.command("import", help="The same command as `gridgov import staff` (one staff import).")(import_staff)


@roster_app.command("gaps")
def roster_gaps_cmd(as_of: Optional[str] = _AS_OF_DAY, as_json: bool = _JSON) -> None:
    """Grids whose team is incomplete (missing roles, more than one micro-grid worker)."""
    from store.governance import load_grids, load_roster
    from governance.roster import roster_gaps

    on = _day(as_of)
    with _cli().open_engine().connect() as conn:
        gaps = roster_gaps(load_grids(conn), load_roster(conn), on=on)
    records = gaps.astype(object).where(gaps.notna(), None).to_dict("records")

    def render(items: list[dict[str, Any]]) -> None:
        typer.echo(f"{len(items)} gap(s)")
        for r in items:
            typer.echo(f"  {r['grid_code']} {r['grid_name']}: {r['role']} {r['problem']} {r['staff']}")

    _emit(records, as_json, render)


@roster_app.command("card")
def roster_card(code: str, out: Optional[Path] = typer.Option(None, "--out", help="Write printable HTML here."),
                as_of: Optional[str] = _AS_OF_DAY, as_json: bool = _JSON) -> None:
    """The public contact card (公示栏) of a grid."""
    from dataclasses import asdict

    from etl.cards import contact_card_html
    from store.lookup import grid_card

    on = _day(as_of)
    with _cli().open_engine().connect() as conn:
        card = grid_card(conn, code.strip(), as_of=on)
    entries = card.contact_entries()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(contact_card_html(card), encoding="utf-8")
        typer.echo(f"card written to {out}")
        return

    def render(_: Any) -> None:
        typer.echo(f"{card.code} {card.name}")
        for e in entries:
            typer.echo(f"  {e.role_label}\t{e.name}\t{e.phone}\t{e.grid_name}")

    _emit({"grid_code": card.code, "grid_name": card.name, "parents": card.parents, "on": on,
           "entries": [asdict(e) for e in entries]}, as_json, render)


# -- visit -----------------------------------------------------------------------------------------
@visit_app.command("record")
def visit_record(
    household: int = typer.Option(..., "--household", parser=id_parser("--household"), metavar="ID",
                                  help="Household id."),
    staff: str = typer.Option(..., "--staff", help="Staff key or id."),
    at: Optional[str] = typer.Option(None, "--at", help="When it happened: YYYY-MM-DD or ISO timestamp; default now."),
    kind: str = typer.Option("routine", "--kind"),
    note: str = typer.Option("", "--note"),
    lon: Optional[float] = typer.Option(None, help="Longitude (EPSG:4490)."),
    lat: Optional[float] = typer.Option(None, help="Latitude (EPSG:4490)."),
    as_json: bool = _JSON,
) -> None:
    """Record a household visit (by staff assigned to the household's grid that day; near it when located)."""
    from governance.visits import VisitRecord
    from services.visits import record_visit

    check_lonlat(lon, lat)
    visited_at = _when(at, option="--at") or dt.datetime.now(dt.UTC)
    engine = _cli().open_engine()
    with engine.connect() as conn:
        staff_id = _staff_id(conn, staff)
    vid = record_visit(engine, _cli().current_actor(), VisitRecord(
        household_id=household, staff_id=staff_id, visited_at=visited_at, kind=kind,  # type: ignore[arg-type]
        note=note, lon=lon, lat=lat))
    _emit({"id": vid}, as_json, lambda d: typer.echo(f"visit {d['id']} recorded"))


@visit_app.command("plan")
def visit_plan_cmd(
    month: Optional[str] = typer.Option(None, "--month", help="YYYY-MM (default this month)."),
    staff: Optional[str] = typer.Option(None, "--staff", help="Only this worker (key or id)."),
    as_of: Optional[str] = _AS_OF,
    as_json: bool = _JSON,
) -> None:
    """This month's plan per worker: special households pending, visits to the minimum, data due."""
    from store.governance import load_frames
    from governance.visits import visit_plan

    month = parse_month(month) or clock.month_of()[0]
    when = _when(as_of)
    with _cli().open_engine().connect() as conn:
        frames = load_frames(conn, month=month)
        staff_id = _staff_id(conn, staff)
    plan = visit_plan(frames["households"], frames["visits"], frames["assignments"], month=month, as_of=when)
    from services.overview import disclose_assessment  # small special-household counts: the grid's own people only

    shown = disclose_assessment(plan.workers, _cli().current_actor(), code_column="grid_codes")
    workers = shown if staff_id is None else shown.loc[shown["staff_id"] == staff_id]

    def rows(frame) -> list[dict[str, Any]]:  # noqa: ANN001
        keep = [c for c in frame.columns if c not in ("special_kinds",)] if len(frame) else list(frame.columns)
        out = frame[keep].astype(object).where(frame[keep].notna(), None).to_dict("records")
        return out

    pick = (lambda f: f) if staff_id is None else (lambda f: f.loc[f["staff_id"] == staff_id])
    payload = {"month": plan.month, "workers": rows(workers), "special_pending": rows(pick(plan.special_pending)),
               "due_for_update": rows(pick(plan.due_for_update))}

    def render(_: Any) -> None:
        for r in payload["workers"]:
            typer.echo(f"staff {r['staff_id']} ({r['grid_codes']}): visited {r['visited']}, {r['remaining']} more to the "
                       f"minimum; special pending {'<5' if r['special_pending'] is None else r['special_pending']}; "
                       f"data due {r['due_for_update']}")

    _emit(payload, as_json, render)
