"""Crashes leave nothing half-written (issue #14): the server or the client killed mid-command.

* the **server** killed (``SIGKILL`` of the backend running the command: PostgreSQL then resets
  every backend and recovers from its WAL, as after a power cut) in the middle of an import's
  COPY and in the middle of a boundary edit (after it wrote its changeset and grid versions,
  while it waits to move households): the command prints one ``error:`` line, exits 2, and once
  the server is back every table is byte-identical to before (per-table checksums);
* the **client** (``gridgov``) killed in the middle of a boundary edit: the server rolls the
  transaction back; every table byte-identical. (The client killed mid-import:
  ``tests/db/test_bad_files.py::test_killed_import_leaves_the_database_as_it_was``.)

Killing a backend restarts the whole local cluster for a moment; these tests wait for it to
accept connections again, and throw away the pooled connections it ended.
"""

from __future__ import annotations

from testdb import database_env

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.db._cli import command, run, subprocess_env, table_checksums

pytestmark = pytest.mark.db

L1 = "430104001001"
L2 = L1 + "001"
MICRO = [L2 + f"{i:03d}" for i in (1, 2, 3, 4)]
COMMUNITY = shapely.box(112.90, 28.20, 112.92, 28.22)
QUADRANTS = [shapely.box(112.90, 28.20, 112.91, 28.21), shapely.box(112.91, 28.20, 112.92, 28.21),
             shapely.box(112.90, 28.21, 112.91, 28.22), shapely.box(112.91, 28.21, 112.92, 28.22)]
#: What each crash printed and how many tables differed afterwards (for docs/reliability.md).
OUTCOMES: dict[str, dict[str, object]] = {}


@pytest.fixture()
def street(empty_database_url: str, tmp_path: Path) -> str:
    env = database_env(empty_database_url)
    plan = gpd.GeoDataFrame({"code": [L1, L2, *MICRO], "name": ["社区", "网格", "甲", "乙", "丙", "丁"]},
                            geometry=[COMMUNITY, COMMUNITY, *QUADRANTS], crs=4490)
    plan.to_file(tmp_path / "plan.geojson")
    assert run(["import", "grids", str(tmp_path / "plan.geojson")], env=env)[0] == 0
    rng = np.random.default_rng(3)
    pd.DataFrame({"户号": [f"H{i:05d}" for i in range(2000)], "地址": "路",
                  "经度": rng.uniform(112.9005, 112.9095, 2000).round(6),
                  "纬度": rng.uniform(28.2005, 28.2095, 2000).round(6)}).to_csv(tmp_path / "hh.csv", index=False)
    assert run(["import", "households", str(tmp_path / "hh.csv"), "--crs", "4490"], env=env)[0] == 0
    return empty_database_url


def _wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _backend(url: str, pattern: str, *, waiting: bool = False) -> Callable[[], int | None]:
    """A probe: the pid of the backend running a statement like ``pattern`` (optionally: waiting on a lock).

    It looks as the server's superuser: the command runs as the application role, whose statements
    the owner may not read in ``pg_stat_activity``.
    """
    from sqlalchemy.engine import make_url
    from testdb import DATABASES

    superuser = make_url(DATABASES[-1].superuser_url).set(database=make_url(url).database)
    engine = create_engine(superuser, pool_size=1)

    def probe() -> int | None:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'active' AND query ILIKE :p "
                + ("AND wait_event_type = 'Lock' " if waiting else "") + "LIMIT 1"), {"p": pattern}).first()
        return None if row is None else int(row[0])

    return probe


def _server_back(url: str, throwaway_databases) -> None:
    """Wait until the cluster accepts connections again; drop the pooled connections the crash ended."""
    throwaway_databases._admin.dispose()

    def up() -> bool:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT NOT pg_is_in_recovery()")).scalar_one()
        except OperationalError:
            return False
        finally:
            engine.dispose()

    _wait_for(up, timeout=120, what="the server to recover")


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _big_households(path: Path, n: int) -> Path:
    rng = np.random.default_rng(42)
    pd.DataFrame({"户号": [f"B{i:07d}" for i in range(n)], "地址": "测试路",
                  "经度": rng.uniform(112.90, 112.92, n).round(6),
                  "纬度": rng.uniform(28.20, 28.22, n).round(6)}).to_csv(path, index=False)
    return path


