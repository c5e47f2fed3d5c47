"""The one way tests invoke the ``gridgov`` command line, and the database state they compare.

Every test that runs a command goes through :func:`run` (in this process, output returned),
:func:`main` (in this process, output to ``capsys``) or :func:`command` (a separate process), so that a single place says who acts: :func:`subprocess_env` and the tests' ``database_env``
set ``GRIDGOV_ACTOR`` (the owner's ``--as``); :data:`ACCOUNT_ARGS` goes before every command. :func:`table_checksums` is
the per-table checksum a refused command must leave unchanged.
"""

from __future__ import annotations

import gc
import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from sqlalchemy import create_engine, text

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Arguments put before every command (the acting account, once accounts exist).
ACCOUNT_ARGS: tuple[str, ...] = ()


@contextmanager
def environment(env: Mapping[str, str | None] | None) -> Iterator[None]:
    """``os.environ`` with ``env`` applied (``None`` removes a variable), settings re-read, then restored."""
    from gis.settings import get_settings

    saved = {k: os.environ.get(k) for k in (env or {})}
    try:
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def run(args: Sequence[str], *, env: Mapping[str, str | None] | None = None) -> tuple[int, str, str]:
    """``gridgov ARGS`` in this process: ``(exit code, stdout, stderr)``.

    Rich tables are laid out wide (``COLUMNS=1000``) so a message is never wrapped across lines.
    """
    from cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with environment({"COLUMNS": "1000", **(env or {})}), redirect_stdout(out), redirect_stderr(err):
        code = main([*ACCOUNT_ARGS, *args])
    gc.collect()  # each command's engine (and its pooled connection) goes now, not at some later collection
    return code, out.getvalue(), err.getvalue()


def main(args: Sequence[str]) -> int:
    """``gridgov ARGS`` in this process, printing where the test's ``capsys`` captures; the exit code.

    The drop-in for ``cli.main.main`` in tests that read the output with ``capsys``.
    """
    from cli.main import main as gridgov

    return gridgov([*ACCOUNT_ARGS, *args])


def command(args: Sequence[str]) -> list[str]:
    """The argv that runs ``gridgov ARGS`` in a separate process (``subprocess``), this checkout's code."""
    return [sys.executable, "-m", "cli.main", *ACCOUNT_ARGS, *args]


def subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of such a process: this checkout on ``PYTHONPATH``, the database (acting as the
    test database's ``admin`` account), wide tables."""
    from testdb import database_env

    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **database_env(database_url), "COLUMNS": "1000", **extra}


def table_checksums(url: str) -> dict[str, str]:
    """``{table: md5}`` over every row of every table in ``public`` (rows as text, sorted): byte-identical or not.

    ``sessions`` is left out: each command acting ``--as`` an account opens and ends a session of
    its own (login bookkeeping, not data). The audit log is in: a refused write leaves no entry.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('spatial_ref_sys', 'sessions') "
                "ORDER BY tablename")).scalars().all()
            return {
                t: conn.execute(text(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{t}\" t")).scalar_one()
                for t in tables
            }
    finally:
        engine.dispose()
