"""Concurrent writers lose no update (issue #14, point 3).

Every write that changes an existing row is checked against the version it was based on; a
write overtaken by another is refused ("changed by someone else since you read it"), never
applied over it. A deadlock or serialization failure is retried (bounded, with jitter).

* ``test_twenty_cli_dispatches_at_once``: the issue's case, twenty ``gridgov incident dispatch``
  processes started together without ``--expected-version``;
* ``test_twenty_writers_per_kind``: for each kind of write (incident transitions, visits,
  roster changes, boundary edits) twenty writers in threads for a bounded time, each reading
  what it changes and writing it back with that version; afterwards every accepted write is
  in the final state or in a later accepted write based on it: **lost = 0**;
* ``test_a_deadlock_is_retried`` / ``test_a_deadlock_that_persists_is_one_error``: the retry.

The figures (writers, seconds, operations, refused as stale, retried, lost) are written to
``var/artifacts/concurrency.json`` for ``docs/reliability.md``.
"""

from __future__ import annotations

from testdb import database_env

import datetime as dt
import json
import random
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine, create_engine, text

from access.actor import Actor
from store.accounts import create_account
from store.session import acting_as
from gis.errors import StaleVersionError
from tests.db._cli import command, run, subprocess_env

pytestmark = pytest.mark.db

WRITERS = 20
SECONDS = 4.0
L1 = "430104001001"
L2 = L1 + "001"
MICRO = [L2 + f"{i:03d}" for i in (1, 2, 3, 4)]
COMMUNITY = shapely.box(112.90, 28.20, 112.92, 28.22)
QUADRANTS = [shapely.box(112.90, 28.20, 112.91, 28.21), shapely.box(112.91, 28.20, 112.92, 28.21),
             shapely.box(112.90, 28.21, 112.91, 28.22), shapely.box(112.91, 28.21, 112.92, 28.22)]
FIGURES: dict[str, dict[str, Any]] = {}


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err + out
    return out


