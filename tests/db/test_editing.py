"""The editing service (etl/editing.py) on the demo subdistrict in PostGIS.

Every operation: preview → save keeps the coverage valid and the household total, and the
preview's moved counts equal what the save reassigned. Two sessions editing the same grid:
exactly one wins. History returns the exact geometry of a past date; rollback restores it.
"""

from __future__ import annotations

from access.actor import Actor

import threading
from typing import Any

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, create_engine, text

from store.grids import changeset_history, load_plan
from boundaries.validation import validate_plan
from services.editing import (
    OPERATIONS,
    EditPreview,
    load_points_for_impact,
    preview_edit,
    rollback_changeset,
    save_edit,
    start_edit,
    worker_workload,
)
from gis.errors import StaleVersionError, ValidationError

pytestmark = pytest.mark.db

#: ~20 m at the demo's latitude, in degrees (only used to draw test geometries).
BAND_DEG = 0.0002


def _geom(plan: gpd.GeoDataFrame, code: str):
    return plan.loc[plan["code"] == code, "geometry"].iloc[0]


def _busy_neighbours(db: Connection, plan: gpd.GeoDataFrame) -> tuple[str, str]:
    """Two sibling micro-grids sharing a long edge, the first with households near that edge."""
    micro = plan[plan["level"] == 3].reset_index(drop=True)
    geoms = micro.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="touches")
    best, best_len = None, 0.0
    for i, j in zip(left, right):
        a, b = micro.iloc[i], micro.iloc[j]
        if a["parent_code"] != b["parent_code"]:
            continue
        shared = shapely.intersection(shapely.boundary(a.geometry), shapely.boundary(b.geometry)).length
        if shared > best_len:
            best, best_len = (a["code"], b["code"]), shared
    assert best is not None, "demo has no neighbouring micro-grids"
    return best


def _band(plan: gpd.GeoDataFrame, a: str, b: str):
    """The strip of ``b`` within BAND_DEG of its shared edge with ``a`` (EPSG:4490)."""
    shared = shapely.intersection(shapely.boundary(_geom(plan, a)), shapely.boundary(_geom(plan, b)))
    return shapely.intersection(_geom(plan, b), shapely.buffer(shared, BAND_DEG, cap_style="flat"))


def _split_line(plan: gpd.GeoDataFrame, code: str):
    """A straight line through the middle of ``code`` across its shorter extent."""
    g = _geom(plan, code)
    minx, miny, maxx, maxy = g.bounds
    c = g.centroid
    if (maxx - minx) >= (maxy - miny):  # wide grid: cut it with a north-south line
        return shapely.LineString([(c.x, miny - 0.001), (c.x, maxy + 0.001)])
    return shapely.LineString([(minx - 0.001, c.y), (maxx + 0.001, c.y)])


def _annex_area(plan: gpd.GeoDataFrame) -> tuple[str, Any]:
    """(parent code, area) for a ~100 m square outside the coverage, on the edge of a level-2 grid."""
    leaves = plan[plan["level"] == 3]
    coverage = shapely.union_all(plan.loc[plan["level"] == 1].geometry.to_numpy())
    outer = shapely.boundary(coverage)
    lengths = shapely.length(shapely.intersection(shapely.boundary(leaves.geometry.to_numpy()), outer))
    leaf = leaves.iloc[int(lengths.argmax())]
    edge = shapely.intersection(shapely.boundary(leaf.geometry), outer)
    mid = shapely.line_interpolate_point(shapely.line_merge(edge) if edge.geom_type == "MultiLineString" else edge,
                                         0.5, normalized=True)
    square = shapely.box(mid.x - 0.0005, mid.y - 0.0005, mid.x + 0.0005, mid.y + 0.0005)
    outside = shapely.difference(square, coverage)
    part = max(shapely.get_parts(outside), key=lambda p: p.area)
    return str(leaf["parent_code"]), part


