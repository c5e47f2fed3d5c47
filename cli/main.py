"""``gridgov``: the command line that mirrors what the app does.

Exit codes: 0 success; 1 validation failure or not found; 2 usage or environment error
(malformed option such as a bad date, database unreachable, PostGIS missing, bad setting).
A user's mistake is one line on stderr, never a traceback. Commands whose output is data
take ``--json``.

One meaning per option name, in every command (parsed here, once):

* who acts is an account: the one logged in with ``gridgov login`` (its session token is kept in
  a file only its owner can read), or, for the database owner on the server (scripts, cron),
  ``gridgov --as NAME …`` (default the ``GRIDGOV_ACTOR`` setting); ``gridgov db|init|user|token|demo``
  are owner commands (:func:`current_actor`, :func:`open_owner_engine`);
* ``--as-of DATE|TIMESTAMP``: the moment the data is looked at (:func:`parse_as_of`; a date
  is the end of that local day; :func:`parse_day` where a day is meant); ``--at`` is when a
  recorded event happened (same forms); ``--month YYYY-MM`` a month (:func:`parse_month`);
* ``--out FILE``: where output is written; ``--json``: print data as JSON;
* ``--dry-run``: do the whole write, checks included, and roll it back;
* ``--region lon_min,lat_min,lon_max,lat_max``: the region coordinates are checked against
  for one file (:func:`parse_region_option`; default the ``GRIDGOV_REGION`` setting);
* an id (incident, household, changeset, ``--expected-version``) is a positive whole number
  (:func:`parse_id`); ``--lon``/``--lat`` finite degrees (:func:`check_lonlat`).

Every failure is one ``error:`` line on stderr and an exit code (:func:`main`): a domain error
its own code; a usage error (click's) 2; the database gone or unreachable 2 (saying what to do);
a value the database cannot store 1; a deadlock that outlived its retries 1; a geometry operation
that failed 1; anything else 1 as an internal error (the traceback is logged at ``DEBUG``).

``gridgov --help`` groups the commands by role (:data:`HELP_PANELS`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from gis import clock
from gis.errors import ConfigurationError, GridGovError

__all__ = [
    "app",
    "main",
    "emit",
    "fail",
    "open_engine",
    "parse_as_of",
    "parse_day",
    "parse_month",
    "parse_region_option",
    "parse_id",
    "check_lonlat",
    "default_actor",
    "current_actor",
    "open_owner_engine",
    "GridGovUsage",
    "HELP_PANELS",
    "COMMAND_PERMISSIONS",
    "ACCOUNT_COMMANDS",
    "OWNER_COMMANDS",
    "command_permission",
]

logger = logging.getLogger("gridgov")

#: ``gridgov --help`` panels: every top-level command and group, by role.
HELP_PANELS: dict[str, tuple[str, ...]] = {
    "数据 Data": ("import", "export", "assign", "lookup", "stats", "validate"),
    "边界 Boundaries": ("edit", "history", "diff", "resolve", "rollback"),
    "治理 Governance": ("incident", "visit", "roster", "report", "evaluation", "spotcheck", "notice"),
    "管理 Admin": ("login", "logout", "whoami", "user", "token", "audit", "db", "init", "demo", "app"),
}


#: What each command that reads or writes data needs of the acting account: a permission of
#: :data:`access.permissions.PERMISSIONS`, or a tuple of them (any one will do). Checked in one place
#: (:func:`current_actor`, before the command's first transaction); the services check again and
#: PostgreSQL enforces the rows. ``tests/db/test_permissions.py`` runs every role through this table.
COMMAND_PERMISSIONS: dict[str, str | tuple[str, ...]] = {
    "import grids": "import", "import households": "import", "import incidents": "import",
    "import cameras": "import",
    "import staff": ("import", "manage_roster"), "roster import": ("import", "manage_roster"),
    "export": "export", "assign": "assign", "lookup": "view_map", "stats": "view_map", "validate": "view_map",
    **{f"edit {op}": "edit_boundaries" for op in ("split", "merge", "reshape", "reshape-grid", "annex", "replace",
                                                   "transfer")},
    "history": "view_history", "diff": "view_history", "resolve": "view_history", "rollback": "rollback",
    "incident report": "report_incident", "incident handle": "handle_incident",
    **{f"incident {a}": "act_on_incident" for a in ("accept", "reject", "classify", "dispatch", "close", "reopen")},
    "incident show": "view_incidents", "incident overdue": "view_incidents",
    "visit record": "record_visit", "visit plan": "view_visits",
    "roster export": "export", "roster gaps": "manage_roster", "roster card": "view_map",
    "report assessment": "view_assessment", "report monthly": "make_report",
    "audit": "view_audit",
    # the street's practices (issue #17): cli/practices.py
    **{f"evaluation {c}": "manage_evaluation" for c in ("open", "codes", "close")},
    "evaluation list": ("manage_evaluation", "view_evaluation"), "evaluation results": "view_evaluation",
    **{f"spotcheck {c}": "spot_check" for c in ("draw", "record", "list")}, "spotcheck talks": ("spot_check", "hold_talks"),
    "notice publish": "publish_notice", "notice receipts": "publish_notice", "notice list": "view_map",
    "report three-in-one": "view_assessment", "report rate": "rate_workers",
}
#: Commands any logged-in account may run (about its own session).
ACCOUNT_COMMANDS = ("login", "logout", "whoami")
#: Commands of the database owner on the server (its credentials, not an account's permissions).
OWNER_COMMANDS = ("db", "init", "demo", "user", "token", "app")


def command_permission(path: str) -> tuple[str, ...]:
    """The permissions (any one suffices) that command ``path`` (e.g. ``incident show``) needs; ``()`` for none."""
    needed = COMMAND_PERMISSIONS.get(path)
    if needed is None:
        return ()
    return (needed,) if isinstance(needed, str) else tuple(needed)


def _current_context():  # noqa: ANN202 - the running command's click context, or None
    """Typer vendors click (``typer._click``, typer ≥ 0.2x); older typer uses click itself."""
    import click

    try:
        from typer._click.globals import get_current_context
    except ImportError:
        return click.get_current_context(silent=True)
    return get_current_context(silent=True) or click.get_current_context(silent=True)


def _require_for_command(role: str | None) -> None:
    """Refuse (:class:`access.permissions.PermissionDenied`) when the running command needs a permission
    the acting account's role lacks."""
    from access.permissions import may, require

    ctx = _current_context()
    if ctx is None:  # not inside a command (a library call): nothing to check here
        return
    names = []  # the command's path below `gridgov` (not ctx.command_path: the program name may be several words)
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    path = " ".join(reversed(names))
    needed = command_permission(path)
    if needed and not any(may(role, p) for p in needed):
        require(role, needed[0])


