"""One point → grid rule, proven once: every path gives the same answer on every point.

Random nested coverages (rectangular plans with random splits and sizes), then a random split of
one micro-grid later in time, so there are two plans: one valid in the past, one now. Points lie
on shared vertices, on shared edges, inside grids and outside the coverage. Compared point by
point, against the pure rule (:func:`boundaries.assign.assign_to_leaves`):

* bulk assignment — households imported through :func:`store.bulk.load_households`, and the same
  households re-assigned by the boundary edit (:func:`store.grids.apply_plan`);
* incidents imported with a past report time (:func:`store.bulk.load_incidents`): the current grid
  and the grid valid when reported;
* single-point lookups — :func:`store.lookup.grid_at_point` now and as of the past date (what
  ``gridgov lookup`` and the map's click call), and :func:`store.governance.report_incident`.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text

from boundaries.assign import assign_to_leaves
from boundaries.coding import CodeScheme
from boundaries.edits import split_grid
from boundaries.model import leaf_mask, rectangular_plan
from store import bulk, governance, grids, lookup
from store.migrate import upgrade

pytestmark = pytest.mark.db

SCHEME = CodeScheme((12, 3, 3))
UTC = dt.UTC
T0 = dt.datetime(2020, 1, 1, tzinfo=UTC)  # the first plan
T1 = dt.datetime(2024, 1, 1, tzinfo=UTC)  # the split
PAST = dt.datetime(2022, 6, 1, tzinfo=UTC)  # a moment when the first plan was valid


@pytest.fixture(scope="module")
def rule_engine(throwaway_databases) -> Engine:
    url = throwaway_databases.create(migrate=False)
    engine = create_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _points(plan: gpd.GeoDataFrame, rng: np.random.Generator, n_random: int) -> np.ndarray:
    leaves = plan.loc[leaf_mask(plan)].geometry.to_numpy()
    vertices = shapely.get_coordinates(shapely.boundary(leaves))
    picked = vertices[rng.choice(len(vertices), size=min(len(vertices), 25), replace=False)]
    rings = shapely.boundary(leaves)
    mids = shapely.get_coordinates(shapely.line_interpolate_point(rings, rng.random(len(rings)), normalized=True))
    x0, y0, x1, y1 = shapely.total_bounds(leaves)
    inside = np.column_stack([rng.uniform(x0, x1, n_random), rng.uniform(y0, y1, n_random)])
    outside = np.array([[x0 - 0.001, y0], [x1 + 0.0005, (y0 + y1) / 2], [(x0 + x1) / 2, y1 + 1e-7]])
    xy = np.vstack([picked, mids, inside, outside])
    return shapely.points(xy)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    splits = [
        (draw(st.integers(1, 3)), draw(st.integers(1, 2))),
        (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
    ]
    cell = draw(st.sampled_from([0.0007, 0.001, 0.00123]))
    seed = draw(st.integers(0, 2**31 - 1))
    return {"splits": splits, "cell": cell, "seed": seed}


def _split_one(plan: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame | None:
    """The plan after splitting one random micro-grid with a vertical line through its middle."""
    leaves = plan.loc[leaf_mask(plan) & (plan["level"] == 3)]
    if leaves.empty:
        return None
    row = leaves.iloc[int(rng.integers(len(leaves)))]
    x0, y0, x1, y1 = row.geometry.bounds
    x = x0 + (x1 - x0) * float(rng.uniform(0.3, 0.7))
    line = shapely.LineString([(x, y0 - 1e-4), (x, y1 + 1e-4)])
    result = split_grid(plan, row["code"], line, scheme=SCHEME)
    return result.plan if result.report.ok else None


def _household_frame(points: np.ndarray) -> gpd.GeoDataFrame:
    n = len(points)
    return gpd.GeoDataFrame(
        {
            "household_key": [f"H{i:05d}" for i in range(n)],
            "address": [""] * n, "building_no": [None] * n, "house_no": [None] * n,
            "members": [1] * n, "special_kinds": [[] for _ in range(n)],
        },
        geometry=gpd.GeoSeries(points, crs=4490), crs=4490,
    )


def _incident_frame(points: np.ndarray, at: dt.datetime) -> gpd.GeoDataFrame:
    n = len(points)
    return gpd.GeoDataFrame(
        {
            "incident_key": [f"I{i:05d}" for i in range(n)], "reported_at": [at] * n, "category": ["sanitation"] * n,
            "description": [""] * n, "status": ["reported"] * n, "address": [""] * n,
        },
        geometry=gpd.GeoSeries(points, crs=4490), crs=4490,
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_every_path_gives_the_same_grid(rule_engine: Engine, scenario: dict) -> None:
    rng = np.random.default_rng(scenario["seed"])
    first = rectangular_plan(splits=scenario["splits"], cell_deg=scenario["cell"])
    second = _split_one(first, rng)
    if second is None:
        second = first
    points = _points(second, rng, 40)
    expected_past = assign_to_leaves(points, first)
    expected_now = assign_to_leaves(points, second)
    assert any(c is None for c in expected_now)  # outside points are in every example

    with rule_engine.connect() as conn, conn.begin() as trans:
        grids.apply_plan(conn, first, base_versions={}, author="test", reason="first plan", at=T0)
        bulk.load_households(conn, _household_frame(points), author="test")
        before_edit = [r[0] for r in conn.execute(text("SELECT grid_code FROM households ORDER BY household_key"))]
        assert before_edit == list(expected_past)

        if second is not first:
            versions = grids.plan_versions(grids.load_plan(conn))
            lineage = []
            grids.apply_plan(conn, second, base_versions=versions, author="test", reason="split", at=T1,
                             lineage=lineage)
        after_edit = [r[0] for r in conn.execute(text("SELECT grid_code FROM households ORDER BY household_key"))]
        assert after_edit == list(expected_now), "re-assignment after the edit differs from the rule"

        bulk.load_incidents(conn, _incident_frame(points, PAST), author="test")
        imported = conn.execute(
            text("SELECT grid_code, grid_code_at_report FROM incidents ORDER BY incident_key")
        ).all()
        assert [r[0] for r in imported] == list(expected_now)
        assert [r[1] for r in imported] == list(expected_past)

        for k, point in enumerate(points):
            x, y = point.x, point.y
            assert lookup.grid_at_point(conn, x, y) == expected_now[k], (k, x, y)
            assert lookup.grid_at_point(conn, x, y, as_of=PAST) == expected_past[k], (k, x, y)
            assert lookup.grid_at_point(conn, x, y, as_of=PAST.date()) == expected_past[k], (k, x, y)
            if expected_now[k] is not None and k % 3 == 0:
                incident = governance.report_incident(
                    conn, lon=x, lat=y, category="sanitation", actor="test", reported_at=PAST
                )
                got = conn.execute(
                    text("SELECT grid_code, grid_code_at_report FROM incidents WHERE id = :i"), {"i": incident}
                ).one()
                assert tuple(got) == (expected_now[k], expected_past[k] or expected_now[k])
            if expected_now[k] is not None:
                cards = lookup.lookup_point(conn, x, y)
                assert cards[0].code == expected_now[k]
        trans.rollback()


def test_a_point_on_a_shared_edge_goes_to_the_smaller_code(rule_engine: Engine) -> None:
    """The tie rule on its own, so a regression names itself (two side-by-side micro-grids)."""
    plan = rectangular_plan(splits=((1, 1), (1, 1), (2, 1)))
    leaves = plan.loc[leaf_mask(plan)].sort_values("code")
    left, right = leaves.geometry.iloc[0], leaves.geometry.iloc[1]
    edge = shapely.intersection(left.boundary, right.boundary)
    on_edge = shapely.line_interpolate_point(edge, 0.5, normalized=True)
    with rule_engine.connect() as conn, conn.begin() as trans:
        grids.apply_plan(conn, plan, base_versions={}, author="test", reason="plan", at=T0)
        assert lookup.grid_at_point(conn, on_edge.x, on_edge.y) == leaves["code"].iloc[0]
        assert assign_to_leaves(np.array([on_edge]), plan)[0] == leaves["code"].iloc[0]
        trans.rollback()


def test_a_rolled_back_plan_leaves_no_index_behind(rule_engine: Engine) -> None:
    """Two plans with the same codes, versions and dates but other geometry (cells of another size), each
    written and rolled back in turn, as the examples above and a dry run do: the second import is assigned
    by its own plan, not by the index kept for the first (the index is keyed by the versions' row ids)."""
    splits = ((2, 1), (2, 2), (1, 2))
    for cell in (0.001, 0.00123):
        plan = rectangular_plan(splits=splits, cell_deg=cell)
        leaves = plan.loc[leaf_mask(plan)]
        points = shapely.point_on_surface(leaves.geometry.to_numpy())
        with rule_engine.connect() as conn, conn.begin() as trans:
            grids.apply_plan(conn, plan, base_versions={}, author="test", reason=f"cells of {cell}", at=T0)
            bulk.load_households(conn, _household_frame(points), author="test")
            stored = [r[0] for r in conn.execute(text("SELECT grid_code FROM households ORDER BY household_key"))]
            assert stored == list(leaves["code"]), f"cells of {cell}: households assigned by another plan's index"
            trans.rollback()
