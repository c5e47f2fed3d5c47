"""``gridgov``: the command line that mirrors what the app does.

Exit codes: 0 success; 1 validation failure or not found; 2 usage or environment error
(database unreachable, PostGIS missing, bad setting). A user's mistake is one line on
stderr, never a traceback. Commands whose output is data take ``--json``.
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

from gis.errors import GridGovError

__all__ = ["app", "main", "emit", "fail", "open_engine", "parse_as_of"]

logger = logging.getLogger("gridgov")

app = typer.Typer(
    name="gridgov",
    help="GridGov: grid-based community governance on PostGIS (网格化治理).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the project-local PostGIS cluster (var/pg).", no_args_is_help=True)
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


def open_engine(**kwargs: Any):  # noqa: ANN201 - sqlalchemy Engine
    """Engine for the configured database (DATABASE_URL or the local cluster)."""
    from store.engine import make_engine

    return make_engine(**kwargs)


def parse_as_of(value: str | None) -> dt.date | dt.datetime | None:
    """``YYYY-MM-DD`` (the end of that day, local time) or an ISO timestamp with offset."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise GridGovUsage(f"--as-of was {value!r} but is expected to be YYYY-MM-DD or an ISO timestamp") from None
    if stamp.tzinfo is None:
        from zoneinfo import ZoneInfo

        from gis.settings import get_settings

        stamp = stamp.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return stamp


class GridGovUsage(GridGovError, ValueError):
    """A command-line value that cannot be used."""

    exit_code = 2


# -- db ----------------------------------------------------------------------------------
def _cluster():
    from store.engine import local_cluster

    return local_cluster()


def _refuse_with_database_url(action: str) -> None:
    if os.environ.get("DATABASE_URL"):
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
def db_status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether the local cluster is initialized and running."""
    if os.environ.get("DATABASE_URL"):
        from store.engine import database_url
        from sqlalchemy.engine import make_url

        data: dict[str, Any] = {"database_url": make_url(database_url()).render_as_string(hide_password=True)}
    else:
        data = _cluster().status()
    emit(data, as_json=as_json, render=lambda d: [typer.echo(f"{k}: {v}") for k, v in d.items()])


@db_app.command("url")
def db_url() -> None:
    """Print the SQLAlchemy URL of the database in use."""
    from store.engine import database_url

    typer.echo(database_url())


# -- schema and demo ------------------------------------------------------------------------
@app.command("init")
def init() -> None:
    """Migrate the database to the latest schema (Alembic)."""
    from store.migrate import current_revision, upgrade

    engine = open_engine()
    upgrade(engine)
    typer.echo(f"schema at revision {current_revision(engine)}")


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
    from demo.generate import generate_demo
    from governance.deadlines import DeadlinePolicy
    from services.demo import ForeignDataError, describe_foreign, load_demo

    if if_empty and replace_all_data:
        raise fail("give --if-empty or --replace-all-data, not both", 2)
    policy = DeadlinePolicy.from_settings()
    try:
        result = load_demo(
            open_engine(), lambda: generate_demo(seed, policy=policy),
            if_empty=if_empty, replace_all_data=replace_all_data,
        )
    except ForeignDataError as exc:
        if as_json:
            emit({"loaded": False, "refused": True, "found": exc.found.to_dict()}, as_json=True)
        raise fail(f"{exc}. Run `gridgov demo --replace-all-data` to delete everything and load the demo") from None

    def render(_data: Any) -> None:
        if not result.loaded:
            typer.echo(f"demo not loaded: {result.reason}")
            return
        if result.replaced.found:
            typer.echo(f"deleted: {describe_foreign(result.replaced)}")
        typer.echo("demo loaded: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))

    emit(result.to_dict(), as_json=as_json, render=render)


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
        console.print(
            f"  households {card.households} (special {card.special_households}), residents {card.residents}, "
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
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD) or timestamp: the plan then."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The grid at a point (with its parents) or the card of a grid code."""
    from store.lookup import GridNotFoundAtPoint, grid_card, lookup_point

    if code is None and (lon is None or lat is None):
        raise fail("give --code, or both --lon and --lat", 2)
    when = parse_as_of(as_of)
    engine = open_engine()
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
    emit([c.to_dict() for c in cards] if code is None else cards[0].to_dict(), as_json=as_json,
         render=lambda _d: _render_cards(cards))


@app.command("stats")
def stats(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
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
    port: Optional[int] = typer.Option(None, help="Port (default GRIDGOV_APP_PORT or 8501)."),
    address: str = typer.Option("0.0.0.0", help="Address to listen on."),
) -> None:
    """Serve the Streamlit app (``serve.py``: app.py, with the map rendered before the first visitor)."""
    from gis.settings import PROJECT_ROOT, get_settings

    port = port or get_settings().app_port
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
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # area not built yet
            raise
        getattr(module, attr)(app)


def get_app() -> typer.Typer:
    """The complete ``gridgov`` app with every sub-command registered (for tests and ``main``)."""
    _register_subcommands()
    return app


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: domain errors become one line on stderr and an exit code."""
    logging.basicConfig(level=os.environ.get("GRIDGOV_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    try:
        result = get_app()(args=argv, standalone_mode=False)
        if isinstance(result, int):  # click returns the code of a typer.Exit in this mode
            return result
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except GridGovError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:  # click's usage errors (typer vendors click, so match by shape)
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return int(exc.exit_code)
        if type(exc).__name__ == "Abort":
            typer.echo("aborted", err=True)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
