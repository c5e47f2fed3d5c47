"""The command line's shared options: one meaning per name, one parser, exit 2 and one line for a bad value.

These run without a database: every value is parsed before a command opens one. DATABASE_URL
points at a closed port, so a command that touched the database first would fail with a
different message (and the assertions on the message would catch it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from cli.main import HELP_PANELS, get_app
from tests.db._cli import main

BAD_DATE = "2026-13-45"
CODE = "430603003001001001"


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch):
    from gis.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    for name in ("GRIDGOV_ACTOR", "GRIDGOV_LOG_LEVEL", "GRIDGOV_REGION", "GRIDGOV_APP_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _click_root():  # noqa: ANN202 - typer's (vendored) click group
    return typer.main.get_command(get_app())


def _commands(group, path: tuple[str, ...] = ()):  # noqa: ANN001, ANN202
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer vendors click: match by shape)
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


DATE_OPTIONS = ("--as-of", "--at", "--month")


def _date_cases(tmp: Path) -> list[tuple[list[str], str]]:
    """Every date option (and date argument) of every command, with the value ``BAD_DATE``."""
    return [
        (["lookup", "--code", CODE, "--as-of", BAD_DATE], "--as-of"),
        (["export", "grids", "--out", str(tmp / "g.gpkg"), "--as-of", BAD_DATE], "--as-of"),
        (["validate", "--as-of", BAD_DATE], "--as-of"),
        (["diff", BAD_DATE], "OLD"),
        (["diff", "1", BAD_DATE], "NEW"),
        (["incident", "report", "--lon", "112.9", "--lat", "29.4", "--category", "环境卫生", "--at", BAD_DATE], "--at"),
        (["incident", "overdue", "--as-of", BAD_DATE], "--as-of"),
        (["report", "assessment", "--month", "2026-11", "--as-of", BAD_DATE], "--as-of"),
        (["report", "assessment", "--month", BAD_DATE], "--month"),
        (["report", "monthly", "--month", "2026-11", "--out", str(tmp / "m"), "--as-of", BAD_DATE], "--as-of"),
        (["report", "monthly", "--month", BAD_DATE, "--out", str(tmp / "m")], "--month"),
        (["visit", "record", "--household", "1", "--staff", "W1", "--at", BAD_DATE], "--at"),
        (["visit", "plan", "--as-of", BAD_DATE], "--as-of"),
        (["visit", "plan", "--month", BAD_DATE], "--month"),
        (["roster", "export", "--out", str(tmp / "r.xlsx"), "--as-of", BAD_DATE], "--as-of"),
        (["roster", "gaps", "--as-of", BAD_DATE], "--as-of"),
        (["roster", "card", CODE, "--as-of", BAD_DATE], "--as-of"),
        (["spotcheck", "draw", "--month", BAD_DATE], "--month"),
        (["spotcheck", "record", "1", "--outcome", "confirmed", "--method", "phone", "--at", BAD_DATE], "--at"),
        (["spotcheck", "talks", "--done", "1", "--note", "x", "--at", BAD_DATE], "--at"),
    ]


def test_the_date_table_covers_every_date_option() -> None:
    """A new date option without a row in the table above fails here."""
    covered = set()
    for args, option in _date_cases(Path("/tmp")):
        words = [a for a in args if not a.startswith("-")]
        covered.add((tuple(words[:2] if words[0] in {"incident", "report", "visit", "roster", "spotcheck"} else words[:1]), option))
    expected = set()
    for path, command in _commands(_click_root()):
        for param in command.params:
            for opt in param.opts:
                if opt in DATE_OPTIONS:
                    expected.add((path, opt))
    assert expected - covered == set()
    assert len(expected) >= 15


@pytest.mark.parametrize("case", range(20))
def test_every_date_option_gives_exit_2_and_one_error_line(case: int, tmp_path: Path, capsys) -> None:
    args, option = _date_cases(tmp_path)[case]
    code = main(args)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (args, captured.err)
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert option in lines[0] and repr(BAD_DATE) in lines[0] and "YYYY-MM" in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_good_dates_are_parsed_in_the_configured_zone() -> None:
    import datetime as dt

    from cli.main import parse_as_of, parse_day, parse_month

    end = parse_as_of("2026-11-30")
    assert (end.date(), end.hour, end.utcoffset()) == (dt.date(2026, 11, 30), 23, dt.timedelta(hours=8))
    assert parse_as_of("2026-11-30T08:00").utcoffset() == dt.timedelta(hours=8)
    assert parse_as_of("2026-11-30T08:00+00:00").utcoffset() == dt.timedelta(0)
    assert parse_day("2026-11-30T20:00:00+00:00") == dt.date(2026, 12, 1)  # 04:00 the next day in Shanghai
    assert parse_month("2026-11") == "2026-11" and parse_month(None) is None
    for bad in ("2026-1", "2026-00", "2026-13", "26-11", "2026/11"):
        with pytest.raises(Exception, match="--month was"):
            parse_month(bad)


@pytest.mark.parametrize("command", [["import", "grids"], ["import", "households"], ["import", "incidents"],
                                     ["validate"]])
@pytest.mark.parametrize("region", ["1,2,3", "a,b,c,d", "120,30,110,40"])
def test_a_bad_region_gives_exit_2_naming_the_option(command, region, tmp_path, capsys) -> None:
    code = main([*command, str(tmp_path / "file.gpkg"), "--region", region])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: --region was ") and len(err.splitlines()) == 1, err
    assert "GRIDGOV_REGION" not in err


def test_no_author_no_on_and_out_is_always_an_option() -> None:
    for path, command in _commands(_click_root()):
        for param in command.params:
            assert "--author" not in param.opts and "--on" not in param.opts, (path, param.opts)
            if param.name == "out":
                assert param.param_type_name == "option" and param.opts == ["--out"], path
            # who acts is an account (`gridgov login`, or the owner's global --as): no per-command actor
            assert "--by" not in param.opts, (path, param.opts)


def test_writes_that_can_hurt_have_a_dry_run() -> None:
    commands = dict(_commands(_click_root()))
    for path in [("import", "grids"), ("import", "households"), ("import", "incidents"), ("import", "staff"),
                 ("roster", "import"), ("edit", "split"), ("edit", "merge"), ("edit", "reshape"), ("edit", "reshape-grid"), ("edit", "annex"), ("edit", "replace"),
                 ("edit", "transfer"), ("rollback",), ("assign",)]:
        assert any("--dry-run" in p.opts for p in commands[path].params), path


def test_roster_import_is_the_staff_import() -> None:
    commands = dict(_commands(_click_root()))
    alias, staff = commands[("roster", "import")], commands[("import", "staff")]
    assert alias.callback.__wrapped__ is staff.callback.__wrapped__  # typer wraps the one function
    assert [p.opts for p in alias.params] == [p.opts for p in staff.params]


def test_help_shows_the_four_groups(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    positions = [out.find(title) for title in ("数据 Data", "边界 Boundaries", "治理 Governance", "管理 Admin")]
    assert -1 not in positions and positions == sorted(positions), out
    panels = {name: panel for panel, names in HELP_PANELS.items() for name in names}
    assert set(panels) == set(_click_root().commands), "every top-level command is in exactly one group"
    for name, panel in panels.items():  # each command is listed inside its own panel
        start = out.find(panel)
        following = [out.find(p) for p in HELP_PANELS if out.find(p) > start]
        assert start < out.find(f" {name} ", start) < min(following, default=len(out)), name


def test_without_a_login_a_command_says_how_to_log_in(monkeypatch, capsys, tmp_path) -> None:
    """No session file, no --as, no GRIDGOV_ACTOR: exit 2 and one line naming `gridgov login`."""
    from cli.main import main
    from gis.settings import get_settings

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GRIDGOV_ACTOR", raising=False)
    get_settings.cache_clear()
    code = main(["stats"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: log in first with `gridgov login`") and len(err.splitlines()) == 1


def test_as_is_honoured_only_for_the_database_owner(monkeypatch, capsys, tmp_path) -> None:
    """--as needs the owner's credentials: without DATABASE_URL and without the cluster's passwords
    file (another checkout's data directory), the command refuses, exit 2."""
    from cli.main import main
    from gis.settings import get_settings

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    code = main(["--as", "admin", "stats"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--as admin is honoured only for the database owner" in err, err


def test_a_bad_log_level_is_one_error_line_and_exit_2(monkeypatch, capsys) -> None:
    from gis.settings import get_settings

    monkeypatch.setenv("GRIDGOV_LOG_LEVEL", "LOUD")
    get_settings.cache_clear()
    assert main(["stats"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: GRIDGOV_LOG_LEVEL was 'LOUD'") and len(err.splitlines()) == 1


def test_the_log_level_setting_configures_logging(monkeypatch) -> None:
    import logging

    from gis.settings import get_settings

    seen = {}
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: seen.update(kw))
    monkeypatch.setenv("GRIDGOV_LOG_LEVEL", "debug")
    get_settings.cache_clear()
    assert main(["--help"]) == 0
    assert seen["level"] == "DEBUG"


class _Exec(BaseException):
    """Stands in for os.execv (a BaseException: main turns every Exception into one error line)."""


@pytest.mark.parametrize(("environ", "args", "address"), [
    ({}, [], "127.0.0.1"),
    ({"GRIDGOV_APP_ADDRESS": "0.0.0.0"}, [], "0.0.0.0"),
    ({"GRIDGOV_APP_ADDRESS": "0.0.0.0"}, ["--address", "10.1.2.3"], "10.1.2.3"),
])
def test_app_listens_on_the_configured_address(environ, args, address, monkeypatch, capsys) -> None:
    import os

    from gis.settings import get_settings

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    seen: dict[str, list[str]] = {}

    def fake_execv(path: str, argv: list[str]) -> None:
        seen["argv"] = argv
        raise _Exec

    monkeypatch.setattr(os, "execv", fake_execv)
    monkeypatch.setattr(os, "chdir", lambda path: None)
    with pytest.raises(_Exec):
        main(["app", *args])
    argv = seen["argv"]
    assert argv[argv.index("--server.address") + 1] == address
    assert argv[argv.index("--logger.hideWelcomeMessage") + 1] == "true"
    assert f"http://{address}:8501/" in capsys.readouterr().out


def test_a_file_that_cannot_be_written_is_one_line_not_a_traceback(monkeypatch, tmp_path, capsys) -> None:
    """An OSError about a file the user named (e.g. --out in a missing directory) is exit 1, one line."""
    import services.exports
    from access.actor import Actor

    def refuse(*args, **kwargs):  # where the roster's file is written (services.exports -> etl.export.write_staff)
        raise FileNotFoundError(2, "No such file or directory", str(tmp_path / "missing" / "r.xlsx"))

    monkeypatch.setattr(services.exports, "export_roster", refuse)
    monkeypatch.setattr("cli.main.current_actor", lambda: Actor("admin", account="admin", role="admin"))
    monkeypatch.setattr("cli.main.open_engine", lambda **kw: object())
    assert main(["roster", "export", "--out", str(tmp_path / "missing" / "r.xlsx")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"error: {tmp_path / 'missing' / 'r.xlsx'}: No such file or directory"


def test_every_edit_operation_has_its_command() -> None:
    """The editor's operations (one catalogue) are the `gridgov edit` commands, name for name."""
    from boundaries.edits.catalogue import OPERATIONS

    commands = dict(_commands(_click_root()))
    edit_commands = {path[1] for path in commands if len(path) == 2 and path[0] == "edit"}
    assert edit_commands == {name.replace("_", "-") for name in OPERATIONS}