class _PanelOrderedGroup(TyperGroup):
    """Lists the commands in :data:`HELP_PANELS` order, so ``--help`` shows Data, Boundaries, Governance, Admin."""

    def list_commands(self, ctx: Any) -> list[str]:
        order = {name: i for i, name in enumerate(n for names in HELP_PANELS.values() for n in names)}
        return sorted(super().list_commands(ctx), key=lambda name: order.get(name, len(order)))


app = typer.Typer(
    name="gridgov",
    help="GridGov: grid-based community governance on PostGIS (网格化治理).",
    cls=_PanelOrderedGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the project-local PostGIS cluster (var/pg).", no_args_is_help=True)


@app.callback()
def _root(
    as_: Optional[str] = typer.Option(
        None, "--as", metavar="NAME",
        help="Act as account NAME (honoured only for the database owner on the server: scripts, cron). "
             "Default: the account of `gridgov login`, else the GRIDGOV_ACTOR setting.",
    ),
) -> None:
    """GridGov: grid-based community governance on PostGIS (网格化治理)."""
    _RUN["as"] = as_.strip().lower() if as_ and as_.strip() else None
app.add_typer(db_app, name="db")


# -- shared helpers for every sub-command module -------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def emit(data: Any, *, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON (``--json``) or through ``render`` for people."""
    if as_json or render is None:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))
    else:
        render(data)