def _parameters(db: Connection, plan: gpd.GeoDataFrame, operation: str) -> dict[str, Any]:
    a, b = _busy_neighbours(db, plan)
    if operation == "split":
        return {"code": a, "line": _split_line(plan, a)}
    if operation == "merge":
        return {"codes": [a, b]}
    if operation == "reshape":
        return {"code_a": a, "code_b": b, "new_line_or_area": shapely.union(_geom(plan, a), _band(plan, a, b))}
    if operation == "reshape_grid":
        grown = shapely.union(_geom(plan, a), _band(plan, a, b))
        return {"code": a, "geometry": max(shapely.get_parts(grown), key=lambda p: p.area)}
    if operation == "transfer":
        return {"from_code": b, "to_code": a, "area": _band(plan, a, b)}
    if operation == "replace":
        parent = str(plan.loc[plan["code"] == a, "parent_code"].iloc[0])
        others = [c for c in plan.loc[plan["parent_code"] == parent, "code"] if c not in (a, b)]
        geoms = [shapely.union(_geom(plan, a), _geom(plan, b))] + [_geom(plan, c) for c in sorted(others)]
        return {"parent_code": parent, "new_children_geoms": geoms}
    if operation == "annex":
        parent, area = _annex_area(plan)
        return {"parent_code": parent, "area": area, "name": "annexed"}
    raise AssertionError(operation)


def _moves_of(preview: EditPreview) -> dict[tuple[str | None, str | None], int]:
    flows = preview.impact.flows

    def code(v: Any) -> str | None:
        return None if v == "(outside)" else v

    return {(code(f), code(t)): int(n) for f, t, n in zip(flows["from_code"], flows["to_code"], flows["households"])}


def _counts(db: Connection) -> tuple[int, int]:
    total, unassigned = db.execute(
        text("SELECT count(*), count(*) FILTER (WHERE grid_code IS NULL) FROM households")
    ).one()
    return int(total), int(unassigned)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_operation_keeps_the_coverage_and_the_households(db_conn: Connection, operation: str) -> None:
    total_before, unassigned_before = _counts(db_conn)
    draft = start_edit(db_conn)
    assert validate_plan(draft.plan).ok
    points = load_points_for_impact(db_conn)
    preview = preview_edit(db_conn, draft, operation, points=points, **_parameters(db_conn, draft.plan, operation))
    assert preview.can_save, preview.report.summary()
    assert preview.to_dict()["can_save"] is True

    applied = save_edit(db_conn, preview, actor=Actor("planner", role="planner"), reason=f"test {operation}")

    after = load_plan(db_conn)
    report = validate_plan(after)
    assert report.ok, report.summary()
    assert _counts(db_conn) == (total_before, unassigned_before)
    # the preview's moved counts are exactly what the save reassigned
    assert _moves_of(preview) == applied.households_moved
    if operation in ("split", "merge", "transfer", "reshape", "reshape_grid"):
        assert applied.households_moved, "the test edit should move some households"
    # the stored grid codes of households match the new plan's leaves
    stale = db_conn.execute(
        text("SELECT count(*) FROM households h WHERE h.grid_code IS NOT NULL AND NOT EXISTS "
             "(SELECT 1 FROM grids g WHERE g.code = h.grid_code)")
    ).scalar()
    assert stale == 0
    history = changeset_history(db_conn)
    assert history[0]["id"] == applied.changeset_id and history[0]["reason"] == f"test {operation}"


def test_annex_grows_the_parent_and_allocates_a_new_code(db_conn: Connection) -> None:
    draft = start_edit(db_conn)
    params = _parameters(db_conn, draft.plan, "annex")
    preview = preview_edit(db_conn, draft, "annex", **params)
    assert preview.can_save
    (new_code,) = preview.result.added
    assert new_code.startswith(params["parent_code"]) and new_code not in set(draft.plan["code"])
    assert new_code not in draft.retired_codes
    save_edit(db_conn, preview, actor=Actor("planner", role="planner"), reason="annex new land")
    after = load_plan(db_conn)
    parent = _geom(after, params["parent_code"])
    assert shapely.area(shapely.difference(params["area"], parent)) < 1e-10
    assert shapely.area(parent) > shapely.area(_geom(draft.plan, params["parent_code"]))


