"""Issue 3 persistence: as-of plans and lookups, diffs, lineage, optimistic locking on PostGIS."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import shapely
from sqlalchemy import create_engine, text

from store.grids import (
    apply_plan,
    changeset_history,
    compare_plans,
    load_plan,
    load_versions,
    plan_versions,
    resolve_code_in_db,
)
from store.lookup import grid_at_point
from gis.errors import StaleVersionError


def _neighbours(plan):
    """Two micro-grids of the same level-2 parent that share an edge."""
    micro = plan[plan["level"] == 3].reset_index(drop=True)
    tree = shapely.STRtree(micro.geometry.to_numpy())
    left, right = tree.query(micro.geometry.to_numpy(), predicate="touches")
    for i, j in zip(left, right):
        a, b = micro.iloc[i], micro.iloc[j]
        if i < j and a["parent_code"] == b["parent_code"] and a.geometry.intersection(b.geometry).length > 0:
            return a["code"], b["code"]
    raise AssertionError("demo has no neighbouring micro-grids")


def _merge(plan, keep: str, drop: str):
    """Proposed plan: ``drop`` merged into ``keep`` (a plain union — exact for a shared-edge coverage)."""
    new = plan.copy()
    merged = shapely.union(new.loc[new.code == keep, "geometry"].iloc[0], new.loc[new.code == drop, "geometry"].iloc[0])
    new.loc[new.code == keep, "geometry"] = shapely.multipolygons(shapely.get_parts(merged)) if merged.geom_type == "Polygon" else merged
    return new[new.code != drop].reset_index(drop=True)


def test_merge_changeset_versions_lineage_and_reassignment(db_conn) -> None:
    plan = load_plan(db_conn)
    keep, drop = _neighbours(plan)
    before_total = db_conn.execute(text("SELECT count(*) FROM households")).scalar()
    moved_expected = db_conn.execute(text("SELECT count(*) FROM households WHERE grid_code = :d"), {"d": drop}).scalar()
    t0 = db_conn.execute(text("SELECT clock_timestamp()")).scalar()

    result = apply_plan(db_conn, _merge(plan, keep, drop), base_versions=plan_versions(plan), author="planner-a",
                        reason="merge two small micro-grids", lineage=[(drop, keep, "merge")])

    assert result.changes.retired == [drop] and result.changes.reshaped == [keep]
    assert result.households_moved == {(drop, keep): moved_expected}
    assert db_conn.execute(text("SELECT count(*) FROM households")).scalar() == before_total
    assert db_conn.execute(text("SELECT count(*) FROM households WHERE grid_code = :d"), {"d": drop}).scalar() == 0
    # Retired code stays registered and retired; versions closed; keep has version 2.
    assert db_conn.execute(text("SELECT status FROM grid_codes WHERE code = :d"), {"d": drop}).scalar() == "retired"
    versions = load_versions(db_conn, codes=[keep, drop])
    assert list(versions.loc[versions.code == keep, "version"]) == [1, 2]
    assert versions.loc[versions.code == drop, "valid_to"].notna().all()
    # Lineage resolves the old code to today's grid.
    assert resolve_code_in_db(db_conn, drop) == [keep]
    # The plan as of before the change still has both grids with their old geometry.
    old_plan = load_plan(db_conn, as_of=t0)
    assert {keep, drop} <= set(old_plan.code)
    assert compare_plans(old_plan, plan).empty
    # Point lookups as of then and now.
    p = plan.loc[plan.code == drop, "geometry"].iloc[0].point_on_surface()
    assert grid_at_point(db_conn, p.x, p.y, as_of=t0) == drop
    assert grid_at_point(db_conn, p.x, p.y) == keep
    history = changeset_history(db_conn, code=drop)
    assert history[0]["id"] == result.changeset_id and history[0]["retired"] == [drop]


def test_stale_version_is_refused_and_nothing_is_written(db_conn) -> None:
    plan = load_plan(db_conn)
    keep, drop = _neighbours(plan)
    base = plan_versions(plan)
    renamed = plan.copy()
    renamed.loc[renamed.code == keep, "name"] = "改名的微网格"
    first = apply_plan(db_conn, renamed, base_versions=base, author="planner-a", reason="rename")
    changesets_before = db_conn.execute(text("SELECT count(*) FROM changesets")).scalar()
    with pytest.raises(StaleVersionError, match=rf"grid {keep} .*changeset {first.changeset_id} by planner-a"):
        with db_conn.begin_nested():
            apply_plan(db_conn, _merge(plan, keep, drop), base_versions=base, author="planner-b", reason="merge")
    assert db_conn.execute(text("SELECT count(*) FROM changesets")).scalar() == changesets_before
    assert db_conn.execute(text("SELECT status FROM grid_codes WHERE code = :d"), {"d": drop}).scalar() == "active"


def test_two_concurrent_sessions_exactly_one_wins(throwaway_databases, demo_data) -> None:
    from store.seed import load_demo

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
    with engine.connect() as conn:
        plan = load_plan(conn)
    keep, drop = _neighbours(plan)
    base = plan_versions(plan)
    proposals = {
        "planner-a": _merge(plan, keep, drop),
        "planner-b": plan.assign(name=[("B改名" if c == keep else n) for c, n in zip(plan.code, plan.name)]),
    }
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def work(author: str) -> None:
        try:
            with engine.begin() as conn:
                barrier.wait(timeout=30)
                outcomes[author] = apply_plan(conn, proposals[author], base_versions=base, author=author, reason="edit")
        except StaleVersionError as exc:
            outcomes[author] = exc

    threads = [threading.Thread(target=work, args=(a,)) for a in proposals]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [o for o in outcomes.values() if isinstance(o, StaleVersionError)]
    wins = [o for o in outcomes.values() if not isinstance(o, Exception)]
    assert len(wins) == 1 and len(errors) == 1, outcomes
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM changesets WHERE kind = 'edit'")).scalar() == 1
        version = conn.execute(text("SELECT version FROM grids WHERE code = :k"), {"k": keep}).scalar()
        assert version == 2
    engine.dispose()


def test_history_returns_the_exact_geometry_of_a_past_date(db_conn) -> None:
    plan = load_plan(db_conn)
    keep, drop = _neighbours(plan)
    t0 = db_conn.execute(text("SELECT clock_timestamp()")).scalar()
    apply_plan(db_conn, _merge(plan, keep, drop), base_versions=plan_versions(plan), author="a", reason="merge")
    past = load_plan(db_conn, as_of=t0).set_index("code")
    original = plan.set_index("code")
    assert shapely.equals_exact(past.at[keep, "geometry"], original.at[keep, "geometry"], tolerance=0)
    assert past.index.equals(original.index)
    assert load_plan(db_conn, as_of=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)).empty