def fail(message: str, code: int = 1) -> "typer.Exit":
    """Print one line to stderr and return the ``typer.Exit`` to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


#: What the root options chose (``--as``) and the actor of this run, once resolved.
_RUN: dict[str, Any] = {"as": None, "actor": None, "engine": None, "owner_session": None}


def open_owner_engine(**kwargs: Any):  # noqa: ANN201 - sqlalchemy Engine
    """The owner's engine (``DATABASE_URL``, or the local cluster's owner): owner commands only."""
    from store.engine import OWNER, make_engine

    return make_engine(role=OWNER, **kwargs)


def open_engine(**kwargs: Any):  # noqa: ANN201 - sqlalchemy Engine
    """The application engine, every transaction bound to the acting account (:func:`current_actor`)."""
    from store.engine import APP, make_engine

    current_actor()
    if _RUN["engine"] is None or kwargs:
        engine = make_engine(role=APP, **kwargs)
        if kwargs:
            return engine
        _RUN["engine"] = engine
    return _RUN["engine"]


def session_file():  # noqa: ANN201 - Path
    """Where ``gridgov login`` keeps this OS user's session token (mode 0600)."""
    from pathlib import Path

    base = Path(os.path.expanduser("~")) / ".config" / "gridgov"
    return base / "session.json"


def current_actor():  # noqa: ANN201 - access.actor.Actor
    """The account this command acts as, bound to every transaction of the application engine.

    ``--as NAME`` (or the ``GRIDGOV_ACTOR`` setting) when the database owner's credentials are at
    hand (``DATABASE_URL``, or the local cluster's passwords file readable only by root), else the
    session of ``gridgov login``. Raises :class:`GridGovUsage` (exit 2) saying how to log in.
    """
    if _RUN["actor"] is not None:
        _require_for_command(_RUN["actor"].role)
        return _RUN["actor"]
    from gis.settings import get_settings
    from services.auth import actor_for_token, owner_session
    from store.engine import APP, CURRENT_ACTOR_NAME, CURRENT_SESSION, make_engine

    wanted = _RUN["as"] or None
    saved = _saved_session()
    if wanted is None and saved is None:
        wanted = get_settings().actor
    if wanted:
        try:
            owner = open_owner_engine()
        except GridGovError as exc:
            if isinstance(exc, ConfigurationError) or "readable only" in str(exc) or "passwords" in str(exc):
                raise GridGovUsage(
                    f"--as {wanted} is honoured only for the database owner on the server ({exc}); "
                    "log in with `gridgov login` instead"
                ) from None
            raise
        actor = owner_session(owner, make_engine(role=APP), wanted)
        owner.dispose()
        _RUN["owner_session"] = actor.session_token  # ended when the command ends
    elif saved is not None:
        actor = actor_for_token(make_engine(role=APP), saved)
        if actor is None:
            raise GridGovUsage("your session has ended (logged out, expired, or the account was disabled); "
                               "log in again with `gridgov login`")
    else:
        raise GridGovUsage("log in first with `gridgov login` (or, as the database owner on the server, "
                           "`gridgov --as NAME …`)")
    CURRENT_SESSION.set(actor.session_token)
    CURRENT_ACTOR_NAME.set(actor.name)
    _RUN["actor"] = actor
    _require_for_command(actor.role)
    return actor


def _end_owner_session(token: str) -> None:
    """End the short session ``--as`` opened: it is never usable after the command."""
    from services.auth import end_owner_session

    try:
        owner = open_owner_engine()
        try:
            end_owner_session(owner, token)
        finally:
            owner.dispose()
    except Exception:  # noqa: BLE001 - the command's own result stands; the session expires anyway
        logging.getLogger(__name__).debug("could not end the --as session", exc_info=True)


def _saved_session() -> str | None:
    import json

    path = session_file()
    try:
        return json.loads(path.read_text()).get("token") or None
    except (FileNotFoundError, ValueError, PermissionError):
        return None


class GridGovUsage(GridGovError, ValueError):
    """A command-line value that cannot be used (exit code 2)."""

    exit_code = 2