def test_save_needs_a_reason_and_a_valid_preview(db_conn: Connection) -> None:
    draft = start_edit(db_conn)
    preview = preview_edit(db_conn, draft, "merge", **_parameters(db_conn, draft.plan, "merge"))
    for reason in ("", "   "):
        with pytest.raises(ValidationError, match="reason"):
            save_edit(db_conn, preview, actor=Actor("planner", role="planner"), reason=reason)
    assert db_conn.execute(text("SELECT count(*) FROM changesets WHERE kind = 'edit'")).scalar() == 0
    with pytest.raises(ValidationError, match="operation"):
        preview_edit(db_conn, draft, "teleport")


def test_worker_workload_before_and_after(db_conn: Connection) -> None:
    draft = start_edit(db_conn)
    points = load_points_for_impact(db_conn)
    preview = preview_edit(db_conn, draft, "merge", points=points, **_parameters(db_conn, draft.plan, "merge"))
    table, balance = worker_workload(preview.impact, points["staff_assignments"], lineage=preview.result.lineage)
    workers = points["staff_assignments"]
    workers = workers[workers["role"] == "micro_worker"]
    assert len(table) == workers["staff_key"].nunique() > 0
    assert table["households_before"].sum() == preview.impact.workload_before.loc[
        [c for c in workers["grid_code"].unique() if c in preview.impact.workload_before.index], "households"].sum()
    # the worker of the retired grid now carries the merged grid
    (retired,) = preview.result.retired
    (kept,) = {link.new_code for link in preview.result.lineage}
    worker = workers.loc[workers["grid_code"] == retired, "staff_key"]
    if len(worker):
        row = table.set_index("staff_key").loc[worker.iloc[0]]
        assert row["households_after"] == preview.impact.workload_after.loc[kept, "households"]
    assert set(balance.columns.get_level_values(0)) == {"before", "after"}
    assert list(balance.index) == ["households", "special_households", "residents"]
    assert (balance[("after", "cv")] >= 0).all()