@pytest.fixture(scope="module")
def street(throwaway_databases, tmp_path_factory) -> str:
    """Four micro-grids, 32 households, 20 workers (5 per micro-grid) and a dispatched incident."""
    url = throwaway_databases.create()
    tmp = tmp_path_factory.mktemp("concurrency")
    env = database_env(url)
    plan = gpd.GeoDataFrame({"code": [L1, L2, *MICRO], "name": ["社区", "网格", "甲", "乙", "丙", "丁"]},
                            geometry=[COMMUNITY, COMMUNITY, *QUADRANTS], crs=4490)
    plan.to_file(tmp / "plan.geojson")
    _ok(run(["import", "grids", str(tmp / "plan.geojson")], env=env))
    rng = random.Random(7)
    rows = ["户号,地址,经度,纬度"]
    for q, box in enumerate(QUADRANTS):
        x0, y0, x1, y1 = box.bounds
        rows += [f"H{q}{k},{q}-{k},{rng.uniform(x0 + 0.001, x1 - 0.001):.6f},{rng.uniform(y0 + 0.001, y1 - 0.001):.6f}"
                 for k in range(8)]
    (tmp / "hh.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _ok(run(["import", "households", str(tmp / "hh.csv"), "--crs", "4490"], env=env))
    staff = ["工号,姓名,电话,网格编码,角色,开始日期"]
    staff += [f"W{k:02d},工作人员{k},138000000{k:02d},{MICRO[k % 4]},微网格员,2024-01-01" for k in range(WRITERS)]
    staff += [f"P1,被改的人,13900000000,{MICRO[0]},网格督导员,2024-01-01"]
    (tmp / "staff.csv").write_text("\n".join(staff) + "\n", encoding="utf-8")
    _ok(run(["import", "staff", str(tmp / "staff.csv")], env=env))
    owner = create_engine(url)
    with owner.begin() as conn:  # twenty accounts, one per writer (each writes in a session of its own)
        for k in range(WRITERS):
            create_account(conn, f"writer-{k:02d}", "admin", password_hash=None)
    owner.dispose()
    for k in (1, 2):
        out = _ok(run(["incident", "report", "--lon", "112.905", "--lat", "28.205", "--category", "环境卫生",
                       "--at", "2026-01-05", "--json"], env=env))
        iid = str(json.loads(out)["id"])
        _ok(run(["incident", "accept", iid], env=env))
        _ok(run(["incident", "classify", iid, "--disposition", "research_assign"], env=env))
        _ok(run(["incident", "dispatch", iid, "--to", "W00"], env=env))
    return url


#: writer k's actor: a session of account writer-k (set by :func:`_app_engine`).
WRITER_ACTORS: list[Actor] = []


def _app_engine(url: str) -> Engine:
    """The application role's engine on ``url``, pooled for the writers, and each writer's session."""
    from services.auth import owner_session
    from store.engine import make_engine
    from testdb import DATABASES

    app = make_engine(DATABASES[-1].app_url(url), pool_size=WRITERS, max_overflow=5)
    owner = create_engine(url)
    WRITER_ACTORS[:] = [owner_session(owner, app, f"writer-{k:02d}") for k in range(WRITERS)]
    owner.dispose()
    return app


def _incident_state(engine: Engine, incident_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT version, assigned_to FROM incidents WHERE id = :i"), {"i": incident_id}).one()
        events = conn.execute(text("SELECT count(*) FROM incident_events WHERE incident_id = :i AND action = 'dispatch'"),
                              {"i": incident_id}).scalar_one()
    return {"version": row.version, "assigned_to": row.assigned_to, "dispatch_events": events}


def _staff_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT staff_key, id FROM staff")).all())


def test_twenty_cli_dispatches_at_once(street) -> None:
    """Twenty `gridgov incident dispatch 1 --to <20 different staff>` at once: the accepted ones form one chain."""
    engine = create_engine(street)
    before = _incident_state(engine, 1)
    env = subprocess_env(street)
    targets = [f"W{k:02d}" for k in range(1, WRITERS + 1)][:WRITERS - 1] + ["P1"]
    start = time.monotonic()
    processes = [subprocess.Popen(command(["incident", "dispatch", "1", "--to", to, "--json"]),
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for k, to in enumerate(targets)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in processes]  # type: ignore[union-attr]
    seconds = time.monotonic() - start
    accepted = [json.loads(out) for code, out, _ in results if code == 0]
    refused = [err for code, _, err in results if code != 0]
    assert accepted, [r[2] for r in results]
    assert all(code in (0, 1) for code, _, _ in results), [r for r in results if r[0] not in (0, 1)]
    for err in refused:
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "changed by someone else since you read it" in lines[0], err
        assert "Traceback" not in err
    versions = sorted(d["version"] for d in accepted)
    assert versions == list(range(before["version"] + 1, before["version"] + 1 + len(accepted)))  # one chain, no fork
    after = _incident_state(engine, 1)
    last = max(accepted, key=lambda d: d["version"])
    assert after["version"] == versions[-1] and after["assigned_to"] == last["assigned_to"]
    assert after["dispatch_events"] - before["dispatch_events"] == len(accepted)
    engine.dispose()
    FIGURES["cli dispatch (20 processes)"] = {
        "writers": WRITERS, "seconds": round(seconds, 1), "operations": WRITERS, "accepted": len(accepted),
        "refused_stale": len(refused), "retried": "n/a (per process)", "lost": 0}


# --------------------------------------------------------------------------------------
# twenty writers per kind, in threads, for a bounded time
# --------------------------------------------------------------------------------------
@dataclass
class Tally:
    attempts: int = 0
    stale: int = 0
    other: Counter = field(default_factory=Counter)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **record: Any) -> None:
        with self.lock:
            self.accepted.append(record)


def _race(writer, *, seconds: float = SECONDS) -> tuple[Tally, float, int]:
    """Run ``writer(k, tally, rng)`` in WRITERS threads until ``seconds`` pass; returns the tally, time, retries."""
    from store.session import retry_counts

    retry_counts(reset=True)
    tally = Tally()
    deadline = time.monotonic() + seconds
    failures: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def loop(k: int) -> None:
        rng = random.Random(k)
        barrier.wait()
        try:
            while time.monotonic() < deadline:
                with tally.lock:
                    tally.attempts += 1
                try:
                    with acting_as(WRITER_ACTORS[k]):  # writer k's reads and writes run in its own session
                        writer(k, tally, rng)
                except StaleVersionError as exc:
                    assert "changed by someone else since you read it" in str(exc) or "retired by someone else" in str(exc)
                    with tally.lock:
                        tally.stale += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    start = time.monotonic()
    threads = [threading.Thread(target=loop, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    assert not failures, failures[:3]
    return tally, time.monotonic() - start, retry_counts()["retried"]


def _record(kind: str, tally: Tally, seconds: float, retried: int, lost: int) -> None:
    FIGURES[kind] = {"writers": WRITERS, "seconds": round(seconds, 1), "operations": tally.attempts,
                     "accepted": len(tally.accepted), "refused_stale": tally.stale,
                     "refused_other": dict(tally.other), "retried": retried, "lost": lost}


def test_incident_transitions(street) -> None:
    from gis.errors import GridGovError
    from services.incidents import act_on_incident, incident_version

    owner = create_engine(street)
    app = _app_engine(street)
    staff = _staff_ids(owner)
    workers = [staff[f"W{k:02d}"] for k in range(WRITERS)]
    before = _incident_state(owner, 2)

    def write(k: int, tally: Tally, rng: random.Random) -> None:
        base = incident_version(app, 2)  # what this writer read
        assignee = rng.choice(workers)
        try:
            state = act_on_incident(app, WRITER_ACTORS[k], 2, "dispatch", assignee=assignee, expected_version=base)
        except StaleVersionError:
            raise
        except GridGovError as exc:  # "already dispatched to" the same person: a refusal, not a loss
            with tally.lock:
                tally.other[type(exc).__name__] += 1
            return
        tally.add(base=base, version=state.version, assignee=assignee)

    tally, seconds, retried = _race(write)
    after = _incident_state(owner, 2)
    owner.dispose()
    app.dispose()
    bases = [a["base"] for a in tally.accepted]
    assert len(bases) == len(set(bases)), "two accepted writes were based on the same version"
    versions = sorted(a["version"] for a in tally.accepted)
    assert versions == list(range(before["version"] + 1, after["version"] + 1))
    last = max(tally.accepted, key=lambda a: a["version"])
    assert after["assigned_to"] == last["assignee"]
    assert after["dispatch_events"] - before["dispatch_events"] == len(tally.accepted)
    lost = sum(1 for a in tally.accepted if a["version"] != after["version"] and a["version"] not in set(bases))
    assert lost == 0
    _record("incident transitions (dispatch)", tally, seconds, retried, lost)


def test_visits(street) -> None:
    from governance.visits import VisitRecord
    from services.visits import record_visit

    owner = create_engine(street)
    app = _app_engine(street)
    staff = _staff_ids(owner)
    with owner.connect() as conn:
        households = conn.execute(text("SELECT id, grid_code FROM households ORDER BY id")).all()
        visits_before = conn.execute(text("SELECT count(*) FROM visits")).scalar_one()
    by_grid: dict[str, list[int]] = {}
    for hid, code in households:
        by_grid.setdefault(code, []).append(int(hid))
    when = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    def write(k: int, tally: Tally, rng: random.Random) -> None:
        household = rng.choice(by_grid[MICRO[k % 4]])
        at = when + dt.timedelta(seconds=rng.randrange(86400))
        vid = record_visit(app, WRITER_ACTORS[k],
                           VisitRecord(household_id=household, staff_id=staff[f"W{k:02d}"], visited_at=at))
        tally.add(id=vid, household=household, staff=staff[f"W{k:02d}"], at=at)

    tally, seconds, retried = _race(write)
    with owner.connect() as conn:
        stored = {r.id: (r.household_id, r.staff_id, r.visited_at) for r in conn.execute(text(
            "SELECT id, household_id, staff_id, visited_at FROM visits"))}
        total = conn.execute(text("SELECT count(*) FROM visits")).scalar_one()
    owner.dispose()
    app.dispose()
    lost = sum(1 for a in tally.accepted if stored.get(a["id"]) != (a["household"], a["staff"], a["at"]))
    assert lost == 0 and total == visits_before + len(tally.accepted)
    _record("visits", tally, seconds, retried, lost)


def test_roster_changes(street) -> None:
    from governance.roster import check_roster
    from services.imports import load_rows, roster_version

    owner = create_engine(street)
    app = _app_engine(street)
    initial = roster_version(owner, ["P1"])

    def write(k: int, tally: Tally, rng: random.Random) -> None:
        base = roster_version(app, ["P1"])  # what this writer read
        phone = f"139{k:02d}{rng.randrange(10**6):06d}"
        frame, problems = check_roster(pd.DataFrame([{
            "staff_key": "P1", "name": "被改的人", "phone": phone, "organisation": None, "grid_code": MICRO[0],
            "role": "网格督导员", "start_date": "2024-01-01", "end_date": None, "building_no": None}]))
        assert not problems
        report = load_rows(app, WRITER_ACTORS[k], "staff", frame, [], expected_roster=base)
        tally.add(base=base, token=report.roster_token, phone=phone)

    tally, seconds, retried = _race(write)
    final = roster_version(owner, ["P1"])
    with owner.connect() as conn:
        phone = conn.execute(text("SELECT phone FROM staff WHERE staff_key = 'P1'")).scalar_one()
    owner.dispose()
    app.dispose()
    bases = [a["base"] for a in tally.accepted]
    assert len(bases) == len(set(bases)), "two accepted roster changes were based on the same roster"
    follows = {a["base"]: a for a in tally.accepted}
    chain, token = [], initial  # from the initial roster, each accepted change was based on the previous one
    while token in follows:
        chain.append(follows[token])
        token = follows[token]["token"]
    assert len(chain) == len(tally.accepted) and token == final and phone == chain[-1]["phone"]
    lost = len(tally.accepted) - len(chain)
    _record("roster changes (staff import)", tally, seconds, retried, lost)


def test_boundary_edits(street) -> None:
    from boundaries.edits import EditRefused
    from services.editing import preview_edit, save_edit, start_edit

    owner = create_engine(street)
    app = _app_engine(street)
    pairs = [(MICRO[0], MICRO[1], 28.20, 28.21), (MICRO[2], MICRO[3], 28.21, 28.22)]
    with owner.connect() as conn:
        initial = dict(conn.execute(text("SELECT code, version FROM grids")).all())

    def write(k: int, tally: Tally, rng: random.Random) -> None:
        code_a, code_b, y0, y1 = pairs[k % 2]
        x = round(112.91 + rng.uniform(-0.003, 0.003), 6)
        with app.connect() as conn:
            draft = start_edit(conn)  # the versions this writer read
            try:
                preview = preview_edit(conn, draft, "reshape", code_a=code_a, code_b=code_b,
                                       new_line_or_area=shapely.LineString([(x, y0), (x, y1)]))
            except EditRefused:
                with tally.lock:
                    tally.other["EditRefused"] += 1
                return
        if not preview.can_save:
            with tally.lock:
                tally.other["invalid"] += 1
            return
        applied = save_edit(app, preview, actor=WRITER_ACTORS[k], reason=f"race {k}")
        # an edit changes its pair and may add a vertex to the neighbours' shared edges: every grid it touched
        plan = preview.plan.set_index("code")
        tally.add(changeset=applied.changeset_id,
                  touched={c: draft.base_versions[c] for c in applied.changes.touched if c in draft.base_versions},
                  geometry={c: plan.geometry[c] for c in applied.changes.touched if c in plan.index})

    tally, seconds, retried = _race(write)
    with owner.connect() as conn:
        final = dict(conn.execute(text("SELECT code, version FROM grids")).all())
        versions = conn.execute(text("SELECT code, version, changeset_id FROM grid_versions")).all()
        stored = {c: shapely.from_wkb(bytes(g)) for c, g in conn.execute(text("SELECT code, ST_AsBinary(geom) FROM grids"))}
    owner.dispose()
    app.dispose()
    lost = 0
    for code in MICRO:
        mine = [a for a in tally.accepted if code in a["touched"]]
        bases = [a["touched"][code] for a in mine]
        assert len(bases) == len(set(bases)), f"two accepted edits of {code} were based on the same version"
        assert final[code] == initial[code] + len(mine)  # every accepted edit of it is one version, none overwritten
        saved = {(v, cs) for c, v, cs in versions if c == code}
        lost += sum(1 for a in mine if (a["touched"][code] + 1, a["changeset"]) not in saved)
        if mine:
            last = max(mine, key=lambda a: a["touched"][code])
            assert shapely.equals_exact(shapely.normalize(stored[code]), shapely.normalize(last["geometry"][code]), 1e-9)
    assert lost == 0
    _record("boundary edits (reshape)", tally, seconds, retried, lost)


# --------------------------------------------------------------------------------------
# the retry
# --------------------------------------------------------------------------------------
def _deadlocking_pair(url: str, attempts: int) -> tuple[list[Any], int]:
    from store.session import retry_counts, run_in_transaction

    engine = create_engine(url, pool_size=4)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY, n int NOT NULL)"))
        conn.execute(text("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING"))
    retry_counts(reset=True)
    first_locks = threading.Barrier(2)
    results: list[Any] = [None, None]

    def worker(slot: int, order: tuple[int, int]) -> None:
        tries = {"n": 0}

        def work(conn) -> int:  # noqa: ANN001
            tries["n"] += 1
            conn.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :i"), {"i": order[0]})
            if tries["n"] == 1:
                first_locks.wait(timeout=10)  # both hold their first row: the second UPDATE deadlocks
            conn.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :i"), {"i": order[1]})
            return tries["n"]

        try:
            results[slot] = run_in_transaction(engine, None, work, attempts=attempts)
        except Exception as exc:  # noqa: BLE001
            results[slot] = exc

    threads = [threading.Thread(target=worker, args=(0, (1, 2))), threading.Thread(target=worker, args=(1, (2, 1)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    engine.dispose()
    return results, retry_counts()["retried"]


def test_a_deadlock_is_retried(empty_database_url) -> None:
    results, retried = _deadlocking_pair(empty_database_url, attempts=6)
    assert all(isinstance(r, int) for r in results), results  # both committed in the end
    assert retried >= 1 and max(results) >= 2  # the deadlock victim ran again
    engine = create_engine(empty_database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(n) FROM deadlock_probe")).scalar_one() == 4  # 2 writers × 2 rows, once
    engine.dispose()
    FIGURES["deadlock provoked (2 writers, opposite lock order)"] = {
        "writers": 2, "seconds": None, "operations": 2, "accepted": 2, "refused_stale": 0, "retried": retried, "lost": 0}


def test_a_deadlock_that_persists_is_one_error(empty_database_url) -> None:
    from store.session import ConcurrentWriteError

    results, _ = _deadlocking_pair(empty_database_url, attempts=1)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], ConcurrentWriteError), results
    message = str(failed[0])
    assert "deadlock" in message and "try again" in message and "\n" not in message


def test_write_the_figures(tmp_path) -> None:
    from gis.settings import get_settings

    if not FIGURES:
        pytest.skip("no concurrency test ran in this session")
    target = get_settings().artifacts_dir / "concurrency.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(FIGURES, ensure_ascii=False, indent=2), encoding="utf-8")
    assert all(f["lost"] == 0 for f in FIGURES.values())