_AS_OF_FORMS = "YYYY-MM-DD or an ISO timestamp (e.g. 2026-11-30 or 2026-11-30T18:00+08:00)"


def parse_as_of(value: str | None, *, option: str = "--as-of", end_of_day: bool = True) -> dt.datetime | None:
    """A moment from the command line: aware, in the ``GRIDGOV_TIMEZONE`` zone unless it has an offset.

    ``YYYY-MM-DD`` is the end of that local day (:func:`gis.clock.end_of_day`; ``end_of_day=False``: its start),
    as :mod:`store.lookup` reads a date; an ISO timestamp without offset is local time.

    Raises
    ------
    GridGovUsage
        (exit 2) naming ``option`` and the expected forms.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return clock.end_of_day(day) if end_of_day else clock.start_of_day(day)
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        raise GridGovUsage(f"{option} was {value!r} but is expected to be {_AS_OF_FORMS}") from None
    return stamp.replace(tzinfo=clock.zone()) if stamp.tzinfo is None else stamp


def parse_day(value: str | None, *, option: str = "--as-of") -> dt.date | None:
    """A day from the command line (``YYYY-MM-DD``, or a timestamp's local day); ``None`` when not given."""
    moment = parse_as_of(value, option=option)
    return None if moment is None else moment.astimezone(clock.zone()).date()


def today() -> dt.date:
    """Today in the ``GRIDGOV_TIMEZONE`` zone."""
    return clock.today()


def parse_month(value: str | None, *, option: str = "--month") -> str | None:
    """``YYYY-MM`` (month 01–12) as given; ``None`` when not given.

    Raises
    ------
    GridGovUsage
        (exit 2) naming ``option`` and the expected form.
    """
    if value is None:
        return None
    text = value.strip()
    if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() and 1 <= int(text[5:]) <= 12:
        return text
    raise GridGovUsage(f"{option} was {value!r} but is expected to be YYYY-MM (e.g. 2026-11)")


def parse_language(value: str | None, *, option: str = "--lang") -> str:
    """A language of the files a command writes (``zh`` default, ``en``: :data:`i18n.LANGUAGES`).

    Raises
    ------
    GridGovUsage
        (exit 2) naming ``option`` and the languages there are.
    """
    from i18n import LANGUAGES

    text = (value or "zh").strip().lower()
    if text in LANGUAGES:
        return text
    raise GridGovUsage(f"{option} was {value!r} but is expected to be one of {', '.join(LANGUAGES)}")


#: The largest id PostgreSQL's ``bigint`` holds (every id column is one).
MAX_ID = 2**63 - 1


def parse_id(value: str | int, *, what: str = "id") -> int:
    """A positive whole-number id from the command line (``typer.Argument(parser=...)``).

    Raises
    ------
    GridGovUsage
        (exit 2) naming ``what``: not a number, zero or negative, or beyond ``bigint``.
    """
    text = str(value).strip()
    body = text[1:] if text[:1] in "+-" else text
    if not body.isdigit() or not body.isascii():
        raise GridGovUsage(f"{what} was {text!r} but is expected to be a positive whole number (e.g. 104)")
    number = int(text)
    if number <= 0:
        raise GridGovUsage(f"{what} was {text} but ids are positive whole numbers (1, 2, 3 …)")
    if number > MAX_ID:
        raise GridGovUsage(f"{what} {text} is out of range: ids are at most {MAX_ID}")
    return number


class _BadOptionValue(GridGovError):
    """A value a ``parser=`` refused (exit 2). Not a ``ValueError``, so click lets it through unwrapped."""

    exit_code = 2


def id_parser(what: str) -> Callable[[str], int]:
    """A ``parser=`` for an id argument or option named ``what``."""

    def parse(value: str) -> int:
        try:
            return parse_id(value, what=what)
        except GridGovUsage as exc:
            raise _BadOptionValue(str(exc)) from None

    return parse


def check_lonlat(lon: float | None, lat: float | None, *, options: tuple[str, str] = ("--lon", "--lat")) -> None:
    """Refuse a longitude/latitude that is NaN, infinite or outside ±180/±90 degrees (exit 2)."""
    import math

    for value, option, bound in ((lon, options[0], 180.0), (lat, options[1], 90.0)):
        if value is None:
            continue
        if not math.isfinite(value):
            raise GridGovUsage(f"{option} was {value} but is expected to be a finite number of degrees "
                               f"(-{bound:g}..{bound:g}, EPSG:4490)")
        if not -bound <= value <= bound:
            raise GridGovUsage(f"{option} was {value:g} but is expected to be within -{bound:g}..{bound:g} degrees "
                               "(EPSG:4490 lon/lat; are the coordinates projected metres, or swapped?)")


def parse_region_option(value: str | None) -> tuple[float, float, float, float] | None:
    """``--region lon_min,lat_min,lon_max,lat_max`` (degrees) parsed like ``GRIDGOV_REGION``; ``None`` when not given."""
    if value is None:
        return None
    from gis.settings import parse_region

    try:
        return parse_region(value)
    except ConfigurationError as exc:
        raise GridGovUsage(str(exc).replace("GRIDGOV_REGION", "--region", 1)) from None


def default_actor() -> str:
    """The name of the account this command acts as (:func:`current_actor`)."""
    return current_actor().name


AS_OF_HELP = "The moment to look at: YYYY-MM-DD (end of that day) or an ISO timestamp; default now."
JSON_HELP = "Print JSON."


# -- db ----------------------------------------------------------------------------------
def _cluster():
    from store.engine import local_cluster

    return local_cluster()


def _database_url_set() -> bool:
    from gis.settings import get_settings

    return bool(get_settings().database_url)


def _refuse_with_database_url(action: str) -> None:
    if _database_url_set():
        raise fail(f"DATABASE_URL is set, so there is no local cluster to {action}", 2)


@db_app.command("up")
def db_up() -> None:
    """Create (first time) and start the local PostGIS cluster, with the gridgov database."""
    _refuse_with_database_url("start")
    cluster = _cluster()
    cluster.start()
    typer.echo(f"PostGIS cluster running in {cluster.data_dir} on 127.0.0.1:{cluster.port}")


@db_app.command("down")
def db_down() -> None:
    """Stop the local PostGIS cluster."""
    _refuse_with_database_url("stop")
    cluster = _cluster()
    cluster.stop()
    typer.echo("PostGIS cluster stopped")


@db_app.command("status")
def db_status(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Show whether the local cluster is initialized and running."""
    if _database_url_set():
        from store.engine import database_url
        from sqlalchemy.engine import make_url

        data: dict[str, Any] = {"database_url": make_url(database_url()).render_as_string(hide_password=True)}
    else:
        data = _cluster().status()
    emit(data, as_json=as_json, render=lambda d: [typer.echo(f"{k}: {v}") for k, v in d.items()])


@db_app.command("url")
def db_url(
    role: str = typer.Option("owner", "--role", help="owner (migrations, owner commands) or app (the application "
                                                     "role the app, the CLI and the API connect as)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Print the SQLAlchemy URL (with its password) of the database in use, as the owner or the application role.

    The local cluster's passwords are in a file only root (its creator) may read, so only root can
    print them; with DATABASE_URL / GRIDGOV_APP_DATABASE_URL the configured URLs are printed.
    """
    from store.engine import APP, OWNER, database_url

    if role not in (OWNER, APP):
        raise fail(f"--role was {role!r} but is expected to be {OWNER!r} or {APP!r}", 2)
    url = database_url(role=role)
    emit({"database_url": url, "role": role}, as_json=as_json, render=lambda d: typer.echo(d["database_url"]))


# -- schema and demo ------------------------------------------------------------------------
@app.command("init")
def init() -> None:
    """Migrate the database to the latest schema (Alembic)."""
    from sqlalchemy.engine import make_url

    from gis.settings import get_settings
    from store.engine import app_database_url
    from store.migrate import current_revision, prepare

    engine = open_owner_engine()
    try:
        app_role = make_url(app_database_url()).username
    except ConfigurationError:
        app_role = None
    todo = prepare(engine, app_role=app_role)
    typer.echo(f"schema at revision {current_revision(engine)}")
    if todo:
        typer.echo("the owner may not create or grant the application role; an administrator must run:", err=True)
        for statement in todo:
            typer.echo(f"  {statement};", err=True)
        raise typer.Exit(2)
    if app_role is None and get_settings().database_url:
        typer.echo("warning: GRIDGOV_APP_DATABASE_URL is not set; the app cannot connect until it is", err=True)


@app.command("demo")
def demo(
    seed: int = typer.Option(7, help="Random seed; the same seed gives the same subdistrict."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Load only into an empty database; otherwise say so and change nothing."
    ),
    replace_all_data: bool = typer.Option(
        False, "--replace-all-data",
        help="Delete everything in the database (imports, edits, incidents, visits, ...) and load the demo.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """(Re)load the demo subdistrict (松杨湖街道, Yunxi District, Yueyang).

    Replaces an earlier demo load. Refuses (exit 1, nothing changed) when the database holds
    data the demo did not create, unless --replace-all-data.
    """
    from demo.generate import DEMO_PASSWORD, generate_demo
    from governance.deadlines import DeadlinePolicy
    from services.demo import ForeignDataError, demo_accounts, describe_foreign, load_demo

    if if_empty and replace_all_data:
        raise fail("give --if-empty or --replace-all-data, not both", 2)
    policy = DeadlinePolicy.from_settings()
    owner = open_owner_engine()
    try:
        result = load_demo(
            owner, lambda: generate_demo(seed, policy=policy),
            if_empty=if_empty, replace_all_data=replace_all_data,
        )
    except ForeignDataError as exc:
        if as_json:
            emit({"loaded": False, "refused": True, "found": exc.found.to_dict()}, as_json=True)
        raise fail(f"{exc}. Run `gridgov demo --replace-all-data` to delete everything and load the demo") from None

    accounts = demo_accounts(owner)
    owner.dispose()

    def render(_data: Any) -> None:
        if not result.loaded:
            typer.echo(f"demo not loaded: {result.reason}")
        else:
            if result.replaced.found:
                typer.echo(f"deleted: {describe_foreign(result.replaced)}")
            typer.echo("demo loaded: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
        if accounts:
            typer.echo(f"demo accounts (password {DEMO_PASSWORD}, unless changed since):")
            for a in accounts:
                more = f" (and {a['count'] - 1} more)" if a["count"] > 1 else ""
                typer.echo(f"  {a['role']:<12} {a['example']}{more}")
            typer.echo("change a password: gridgov user passwd NAME --password-stdin")

    emit({**result.to_dict(), "accounts": accounts, "demo_password": DEMO_PASSWORD}, as_json=as_json, render=render)


# -- lookup and stats -----------------------------------------------------------------------
def _render_cards(cards: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for card in cards:
        title = f"[bold]{card.code}[/bold] {card.name} (level {card.level})"
        console.print(title, markup=True, highlight=False)
        if card.parents:
            console.print("  parents: " + " > ".join(f"{c} {n}" for c, n in card.parents), markup=False)
        special = "<5" if card.special_households is None else card.special_households
        console.print(
            f"  households {card.households} (special {special}), residents {card.residents}, "
            f"open incidents {card.open_incidents}, area {card.area_m2 / 1e6:.3f} km²",
            markup=False,
        )
        if card.staff:
            table = Table("role", "name", "phone", box=None, pad_edge=False)
            for s in card.staff:
                table.add_row(s.role, s.name, s.phone or "")
            console.print(table)
        if card.children:
            console.print("  children: " + ", ".join(f"{c} {n}" for c, n in card.children), markup=False)


@app.command("lookup")
def lookup(
    lon: Optional[float] = typer.Option(None, help="Longitude (EPSG:4490 degrees)."),
    lat: Optional[float] = typer.Option(None, help="Latitude (EPSG:4490 degrees)."),
    code: Optional[str] = typer.Option(None, help="Grid code of any level."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The plan at this moment: " + AS_OF_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The grid at a point (with its parents) or the card of a grid code."""
    from store.lookup import GridNotFoundAtPoint, grid_card, lookup_point

    when = parse_as_of(as_of)
    if code is None and (lon is None or lat is None):
        raise fail("give --code, or both --lon and --lat", 2)
    check_lonlat(lon, lat)
    engine = open_engine()
    from services.overview import disclose_card

    actor = current_actor()
    with engine.connect() as conn:
        if code is not None:
            cards = [grid_card(conn, code.strip(), as_of=when)]
        else:
            try:
                cards = lookup_point(conn, lon, lat, as_of=when)  # type: ignore[arg-type]
            except GridNotFoundAtPoint as exc:
                if as_json:
                    near = exc.nearest
                    typer.echo(json.dumps({
                        "found": False, "lon": lon, "lat": lat,
                        "nearest": None if near is None else {"code": near.code, "name": near.name,
                                                             "distance_m": round(near.distance_m, 1)},
                    }, ensure_ascii=False, indent=2))
                raise fail(str(exc), 1) from None
    cards = [disclose_card(c, actor) for c in cards]  # small special-household counts: the grid's own people only
    emit([c.to_dict() for c in cards] if code is None else cards[0].to_dict(), as_json=as_json,
         render=lambda _d: _render_cards(cards))


@app.command("stats")
def stats(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Counts: grids per level, households, residents, staff, incidents by status, unassigned."""
    from store.lookup import subdistrict_stats

    engine = open_engine()
    with engine.connect() as conn:
        data = subdistrict_stats(conn)

    def render(d: dict[str, Any]) -> None:
        for key, value in d.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}: {v}" for k, v in value.items())
            typer.echo(f"{key}: {value}")

    emit(data, as_json=as_json, render=render)


@app.command("app")
def serve_app(
    port: Optional[int] = typer.Option(None, help="Port (default: the GRIDGOV_APP_PORT setting, 8501)."),
    address: Optional[str] = typer.Option(
        None, help="Address to listen on (default: the GRIDGOV_APP_ADDRESS setting, 127.0.0.1: this machine only; "
                   "0.0.0.0 opens the app to the network)."),
) -> None:
    """Serve the Streamlit app (``serve.py``: app.py, with the map rendered before the first visitor)."""
    from gis.settings import PROJECT_ROOT, get_settings

    settings = get_settings()
    port = port or settings.app_port
    address = address or settings.app_address
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "serve.py"),
        "--server.port", str(port), "--server.address", address, "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # Streamlit's welcome banner looks up the machine's external IP on the internet when it
        # listens on 0.0.0.0; the URL is printed below instead (offline intranets).
        "--logger.hideWelcomeMessage", "true",
    ]
    typer.echo(f"serving GridGov on http://{address}:{port}/")
    sys.stdout.flush()
    # Replace this process with the server, so a stop signal (Ctrl-C, systemd, a test) reaches it
    # directly instead of leaving an orphaned server behind.
    os.chdir(PROJECT_ROOT)
    os.execv(sys.executable, cmd)


# -- sub-command modules ---------------------------------------------------------------------
_registered = False


def _register_subcommands() -> None:
    """Attach the sub-command modules (each owns one area); done once, on first use."""
    import importlib

    global _registered
    if _registered:
        return
    _registered = True

    for module_name, attr in (
        ("cli.io", "register"),
        ("cli.boundaries", "register"),
        ("cli.governance", "register"),
        ("cli.practices", "register"),
        ("cli.accounts", "register"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # area not built yet
            raise
        getattr(module, attr)(app)


def _assign_help_panels(typer_app: typer.Typer) -> None:
    """Put every top-level command and group in its :data:`HELP_PANELS` panel (one table, not per decorator)."""
    panel_of = {name: panel for panel, names in HELP_PANELS.items() for name in names}
    for info in [*typer_app.registered_commands, *typer_app.registered_groups]:
        if info.name in panel_of:
            info.rich_help_panel = panel_of[info.name]


def get_app() -> typer.Typer:
    """The complete ``gridgov`` app with every sub-command registered (for tests and ``main``)."""
    _register_subcommands()
    _assign_help_panels(app)
    return app


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _usage_line(exc: Any) -> str:
    """Click's usage error as one line: the message and where to look (``gridgov CMD --help``)."""
    name = type(exc).__name__
    option = getattr(exc, "option_name", None)
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", "gridgov") if ctx is not None else "gridgov"
    if name == "NoSuchOption" and option and option.lstrip("-").replace(".", "", 1).isdigit():
        return (f"{option} is not an option of `{path}`; a negative number cannot be an id "
                "(ids are positive whole numbers, e.g. 104)")
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return f"{_one_line(message)} (see `{path} --help`)"


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: every failure becomes one line on stderr and an exit code.

    0 success; 1 bad input, not found, refused (a stale version, a deadlock that outlived its
    retries, a value the database cannot store, an internal error); 2 usage or environment (a
    malformed option, a bad setting, the database unreachable or gone). Never a traceback: an
    unexpected error's traceback is logged at ``DEBUG`` (``GRIDGOV_LOG_LEVEL=DEBUG``).
    """
    from gis.settings import get_settings

    try:
        settings = get_settings()
    except ConfigurationError as exc:  # a bad GRIDGOV_* setting: nothing can run
        typer.echo(f"error: {_one_line(exc)}", err=True)
        return exc.exit_code
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    from store.engine import CURRENT_ACTOR_NAME, CURRENT_SESSION

    _RUN.update({"as": None, "actor": None, "engine": None, "owner_session": None})
    session_token, actor_name = CURRENT_SESSION.set(None), CURRENT_ACTOR_NAME.set(None)
    try:
        return _run(argv)
    finally:
        if _RUN["engine"] is not None:
            _RUN["engine"].dispose()
        if _RUN.get("owner_session"):
            _end_owner_session(_RUN["owner_session"])
        _RUN.update({"as": None, "actor": None, "engine": None, "owner_session": None})
        CURRENT_SESSION.reset(session_token)
        CURRENT_ACTOR_NAME.reset(actor_name)


def _run(argv: list[str] | None) -> int:

    try:
        result = get_app()(args=argv, prog_name="gridgov", standalone_mode=False)
        if isinstance(result, int):  # click returns the code of a typer.Exit in this mode
            return result
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except GridGovError as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("error: interrupted; a write in progress was rolled back", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place every other failure becomes one line
        return _report(exc)
    return 0


def _report(exc: BaseException) -> int:
    """One ``error:`` line and the exit code for an exception that is not a :class:`GridGovError`."""
    from store.session import database_error

    def line(message: str, code: int) -> int:
        typer.echo(f"error: {_one_line(message)}", err=True)
        return code

    # click's usage errors (typer vendors click, so match by shape)
    if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
        return line(_usage_line(exc), int(exc.exit_code))  # type: ignore[attr-defined]
    if type(exc).__name__ == "Abort":
        return line("aborted", 2)
    translated = database_error(exc)
    if translated is not None:
        logger.debug("database error", exc_info=exc)
        return line(str(translated), translated.exit_code)
    if isinstance(exc, OSError) and exc.filename is not None:
        # a file the user named cannot be read or written (missing directory, no permission …)
        return line(f"{exc.filename}: {exc.strerror or exc}", 1)
    if isinstance(exc, MemoryError):
        return line("out of memory: the input is too large for this machine; split it, or lower GRIDGOV_MAX_FILE_MB / "
                    "GRIDGOV_MAX_VERTICES so it is refused early", 2)
    if type(exc).__module__.startswith("shapely") or type(exc).__name__ in ("GEOSException", "TopologyException"):
        logger.debug("geometry error", exc_info=exc)
        return line(f"a geometry operation failed ({exc}); check that the geometries are valid polygons "
                    "without self-intersections (`gridgov validate`)", 1)
    logger.debug("internal error", exc_info=exc)
    return line(f"internal error: {type(exc).__name__}: {exc} (run with GRIDGOV_LOG_LEVEL=DEBUG for the details)", 1)


if __name__ == "__main__":
    sys.exit(main())