def test_concurrent_edits_of_the_same_grid_one_wins(throwaway_databases, demo_data) -> None:
    from store.seed import load_demo

    url = throwaway_databases.create()
    engine = create_engine(url)
    with engine.begin() as conn:
        load_demo(conn, demo_data)
    with engine.connect() as conn:
        draft_a = start_edit(conn)
        draft_b = start_edit(conn)
        a, b = _busy_neighbours(conn, draft_a.plan)
        points = load_points_for_impact(conn)
        preview_a = preview_edit(conn, draft_a, "merge", points=points, codes=[a, b])
        preview_b = preview_edit(conn, draft_b, "transfer", points=points, from_code=b, to_code=a,
                                 area=_band(draft_b.plan, a, b))
        conn.rollback()
    outcomes: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def save(label: str, preview: EditPreview) -> None:
        barrier.wait()
        try:
            with engine.begin() as conn:
                outcomes[label] = save_edit(conn, preview, actor=Actor(label, role="planner"), reason=f"edit by {label}")
        except StaleVersionError as exc:
            outcomes[label] = exc

    threads = [threading.Thread(target=save, args=("planner-a", preview_a)),
               threading.Thread(target=save, args=("planner-b", preview_b))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    errors = {k: v for k, v in outcomes.items() if isinstance(v, StaleVersionError)}
    wins = {k: v for k, v in outcomes.items() if not isinstance(v, StaleVersionError)}
    assert len(errors) == 1 and len(wins) == 1, outcomes
    (loser, exc), = errors.items()
    (winner, applied), = wins.items()
    message = str(exc)
    assert (a in message or b in message) and f"changeset {applied.changeset_id}" in message and winner in message
    with engine.connect() as conn:
        edits = conn.execute(text("SELECT author FROM changesets WHERE kind = 'edit'")).scalars().all()
        assert edits == [winner]
        assert validate_plan(load_plan(conn)).ok
        total = conn.execute(text("SELECT count(*) FROM households")).scalar()
        assert total == len(points["households"])
    # the loser starts again from the new plan and succeeds
    with engine.begin() as conn:
        draft = start_edit(conn)
        codes = set(draft.plan["code"])
        if {a, b} <= codes:
            retry = preview_edit(conn, draft, "merge", codes=[a, b])
        else:
            kept = a if a in codes else b
            other = _busy_neighbours(conn, draft.plan)
            retry = preview_edit(conn, draft, "merge", codes=list(other))
            assert kept in codes
        save_edit(conn, retry, actor=Actor(loser, role="planner"), reason="redo after conflict")
    engine.dispose()


def test_history_as_of_and_rollback_restore_the_exact_geometry(db_conn: Connection) -> None:
    draft = start_edit(db_conn)
    t0 = db_conn.execute(text("SELECT clock_timestamp()")).scalar()
    params = _parameters(db_conn, draft.plan, "transfer")
    preview = preview_edit(db_conn, draft, "transfer", **params)
    applied = save_edit(db_conn, preview, actor=Actor("planner", role="planner"), reason="move the strip")
    a, b = params["to_code"], params["from_code"]
    now = load_plan(db_conn)
    assert not shapely.equals(_geom(now, a), _geom(draft.plan, a))
    past = load_plan(db_conn, as_of=t0)
    for code in (a, b):
        assert shapely.equals_exact(_geom(past, code), _geom(draft.plan, code), 0.0)
    hh_before = dict(db_conn.execute(text("SELECT household_key, grid_code FROM households")).all())

    rolled = rollback_changeset(db_conn, applied.changeset_id, actor=Actor("planner", role="planner"))
    restored = load_plan(db_conn)
    assert validate_plan(restored).ok
    for code in (a, b):
        assert shapely.equals_exact(_geom(restored, code), _geom(draft.plan, code), 0.0)
    history = changeset_history(db_conn)
    assert history[0]["id"] == rolled.changeset_id and history[0]["kind"] == "rollback"
    assert history[1]["id"] == applied.changeset_id
    moved_back = {(t, f): n for (f, t), n in applied.households_moved.items()}
    assert rolled.households_moved == moved_back
    hh_after = dict(db_conn.execute(text("SELECT household_key, grid_code FROM households")).all())
    assert sum(1 for k in hh_after if hh_after[k] != hh_before[k]) == sum(moved_back.values())


def test_the_same_edit_saved_twice_is_a_conflict_not_an_empty_changeset(db_conn: Connection) -> None:
    draft_a = start_edit(db_conn)
    draft_b = start_edit(db_conn)
    params = _parameters(db_conn, draft_a.plan, "merge")
    first = save_edit(db_conn, preview_edit(db_conn, draft_b, "merge", **params), actor=Actor("planner-b", role="planner"), reason="first")
    late = preview_edit(db_conn, draft_a, "merge", **params)
    with pytest.raises(StaleVersionError) as err:
        save_edit(db_conn, late, actor=Actor("planner-a", role="planner"), reason="same idea, later")
    assert f"changeset {first.changeset_id}" in str(err.value) and "planner-b" in str(err.value)
    assert db_conn.execute(text("SELECT count(*) FROM changesets WHERE kind = 'edit'")).scalar() == 1


def test_rollback_of_a_merge_brings_the_retired_code_back(db_conn: Connection) -> None:
    draft = start_edit(db_conn)
    params = _parameters(db_conn, draft.plan, "merge")
    applied = save_edit(db_conn, preview_edit(db_conn, draft, "merge", **params), actor=Actor("planner", role="planner"), reason="merge")
    (retired,) = applied.changes.retired
    rolled = rollback_changeset(db_conn, applied.changeset_id, actor=Actor("planner", role="planner"))
    restored = load_plan(db_conn)
    assert validate_plan(restored).ok
    for code in params["codes"]:
        assert shapely.equals_exact(_geom(restored, code), _geom(draft.plan, code), 0.0)
    assert retired in set(rolled.changes.added)
    status, version = db_conn.execute(
        text("SELECT c.status, g.version FROM grid_codes c JOIN grids g USING (code) WHERE c.code = :c"), {"c": retired}
    ).one()
    assert status == "active" and version == draft.base_versions[retired] + 1
    assert rolled.households_moved == {(t, f): n for (f, t), n in applied.households_moved.items()}
