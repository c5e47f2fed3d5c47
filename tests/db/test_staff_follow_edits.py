"""A redraw carries its people (issue #13, point 4), on the demo in PostGIS.

The preview of an edit lists the staff of every affected grid and proposes where each goes (a
split keeps the team on the part with most households and covers the other part for now; a merge
keeps both teams); the planner may change it; saving moves the assignments — and the accounts'
grants — in the changeset's transaction. After each saved edit no running assignment points at a
retired code, the worker still sees her grid, and the team gaps (岗位缺口) do not jump.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, text

from access.actor import Actor
from gis import clock
from gis.errors import ValidationError
from governance.roster import roster_gaps
from services.editing import load_points_for_impact, preview_edit, save_edit, start_edit
from store.governance import load_grids, load_roster

pytestmark = pytest.mark.db

PLANNER = Actor("planner", role="planner")


def _geom(plan: gpd.GeoDataFrame, code: str):
    return plan.loc[plan["code"] == code, "geometry"].iloc[0]


def _cut(plan: gpd.GeoDataFrame, code: str) -> shapely.LineString:
    g = _geom(plan, code)
    minx, miny, maxx, maxy = g.bounds
    c = g.centroid
    if (maxx - minx) >= (maxy - miny):
        return shapely.LineString([(c.x, miny - 0.001), (c.x, maxy + 0.001)])
    return shapely.LineString([(minx - 0.001, c.y), (maxx + 0.001, c.y)])


def _worker_grid(db: Connection, account: str = "worker-001") -> tuple[int, str]:
    """(staff id, micro-grid code) of a demo worker account."""
    staff_id, code = db.execute(text(
        "SELECT a.staff_id, sa.grid_code FROM accounts a JOIN staff_assignments sa ON sa.staff_id = a.staff_id "
        "AND sa.role = 'micro_worker' AND sa.end_date IS NULL WHERE a.name = :n"), {"n": account}).one()
    return int(staff_id), str(code)


def _open_on(db: Connection, codes: list[str]) -> list[tuple[int, str, str]]:
    today = clock.today()
    return [tuple(r) for r in db.execute(text(
        "SELECT id, role, grid_code FROM staff_assignments WHERE grid_code = ANY(:c) "
        "AND (end_date IS NULL OR end_date >= :d) ORDER BY id"), {"c": codes, "d": today}).all()]


def _stranded(db: Connection) -> int:
    """Running assignments whose code is no current grid (anywhere)."""
    return int(db.execute(text(
        "SELECT count(*) FROM staff_assignments sa WHERE (sa.end_date IS NULL OR sa.end_date >= :d) "
        "AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = sa.grid_code)"), {"d": clock.today()}).scalar_one())


def _gaps(db: Connection) -> int:
    return len(roster_gaps(load_grids(db), load_roster(db), on=clock.today()))


def _neighbours(plan: gpd.GeoDataFrame) -> tuple[str, str]:
    """Two sibling micro-grids sharing the longest edge of the demo."""
    micro = plan[plan["level"] == 3].reset_index(drop=True)
    geoms = micro.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="touches")
    best, best_len = None, 0.0
    for i, j in zip(left, right):
        if micro.at[i, "parent_code"] != micro.at[j, "parent_code"]:
            continue
        shared = shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])).length
        if shared > best_len:
            best, best_len = (str(micro.at[i, "code"]), str(micro.at[j, "code"])), shared
    assert best is not None
    return best


def test_a_split_carries_the_team_to_the_larger_part_and_covers_the_other(db_conn: Connection) -> None:
    staff_id, code = _worker_grid(db_conn)
    team = _open_on(db_conn, [code])
    assert len(team) >= 5, "the demo grid should have a full team"
    gaps_before = _gaps(db_conn)
    draft = start_edit(db_conn)
    preview = preview_edit(db_conn, draft, "split", points=load_points_for_impact(db_conn), code=code,
                           line=_cut(draft.plan, code))
    assert preview.can_save
    moves = preview.staff_moves
    # every person of the split grid is listed, each with a proposal
    assert sorted(moves["assignment_id"]) == [a for a, _r, _c in team]
    parts = preview.result.added
    households = preview.impact.workload_after["households"]
    largest = max(parts, key=lambda c: (int(households.get(c, 0)), c == sorted(parts)[0]))
    assert set(moves["rule"]) == {"split_largest"}
    assert all(t[0] == largest and set(t) == set(parts) for t in moves["to_codes"])
    flags = preview.staff_flags
    other = [c for c in parts if c != largest]
    assert set(flags["grid_code"]) == set(other) and set(flags["status"]) == {"shared"}
    assert preview.to_dict()["staff_moves"][0]["to"][0] == largest

    applied = save_edit(db_conn, preview, actor=PLANNER, reason="split with its team")

    assert _open_on(db_conn, [code]) == []
    assert _stranded(db_conn) == 0
    assert _gaps(db_conn) == gaps_before  # 岗位缺口 unchanged with the proposal accepted
    worker_grids = db_conn.execute(text(
        "SELECT grid_code FROM staff_assignments WHERE staff_id = :s AND role = 'micro_worker' "
        "AND (end_date IS NULL OR end_date >= :d) ORDER BY id"), {"s": staff_id, "d": clock.today()}).scalars().all()
    assert worker_grids[0] == largest and set(worker_grids) == set(parts)
    grants = set(db_conn.execute(text(
        "SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id WHERE a.name = 'worker-001'"
    )).scalars())
    assert set(parts) <= grants and code not in grants
    details = db_conn.execute(text("SELECT details FROM changesets WHERE id = :i"), {"i": applied.changeset_id}).scalar_one()
    assert {m["assignment_id"] for m in details["staff_moves"]} == {a for a, _r, _c in team}
    audited = db_conn.execute(text("SELECT row_count FROM audit_log WHERE action = 'move_staff' ORDER BY id DESC LIMIT 1"))
    assert audited.scalar_one() == len(team)


def test_the_planner_changes_the_proposal_and_a_bad_choice_changes_nothing(db_conn: Connection) -> None:
    staff_id, code = _worker_grid(db_conn)
    draft = start_edit(db_conn)
    preview = preview_edit(db_conn, draft, "split", code=code, line=_cut(draft.plan, code))
    moves = preview.staff_moves
    worker = moves.loc[moves["role"] == "micro_worker"].iloc[0]
    primary = worker["to_codes"][0]
    other = next(c for c in preview.result.added if c != primary)
    with pytest.raises(ValidationError, match=str(worker["assignment_id"])):
        preview.with_staff_choices({int(worker["assignment_id"]): ["999999999999999999"]})
    changed = preview.with_staff_choices({int(worker["assignment_id"]): [other]})
    flags = changed.staff_flags.set_index(["grid_code", "role"])
    assert flags.loc[(primary, "micro_worker"), "status"] == "missing"
    assert (other, "micro_worker") not in flags.index
    save_edit(db_conn, changed, actor=PLANNER, reason="worker to the other part")
    assert db_conn.execute(text(
        "SELECT array_agg(grid_code) FROM staff_assignments WHERE staff_id = :s AND role = 'micro_worker' "
        "AND (end_date IS NULL OR end_date >= :d)"), {"s": staff_id, "d": clock.today()}).scalar_one() == [other]
    assert _stranded(db_conn) == 0


@pytest.mark.parametrize("operation", ["merge", "transfer", "reshape"])
def test_no_staff_left_on_a_retired_code_after_each_edit(db_conn: Connection, operation: str) -> None:
    draft = start_edit(db_conn)
    a, b = _neighbours(draft.plan)
    shared = shapely.intersection(shapely.boundary(_geom(draft.plan, a)), shapely.boundary(_geom(draft.plan, b)))
    band = shapely.intersection(_geom(draft.plan, b), shapely.buffer(shared, 0.0002, cap_style="flat"))
    params = {"merge": {"codes": [a, b]},
              "transfer": {"from_code": b, "to_code": a, "area": band},
              "reshape": {"code_a": a, "code_b": b, "new_line_or_area": shapely.union(_geom(draft.plan, a), band)}}
    team_a, team_b = _open_on(db_conn, [a]), _open_on(db_conn, [b])
    gaps_before = _gaps(db_conn)
    preview = preview_edit(db_conn, draft, operation, **params[operation])
    assert preview.can_save, preview.report.summary()
    listed = set(preview.staff_moves["assignment_id"])
    assert {i for i, _r, _c in team_a + team_b} <= listed  # the staff of every affected grid
    save_edit(db_conn, preview, actor=PLANNER, reason=f"{operation} with staff")
    assert _stranded(db_conn) == 0
    if operation == "merge":
        (kept,) = {link.new_code for link in preview.result.lineage}
        # a merge keeps both teams on the kept grid
        roles = sorted(r for _i, r, _c in _open_on(db_conn, [kept]))
        assert len(roles) == len(team_a) + len(team_b)
    else:
        assert _open_on(db_conn, [a]) == team_a and _open_on(db_conn, [b]) == team_b  # they stay
        assert _gaps(db_conn) == gaps_before


def test_the_worker_of_a_split_grid_still_sees_it_through_row_level_security(throwaway_databases, demo_data) -> None:
    from services.auth import owner_session
    from store.engine import OWNER, make_engine
    from store.seed import load_demo
    from store.session import run_in_transaction

    url = throwaway_databases.create()
    owner = make_engine(url, role=OWNER)
    app = make_engine(throwaway_databases.app_url(url))
    try:
        with owner.begin() as conn:
            load_demo(conn, demo_data)
        with owner.connect() as conn:
            _staff, code = _worker_grid(conn)
        planner = owner_session(owner, app, "planner")

        def split(db):
            draft = start_edit(db)
            preview = preview_edit(db, draft, "split", code=code, line=_cut(draft.plan, code))
            return save_edit(db, preview, actor=planner, reason="split, team follows")

        applied = run_in_transaction(app, planner, split)
        worker = owner_session(owner, app, "worker-001")
        seen = run_in_transaction(app, worker, lambda db: dict(db.execute(text(
            "SELECT grid_code, count(*) FROM households WHERE grid_code = ANY(:c) GROUP BY grid_code"),
            {"c": applied.changes.added}).all()))
        with owner.connect() as conn:
            stored = dict(conn.execute(text(
                "SELECT grid_code, count(*) FROM households WHERE grid_code = ANY(:c) GROUP BY grid_code"),
                {"c": applied.changes.added}).all())
        assert stored and seen == stored  # she sees every household of both new parts
    finally:
        owner.dispose()
        app.dispose()


def _cli_module():
    """tests/db/_cli.py loaded by path (a site-packages ``tests`` package may shadow ``tests.db``)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_gridgov_test_cli", Path(__file__).with_name("_cli.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_mirror_lists_the_staff_and_takes_the_planners_choice(throwaway_databases, demo_data) -> None:
    import json

    from store.seed import load_demo
    from sqlalchemy import create_engine

    cli_run = _cli_module()
    url = throwaway_databases.create()
    owner = create_engine(url)
    try:
        with owner.begin() as conn:
            load_demo(conn, demo_data)
        with owner.connect() as conn:
            staff_id, code = _worker_grid(conn)
            line = _cut(start_edit(conn).plan, code).wkt
        env = {"DATABASE_URL": url, "GRIDGOV_APP_DATABASE_URL": throwaway_databases.app_url(url),
               "GRIDGOV_ACTOR": "planner"}
        rc, out, err = cli_run.run(["edit", "split", code, "--line", line, "--dry-run"], env=env)
        assert rc == 0, err
        preview = json.loads(out)
        worker = next(m for m in preview["staff_moves"] if m["role"] == "micro_worker")
        other = next(c for c in worker["options"] if c != worker["to"][0])
        rc, _out, err = cli_run.run(["edit", "split", code, "--line", line, "--staff", f"{worker['assignment_id']}=99",
                                          "--reason", "x"], env=env)
        assert rc != 0 and str(worker["assignment_id"]) in err
        rc, out, err = cli_run.run(["--as", "planner", "edit", "split", code, "--line", line, "--staff",
                                         f"{worker['assignment_id']}={other}", "--reason", "split, worker east",
                                         "--json"], env=env)
        assert rc == 0, err
        saved = json.loads(out)
        assert {"assignment_id": worker["assignment_id"], "staff_key": worker["staff_key"], "role": "micro_worker",
                "from": code, "to": [other]} in saved["staff_moves"]
        with owner.connect() as conn:
            assert conn.execute(text(
                "SELECT array_agg(grid_code) FROM staff_assignments WHERE staff_id = :s AND role = 'micro_worker' "
                "AND (end_date IS NULL OR end_date >= :d)"), {"s": staff_id, "d": clock.today()}).scalar_one() == [other]
            assert _stranded(conn) == 0
    finally:
        owner.dispose()
