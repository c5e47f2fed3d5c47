"""gis.join's grid index (many points) gives exactly the answers of the plain STRtree path."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import gis.join as join


def _plain(points, polygons, keys):
    """Reference: the STRtree ``covered_by`` path (grid index switched off)."""
    saved = join._BUCKET_MIN_POINTS
    join._BUCKET_MIN_POINTS = 10**18
    try:
        return join.assign_points(points, polygons, keys=keys)
    finally:
        join._BUCKET_MIN_POINTS = saved


def test_plain_is_the_strtree_reference():
    cells = _voronoi(40, np.random.default_rng(9))
    keys = [str(i) for i in range(len(cells))]
    points = shapely.points(np.random.default_rng(10).uniform(-1, 11, (500, 2)))
    assert _plain(points, cells, keys).tolist() == join._assign_points_strtree(points, cells, keys=keys).tolist()


@pytest.fixture()
def bucket_always(monkeypatch):
    monkeypatch.setattr(join, "_BUCKET_MIN_POINTS", 1)
    monkeypatch.setattr(join, "_BUCKET_POINTS_PER_POLYGON", 0)


def _voronoi(n: int, rng: np.random.Generator) -> np.ndarray:
    frame = shapely.box(0, 0, 10, 8)
    seeds = shapely.multipoints(shapely.points(rng.uniform(0, 10, n), rng.uniform(0, 8, n)))
    return shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame)


def _spy(monkeypatch):
    calls = []
    original = join._grid_assign  # the compiled point kernel (one call per batch)

    def spy(*args):
        calls.append(len(args[0]))
        return original(*args)

    monkeypatch.setattr(join, "_grid_assign", spy)
    return calls


def test_bucketed_equals_plain_on_a_coverage_with_edge_vertex_and_outside_points(bucket_always, monkeypatch):
    rng = np.random.default_rng(3)
    cells = _voronoi(300, rng)
    keys = np.array([f"{i:04d}" for i in rng.permutation(len(cells))], dtype=object)
    vertices = shapely.get_coordinates(cells)
    xy = np.vstack([
        np.column_stack([rng.uniform(-1, 11, 20_000), rng.uniform(-1, 9, 20_000)]),  # some outside
        vertices[rng.choice(len(vertices), 3_000)],  # shared vertices: ties
        np.column_stack([rng.uniform(0, 10, 500), np.zeros(500)]),  # on the outer edge
    ])
    points = shapely.points(xy)
    calls = _spy(monkeypatch)
    got = join.assign_points(points, cells, keys=keys)
    assert calls == [len(points)]  # the bucket path really ran
    expected = _plain(points, cells, keys)
    assert got.tolist() == expected.tolist()
    assert sum(k is None for k in got) > 0 and sum(k is not None for k in got) > 15_000


def test_bucketed_handles_holes_multipolygons_overlaps_and_unusable_polygons(bucket_always, monkeypatch):
    donut = shapely.box(0, 0, 10, 10).difference(shapely.box(3, 3, 7, 7))
    islands = shapely.MultiPolygon([shapely.box(3, 3, 5, 5), shapely.box(20, 20, 21, 21)])
    overlapping = shapely.box(4, 4, 12, 6)  # overlaps the donut, the island and the hole
    polygons = np.array([donut, islands, overlapping, None, shapely.Polygon()], dtype=object)
    keys = np.array(["b", "c", "a", "x", "y"], dtype=object)
    rng = np.random.default_rng(4)
    points = shapely.points(rng.uniform(-1, 22, (30_000, 2)))
    calls = _spy(monkeypatch)
    got = join.assign_points(points, polygons, keys=keys)
    assert calls
    assert got.tolist() == _plain(points, polygons, keys).tolist()
    assert {"a", "b", "c", None} == set(got.tolist())
    assert join.assign_points(shapely.points([[4.5, 4.5], [20.5, 20.5], [5, 5]]), polygons, keys=keys).tolist() == [
        "a", "c", "a"]  # smallest key wins where polygons overlap or touch


def test_missing_empty_and_non_point_geometries(bucket_always, monkeypatch):
    # The grid path now takes missing and empty points itself (they get None); a non-point
    # geometry among the points is answered by the STRtree query, as before.
    cells = _voronoi(50, np.random.default_rng(5))
    keys = np.arange(len(cells)).astype(str).astype(object)
    points = np.array([shapely.Point(1, 1), None, shapely.Point(), shapely.Point(5, 5), shapely.box(1, 1, 1.01, 1.01)],
                      dtype=object)
    calls = _spy(monkeypatch)
    got = join.assign_points(points, cells, keys=keys)
    assert calls == [len(points)]
    assert got[1] is None and got[2] is None and got[0] is not None and got[3] is not None
    assert got.tolist() == _plain(points, cells, keys).tolist()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_cells=st.integers(1, 60),
    n_points=st.integers(1, 3_000),
    snap=st.sampled_from([None, 1.0, 0.5]),
)
def test_bucketed_equals_plain_property(seed, n_cells, n_points, snap):
    rng = np.random.default_rng(seed)
    cells = _voronoi(n_cells, rng) if n_cells > 1 else np.array([shapely.box(0, 0, 10, 8)], dtype=object)
    keys = np.array([str(k) for k in rng.permutation(len(cells))], dtype=object)
    xy = np.column_stack([rng.uniform(-0.5, 10.5, n_points), rng.uniform(-0.5, 8.5, n_points)])
    if snap:  # many points exactly on the grid lines of a snapped coverage edge / the outline
        xy = np.round(xy / snap) * snap
    points = shapely.points(xy)
    saved = (join._BUCKET_MIN_POINTS, join._BUCKET_POINTS_PER_POLYGON)
    join._BUCKET_MIN_POINTS, join._BUCKET_POINTS_PER_POLYGON = 1, 0
    try:
        got = join.assign_points(points, cells, keys=keys)
    finally:
        join._BUCKET_MIN_POINTS, join._BUCKET_POINTS_PER_POLYGON = saved
    assert got.tolist() == _plain(points, cells, keys).tolist()