def test_server_killed_mid_import(street, throwaway_databases, tmp_path) -> None:
    big = _big_households(tmp_path / "big.csv", 200_000)
    before = table_checksums(street)
    process = subprocess.Popen(command(["import", "households", str(big), "--crs", "4490"]),
                               env=subprocess_env(street), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = _wait_for(_backend(street, "COPY stage_%"), timeout=120, what="the import's COPY")
        os.kill(int(pid), signal.SIGKILL)  # the server process writing the rows dies; the cluster resets
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    err = process.stderr.read()  # type: ignore[union-attr]
    assert code == 2, err
    line = _one_error_line(err)
    assert "database" in line and ("lost the connection" in line or "cannot connect" in line), line
    _server_back(street, throwaway_databases)
    after = table_checksums(street)
    OUTCOMES["server SIGKILL mid-import (COPY of 200,000 households)"] = {
        "exit": code, "line": line, "tables_changed": sum(after[t] != before[t] for t in before)}
    assert after == before  # rows half-written: 0


def _hold_a_household(url: str):  # noqa: ANN202 - (engine, connection) holding a row lock
    """A transaction that locks a household the edit will move, so the edit waits mid-way."""
    engine = create_engine(url, pool_size=1)
    conn = engine.connect()
    conn.begin()
    conn.execute(text(
        "SELECT id FROM households WHERE ST_X(geom) > 112.9065 AND ST_X(geom) < 112.9095 ORDER BY id LIMIT 1 "
        "FOR UPDATE"))
    return engine, conn


def _edit_args() -> list[str]:
    # the SW/SE boundary moves 3 m … 3.5 km west: households near it change grid
    line = shapely.LineString([(112.906, 28.20), (112.906, 28.21)])
    return ["edit", "reshape", MICRO[0], MICRO[1], "--line", line.wkt, "--reason", "crash test"]


def _start_blocked_edit(street: str):  # noqa: ANN202
    engine, holder = _hold_a_household(street)
    process = subprocess.Popen(command(_edit_args()), env=subprocess_env(street), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    pid = _wait_for(_backend(street, "%gridgov.apply_assignment%", waiting=True), timeout=120,
                    what="the edit to wait on the household lock after writing its changeset")
    with create_engine(street).connect() as conn:  # the changeset it wrote is not visible: not committed
        assert conn.execute(text("SELECT count(*) FROM changesets WHERE reason = 'crash test'")).scalar_one() == 0
    return engine, holder, process, int(pid)  # type: ignore[arg-type]


def test_server_killed_mid_edit(street, throwaway_databases) -> None:
    before = table_checksums(street)
    engine, holder, process, pid = _start_blocked_edit(street)
    try:
        os.kill(pid, signal.SIGKILL)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        try:
            holder.close()
        except Exception:  # noqa: BLE001 - the crash ended it too
            pass
        engine.dispose()
    err = process.stderr.read()  # type: ignore[union-attr]
    assert code == 2, err
    line = _one_error_line(err)
    assert "database" in line
    _server_back(street, throwaway_databases)
    after = table_checksums(street)
    OUTCOMES["server SIGKILL mid-edit (after its changeset, moving households)"] = {
        "exit": code, "line": line, "tables_changed": sum(after[t] != before[t] for t in before)}
    assert after == before


def test_client_killed_mid_edit(street) -> None:
    before = table_checksums(street)
    engine, holder, process, pid = _start_blocked_edit(street)
    try:
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        holder.rollback()  # the edit's UPDATE goes on, then finds its client gone: its transaction is rolled back
        holder.close()
        engine.dispose()
    probe = create_engine(street)
    with probe.connect() as conn:
        _wait_for(lambda: not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                                           {"p": pid}).scalar() or conn.commit(), timeout=60,
                  what="the killed edit's backend to end")
    probe.dispose()
    after = table_checksums(street)
    OUTCOMES["client SIGKILL mid-edit"] = {"exit": -signal.SIGKILL, "line": "(killed)",
                                         "tables_changed": sum(after[t] != before[t] for t in before)}
    assert after == before


def test_write_the_outcomes() -> None:
    import json

    from gis.settings import get_settings

    if not OUTCOMES:
        pytest.skip("no crash test ran in this session")
    target = get_settings().artifacts_dir / "crashes.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(OUTCOMES, ensure_ascii=False, indent=2), encoding="utf-8")
