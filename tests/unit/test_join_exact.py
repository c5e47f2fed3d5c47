"""gis.join's grid index equals the STRtree ``covered_by`` + smallest-key reference on every point.

The property test builds random nested coverages on a dyadic lattice (so that vertices,
edge midpoints and lattice points are exactly representable and lie exactly on edges),
with holes, islands in holes, MultiPolygons, overlapping coarser levels, slivers and tiny
polygons, plus non-dyadic Voronoi layers; the deterministic tests pin each tricky case; the
mutation tests show that these cases catch a wrong kernel.
"""

from __future__ import annotations

import logging
import math
import re
import types
from fractions import Fraction
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gis.join as join
from gis.errors import CRSError

KERNELS = join._kernels()
pytestmark = pytest.mark.skipif(KERNELS is None, reason="numba is not importable here")


def reference(points, polygons, keys):
    return join._assign_points_strtree(points, polygons, keys=keys)


def grid_assign(points, polygons, keys, cells_per_polygon=None):
    index = join.CoverageIndex(polygons, keys, cells_per_polygon=cells_per_polygon)
    assert index.method == "grid"
    return index.assign(points)


def assert_same(points, polygons, keys, cells_per_polygon=None):
    got = grid_assign(points, polygons, keys, cells_per_polygon)
    expected = reference(points, polygons, keys)
    bad = [i for i, (a, b) in enumerate(zip(got.tolist(), expected.tolist())) if a != b]
    assert not bad, [(shapely.to_wkt(np.asarray(points, dtype=object)[i]), got[i], expected[i]) for i in bad[:10]]
    return got


# --------------------------------------------------------------------------------------
# generators
# --------------------------------------------------------------------------------------
def lattice_coverage(rng: np.random.Generator, n: int, m: int, step: float, regions: int) -> np.ndarray:
    """Random regions of a triangulated n × m lattice of squares (exact dyadic coordinates)."""
    tris = []
    for i in range(n):
        for j in range(m):
            x0, y0, x1, y1 = i * step, j * step, (i + 1) * step, (j + 1) * step
            if rng.random() < 0.5:
                tris += [[(x0, y0), (x1, y0), (x1, y1)], [(x0, y0), (x1, y1), (x0, y1)]]
            else:
                tris += [[(x0, y0), (x1, y0), (x0, y1)], [(x1, y0), (x1, y1), (x0, y1)]]
    tris = shapely.polygons(np.array(tris))
    centres = shapely.get_coordinates(shapely.centroid(tris))
    seeds = centres[rng.choice(len(centres), size=min(regions, len(centres)), replace=False)]
    label = np.argmin(((centres[:, None, :] - seeds[None, :, :]) ** 2).sum(-1), axis=1)
    return np.array([shapely.union_all(tris[label == k]) for k in np.unique(label)], dtype=object)


def voronoi_cells(rng: np.random.Generator, n: int, box: tuple[float, float, float, float]) -> np.ndarray:
    frame = shapely.box(*box)
    seeds = shapely.multipoints(shapely.points(rng.uniform(box[0], box[2], n), rng.uniform(box[1], box[3], n)))
    return shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame)


def tricky_points(rng: np.random.Generator, polygons: np.ndarray, n_random: int, step: float) -> np.ndarray:
    """Vertices, exact points on edges, points one ulp off edges, lattice points, random, NaN/inf."""
    coords = shapely.get_coordinates(polygons)
    rings = shapely.get_rings(shapely.get_parts(polygons))
    seg = []
    for ring in rings:
        c = shapely.get_coordinates(ring)
        seg.append(np.hstack([c[:-1], c[1:]]))
    seg = np.vstack(seg)
    a, b = seg[:, :2], seg[:, 2:]
    pick = rng.integers(0, len(seg), min(len(seg), 400))
    frac = rng.integers(1, 8, len(pick))[:, None] / 8.0
    on_edges = a[pick] + (b[pick] - a[pick]) * frac  # exact on dyadic edges
    mid = (a[pick] + b[pick]) / 2
    off = np.column_stack([np.nextafter(mid[:, 0], np.inf), np.nextafter(mid[:, 1], -np.inf)])
    xmin, ymin, xmax, ymax = shapely.total_bounds(polygons)
    w, h = xmax - xmin, ymax - ymin
    uniform = rng.uniform((xmin - 0.1 * w, ymin - 0.1 * h), (xmax + 0.1 * w, ymax + 0.1 * h), (n_random, 2))
    lattice = np.round(uniform / (step / 2)) * (step / 2)
    outline = np.column_stack([rng.choice([xmin, xmax], 50), rng.uniform(ymin, ymax, 50)])
    special = np.array([[np.nan, np.nan], [np.nan, ymin], [np.inf, ymin], [xmin, -np.inf], [xmin, ymin], [xmax, ymax],
                        [xmin, ymax], [xmax, ymin]])
    xy = np.vstack([coords[rng.integers(0, len(coords), min(len(coords), 400))], on_edges, mid, off, uniform,
                    lattice, outline, special])
    return shapely.points(xy[rng.permutation(len(xy))])


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    step = float(rng.choice([1.0, 0.5, 0.125]))
    n, m = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    layers = [lattice_coverage(rng, n, m, step, int(rng.integers(1, 12)))]
    polys = list(layers[0])
    extras = []
    if rng.random() < 0.6:  # a coarser level over the fine one: overlapping polygons
        extras += list(lattice_coverage(rng, n, m, step, int(rng.integers(1, 4))))
    if rng.random() < 0.7:  # a hole (maybe with an island in it) cut into the region around it
        for _ in range(3):
            hx, hy = rng.integers(0, n) * step, rng.integers(0, m) * step
            hole = shapely.box(hx + step / 4, hy + step / 4, hx + 3 * step / 4, hy + 3 * step / 4)
            around = [k for k, p in enumerate(polys) if p.contains(hole)]
            if not around:
                continue
            polys[around[0]] = polys[around[0]].difference(hole)
            if rng.random() < 0.5:
                extras.append(shapely.box(hx + 3 * step / 8, hy + 3 * step / 8, hx + 5 * step / 8, hy + 5 * step / 8))
            if rng.random() < 0.5:
                extras.append(hole)  # exactly fills the hole: shares its ring
    if rng.random() < 0.5 and len(polys) >= 3:  # a MultiPolygon of two regions
        i, j = rng.choice(len(polys), 2, replace=False)
        polys[i] = shapely.union_all([polys[i], polys[j]])  # a MultiPolygon unless they touch
        polys.pop(j)
    if rng.random() < 0.5:  # slivers: needle triangles on the lattice lines
        for _ in range(3):
            x0, y0 = rng.integers(0, n) * step, rng.integers(0, m) * step
            extras.append(shapely.Polygon([(x0, y0), (x0 + step, y0), (x0 + step / 2, y0 + 2.0**-30)]))
    if rng.random() < 0.5:  # polygons far smaller than a cell
        for _ in range(5):
            x0, y0 = rng.uniform(0, n * step), rng.uniform(0, m * step)
            extras.append(shapely.box(x0, y0, x0 + 2.0**-14, y0 + 2.0**-14))
    if rng.random() < 0.4:  # a non-dyadic Voronoi level
        extras += list(voronoi_cells(rng, int(rng.integers(2, 30)), (0.0, 0.0, n * step, m * step)))
    polygons = np.array(polys + extras, dtype=object)
    keys = np.array([f"k{int(v):03d}" for v in rng.permutation(len(polygons))], dtype=object)
    points = tricky_points(rng, polygons, int(rng.integers(100, 1500)), step)
    return polygons, keys, points, step


# --------------------------------------------------------------------------------------
# the property
# --------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), density=st.sampled_from([None, 2, 16, 32, 512]))
def test_grid_equals_strtree_covered_by_on_every_point(seed, density):
    polygons, keys, points, _ = random_case(seed)
    assert_same(points, polygons, keys, cells_per_polygon=density)


def test_the_generator_really_makes_the_tricky_cases():
    kinds = {"hole": 0, "multi": 0, "overlap": 0, "on_boundary": 0, "tie": 0}
    for seed in range(30):
        polygons, keys, points, _ = random_case(seed)
        kinds["hole"] += int(any(shapely.get_num_interior_rings(p) for p in shapely.get_parts(polygons)))
        kinds["multi"] += int(any(p.geom_type == "MultiPolygon" for p in polygons))
        tree = shapely.STRtree(polygons)
        pi, gi = tree.query(points, predicate="covered_by")
        counts = np.bincount(pi, minlength=len(points))
        kinds["tie"] += int((counts >= 2).any())
        kinds["overlap"] += int((counts >= 3).any())
        bd = shapely.STRtree(shapely.boundary(polygons)).query(points, predicate="intersects")[0]
        kinds["on_boundary"] += int(len(bd) > 0)
    assert all(v >= 5 for v in kinds.values()), kinds


# --------------------------------------------------------------------------------------
# deterministic cases
# --------------------------------------------------------------------------------------
def squares_around(cx: float, cy: float, r: float, keys: list[str]):
    polys = np.array([shapely.box(cx - r, cy - r, cx, cy), shapely.box(cx, cy - r, cx + r, cy),
                      shapely.box(cx, cy, cx + r, cy + r), shapely.box(cx - r, cy, cx, cy + r)], dtype=object)
    return polys, np.array(keys, dtype=object)


def test_vertex_shared_by_four_squares_and_by_a_fan_of_six_triangles():
    polys, keys = squares_around(1.0, 1.0, 1.0, ["d", "b", "a", "c"])
    points = shapely.points([(1, 1), (1, 0.5), (0.5, 1), (1.5, 1), (1, 1.5), (0, 0), (2, 2), (0.5, 0.5)])
    got = assert_same(points, polys, keys)
    assert got.tolist() == ["a", "b", "c", "a", "a", "d", "a", "d"]
    angles = np.arange(7) * math.pi / 3
    ring = np.column_stack([5 + 2 * np.cos(angles), 5 + 2 * np.sin(angles)])
    fan = np.array([shapely.Polygon([(5, 5), tuple(ring[i]), tuple(ring[i + 1])]) for i in range(6)], dtype=object)
    fan_keys = np.array(["f", "e", "z", "y", "x", "w"], dtype=object)
    pts = shapely.points(np.vstack([[5, 5], ring[:6], (ring[:6] + 5) / 2]))
    got = assert_same(pts, fan, fan_keys)
    assert got[0] == "e"  # the centre is on all six: the smallest key


def test_points_on_a_hole_ring_and_inside_the_hole():
    donut = shapely.box(0, 0, 10, 10).difference(shapely.box(4, 4, 6, 6))
    island = shapely.box(4.5, 4.5, 5.5, 5.5)
    polys = np.array([donut, island], dtype=object)
    keys = np.array(["b", "a"], dtype=object)
    points = shapely.points([(4, 5), (6, 5), (5, 4), (4, 4), (4.2, 5), (5, 5), (4.5, 4.5), (5.5, 5), (1, 1), (10, 5)])
    got = assert_same(points, polys, keys)
    assert got.tolist() == ["b", "b", "b", "b", None, "a", "a", "a", "b", "b"]
    # a polygon exactly filling the hole shares its ring: the smallest key wins there
    filler = shapely.box(4, 4, 6, 6)
    got = assert_same(points, np.array([donut, filler], dtype=object), np.array(["b", "a"], dtype=object))
    assert got.tolist()[:5] == ["a", "a", "a", "a", "a"]


def test_collinear_points_on_a_long_edge_and_one_ulp_beside_it():
    # a long diagonal edge shared by two triangles; points exactly on it and next to it
    a, b = (0.1, 0.2), (1000.3, 377.7)
    left = shapely.Polygon([a, b, (0.1, 377.7)])
    right = shapely.Polygon([a, (1000.3, 0.2), b])
    polys = np.array([left, right], dtype=object)
    keys = np.array(["y", "x"], dtype=object)
    t = np.linspace(0, 1, 2001)
    on = np.column_stack([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])  # within an ulp of the edge
    beside = np.column_stack([np.nextafter(on[:, 0], np.inf), on[:, 1]])
    # exactly on the edge: the edge's own vertices and points of an exactly representable line
    exact = np.column_stack([np.arange(0, 1000) * 3.0 + 0.5, np.arange(0, 1000) * 1.0 + 0.5])
    line = np.array([shapely.Polygon([(0.5, 0.5), (2997.5, 999.5), (0.5, 999.5)]),
                     shapely.Polygon([(0.5, 0.5), (2997.5, 0.5), (2997.5, 999.5)])], dtype=object)
    assert_same(shapely.points(np.vstack([on, beside])), polys, keys)
    got = assert_same(shapely.points(exact), line, np.array(["q", "p"], dtype=object))
    assert set(got.tolist()) == {"p"}


def test_tiny_slivers_and_polygons_much_smaller_than_a_cell():
    big = shapely.box(0, 0, 100, 100)
    sliver = shapely.Polygon([(10, 10), (60, 10), (35, 10 + 1e-9)])
    tiny = [shapely.box(50 + i, 50, 50 + i + 1e-6, 50 + 1e-6) for i in range(20)]
    polys = np.array([big, sliver, *tiny], dtype=object)
    keys = np.array(["z", "a", *[f"t{i:02d}" for i in range(20)]], dtype=object)
    pts = [(35, 10 + 5e-10), (35, 10), (35, 10 - 1e-12), (10, 10), (60, 10), (35, 10 + 1e-9), (35, 10 + 2e-9)]
    for i in range(20):
        pts += [(50 + i + 5e-7, 50 + 5e-7), (50 + i, 50), (50 + i + 1e-6, 50 + 1e-6), (50 + i + 2e-6, 50)]
    index = join.CoverageIndex(polys, keys)
    assert index.stats["cell_size"] > 1e-3  # the tiny ones are far smaller than a cell
    got = assert_same(shapely.points(pts), polys, keys)
    assert got[:3].tolist() == ["a", "a", "z"] and got[7] == "t00" and got[10] == "z"


def test_points_on_the_extent_outer_boundary_and_corners():
    cells = voronoi_cells(np.random.default_rng(11), 200, (0.0, 0.0, 7.0, 3.0))
    keys = np.array([f"{i:03d}" for i in np.random.default_rng(12).permutation(len(cells))], dtype=object)
    xs = np.linspace(0, 7, 301)
    ys = np.linspace(0, 3, 301)
    pts = np.vstack([np.column_stack([xs, np.zeros_like(xs)]), np.column_stack([xs, np.full_like(xs, 3.0)]),
                     np.column_stack([np.zeros_like(ys), ys]), np.column_stack([np.full_like(ys, 7.0), ys]),
                     [[0, 0], [7, 3], [0, 3], [7, 0], [np.nextafter(7, 8), 1.0], [1.0, np.nextafter(0, -1)]]])
    got = assert_same(shapely.points(pts), cells, keys)
    assert all(k is not None for k in got[:-2]) and got[-2] is None and got[-1] is None


def test_key_order_is_string_order_not_input_order():
    polys, _ = squares_around(0.0, 0.0, 1.0, ["", "", "", ""])
    keys = np.array([10, 9, 200, 3], dtype=object)  # as strings: "10" < "200" < "3" < "9"
    got = assert_same(shapely.points([(0, 0), (0, -0.5), (0.5, 0), (-0.5, 0)]), polys, keys)
    assert got.tolist() == [10, 10, 200, 10]  # numerically 9, 9, 9, 3


def test_missing_empty_nan_and_infinite_points_get_none_and_xy_input_agrees():
    cells = voronoi_cells(np.random.default_rng(3), 50, (0.0, 0.0, 4.0, 4.0))
    keys = [f"{i:02d}" for i in range(len(cells))]
    points = np.array([shapely.Point(1, 1), None, shapely.Point(), shapely.Point(np.nan, 1), shapely.Point(np.inf, 1),
                       shapely.Point(1, -np.inf), shapely.Point(2, 2, 5)], dtype=object)
    got = grid_assign(points, cells, keys)
    assert got[1:6].tolist() == [None] * 5 and got[0] is not None and got[6] is not None
    assert got.tolist() == reference(points, cells, keys).tolist()
    xy = np.array([[1, 1], [np.nan, np.nan], [np.nan, 1], [np.inf, 1], [2, 2]])
    index = join.CoverageIndex(cells, keys)
    assert index.assign(xy=xy).tolist() == index.assign(xy=(xy[:, 0], xy[:, 1])).tolist() == [
        got[0], None, None, None, got[6]]
    assert join.assign_points(None, cells, keys=keys, xy=xy).tolist() == index.assign(xy=xy).tolist()


def test_invalid_polygons_follow_geos_covered_by():
    overlapping_parts = shapely.MultiPolygon([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)])
    hole_outside = shapely.Polygon([(10, 0), (12, 0), (12, 2), (10, 2)], [[(15, 5), (16, 5), (16, 6), (15, 6)]])
    nested_holes = shapely.Polygon([(20, 0), (30, 0), (30, 10), (20, 10)],
                                   [[(21, 1), (25, 1), (25, 5), (21, 5)], [(22, 2), (24, 2), (24, 4), (22, 4)]])
    bowtie = shapely.Polygon([(40, 0), (42, 2), (42, 0), (40, 2)])
    polys = np.array([overlapping_parts, hole_outside, nested_holes, bowtie], dtype=object)
    keys = np.array(["d", "c", "b", "a"], dtype=object)
    rng = np.random.default_rng(5)
    pts = np.vstack([rng.uniform((-1, -1), (43, 11), (3000, 2)), np.round(rng.uniform((-1, -1), (43, 11), (3000, 2)))])
    assert_same(shapely.points(pts), polys, keys)


def test_a_cell_centre_exactly_on_an_edge_is_left_to_shapely():
    frame = shapely.box(0, 0, 64, 64)
    probe = join.CoverageIndex(np.array([frame, shapely.box(10, 10, 20, 20)], dtype=object), ["a", "b"])
    grid = probe._grid
    cx, cy = float(grid.cxs[5]), float(grid.cys[7])
    # same extent, part and edge counts, so the same grid; now a vertex sits on that centre
    tri = shapely.Polygon([(cx, cy), (cx + 5, cy), (cx, cy + 5)])
    polys = np.array([frame, tri], dtype=object)
    index = join.CoverageIndex(polys, ["b", "a"])
    assert index._grid.cxs[5] == cx and index.stats["shapely_cells"] >= 1
    rng = np.random.default_rng(1)
    size = grid.size
    pts = np.vstack([[[cx, cy], [cx + 1e-3, cy], [cx, cy + 1e-3], [cx - 1e-3, cy]],
                     rng.uniform((cx - size, cy - size), (cx + size, cy + size), (500, 2))])
    got = index.assign(shapely.points(pts))
    assert got.tolist() == reference(shapely.points(pts), polys, ["b", "a"]).tolist()


def test_non_polygon_geometries_among_the_polygons_use_the_reference():
    polys = np.array([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (2, 2)]), None, shapely.Polygon()],
                     dtype=object)
    keys = ["b", "a", "c", "d"]
    index = join.CoverageIndex(polys, keys)
    assert index.method == "strtree"
    pts = shapely.points([(0.5, 0.5), (1.5, 1.5), (0.2, 0.8), (3, 3)])
    assert index.assign(pts).tolist() == reference(pts, polys, keys).tolist() == ["a", "a", "b", None]


def test_errors_are_unchanged():
    polys = gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs=4490)
    points = gpd.GeoSeries(shapely.points(np.zeros((2000, 2))), crs=4326)
    with pytest.raises(CRSError):
        join.assign_points(points, polys, keys=["a"])
    with pytest.raises(CRSError):
        join.assign_points(points.set_crs(None, allow_override=True), polys, keys=["a"])
    with pytest.raises(ValueError, match="keys has 2 entries"):
        join.assign_points(points.to_crs(4490), polys, keys=["a", "b"])
    with pytest.raises(CRSError):
        join.CoverageIndex(polys, ["a"]).assign(points)
    with pytest.raises(ValueError, match="either points or xy"):
        join.CoverageIndex(polys, ["a"]).assign(points.to_crs(4490), xy=(np.zeros(1), np.zeros(1)))


def test_one_shot_uses_the_grid_and_a_token_keeps_the_index(monkeypatch):
    cells = voronoi_cells(np.random.default_rng(21), 100, (0.0, 0.0, 10.0, 10.0))
    keys = [f"{i:03d}" for i in range(len(cells))]
    pts = shapely.points(np.random.default_rng(22).uniform(-1, 11, (5000, 2)))
    built = []
    original = join.CoverageIndex.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(join.CoverageIndex, "__init__", counting)
    join.clear_index_cache()
    expected = reference(pts, cells, keys).tolist()
    assert join.assign_points(pts, cells, keys=keys).tolist() == expected and len(built) == 1
    for _ in range(3):
        assert join.assign_points(pts, cells, keys=keys, cache_token="changeset-1").tolist() == expected
    assert len(built) == 2  # one more for the token, then reused
    for token in range(join._INDEX_CACHE_SIZE):
        join.coverage_index(cells, keys, token=("other", token))
    join.assign_points(pts, cells, keys=keys, cache_token="changeset-1")
    assert len(built) == 3 + join._INDEX_CACHE_SIZE  # evicted (least recently used), rebuilt
    with pytest.raises(ValueError, match="cache token"):
        join.coverage_index(cells[:10], keys[:10], token="changeset-1")
    join.clear_index_cache()


def test_without_numba_the_answers_stay_exact(monkeypatch, caplog):
    monkeypatch.setattr(join, "_KERNELS", None)
    monkeypatch.setattr(join, "_KERNELS_TRIED", False)
    import builtins

    real_import = builtins.__import__

    def no_kernels(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "gis" and fromlist and "_grid_kernels" in fromlist:
            raise ImportError("numba is not installed (simulated)")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", no_kernels)
    polygons, keys, points, _ = random_case(7)
    with caplog.at_level(logging.WARNING, logger="gis.join"):
        index = join.CoverageIndex(polygons, keys)
    assert index.method == "strtree"
    assert "numba is unavailable" in caplog.text
    assert index.assign(points).tolist() == reference(points, polygons, keys).tolist()


def test_a_kernel_that_fails_falls_back_with_a_warning(monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("simulated compilation failure")

    monkeypatch.setattr(KERNELS, "sweep", broken)
    polygons, keys, points, _ = random_case(8)
    with caplog.at_level(logging.WARNING, logger="gis.join"):
        index = join.CoverageIndex(polygons, keys)
    assert index.method == "strtree" and "could not be built" in caplog.text
    assert index.assign(points).tolist() == reference(points, polygons, keys).tolist()


# --------------------------------------------------------------------------------------
# exact orientation
# --------------------------------------------------------------------------------------
def exact_sign(ax, ay, bx, by, cx, cy) -> int:
    f = Fraction
    det = (f(ax) - f(cx)) * (f(by) - f(cy)) - (f(ay) - f(cy)) * (f(bx) - f(cx))
    return (det > 0) - (det < 0)


coordinate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False).filter(
    lambda v: v == 0 or abs(v) >= 1e-100)


@settings(max_examples=500, deadline=None)
@given(ax=coordinate, ay=coordinate, bx=coordinate, by=coordinate, t=st.floats(0, 1), ulps=st.integers(-3, 3))
def test_orient_is_exact_near_collinear(ax, ay, bx, by, t, ulps):
    cx = ax + t * (bx - ax)  # within rounding of the line a b
    cy = ay + t * (by - ay)
    for _ in range(abs(ulps)):
        cx = np.nextafter(cx, np.inf if ulps > 0 else -np.inf)
    assume(all(v == 0 or 1e-100 <= abs(v) for v in (cx, cy)))  # the range the kernels get
    expected = exact_sign(ax, ay, bx, by, cx, cy)
    assert KERNELS.orient(ax, ay, bx, by, cx, cy) == expected
    assert KERNELS.orient_exact(ax, ay, bx, by, cx, cy) == expected


def test_orient_classic_failure_cases_of_plain_floating_point():
    # Kettner et al., "Classroom examples of robustness problems": p near the line q r
    u = 2.0**-53
    wrong = 0
    for i in range(64):
        for j in range(64):
            px, py = 0.5 + i * u, 0.5 + j * u
            args = (12.0, 12.0, 24.0, 24.0, px, py)
            naive = (args[0] - px) * (args[3] - py) - (args[1] - py) * (args[2] - px)
            expected = exact_sign(*args)
            wrong += int(((naive > 0) - (naive < 0)) != expected)
            assert KERNELS.orient(*args) == expected
    assert wrong > 0  # the case does defeat plain floating point


# --------------------------------------------------------------------------------------
# the tests can fail: mutated kernels (run as plain Python) give other answers
# --------------------------------------------------------------------------------------
SOURCE = Path(KERNELS.__file__).read_text() if KERNELS is not None else ""
_JIT_LINE = re.compile(r"^_jit = numba\.njit\(.*\)$", re.M)


def python_kernels(mutations: list[tuple[str, str]]) -> types.ModuleType:
    """The kernels module as plain Python (no JIT), with textual mutations applied."""
    source = _JIT_LINE.sub("_jit = lambda f: f", SOURCE)
    for old, new in mutations:
        assert source.count(old) >= 1, old
        source = source.replace(old, new)
    module = types.ModuleType("mutant_kernels")
    exec(compile(source, "mutant_kernels", "exec"), module.__dict__)
    return module


def python_assign(kernels, points, polygons, keys, cells_per_polygon=8):
    polys = join._usable(np.asarray(polygons, dtype=object))
    rank = join._key_ranks(np.asarray(keys, dtype=object))
    grid = join._build_grid(kernels, polys, rank, cells_per_polygon)
    x = shapely.get_x(points)
    y = shapely.get_y(points)
    out = np.empty(len(x), dtype=np.int32)
    kernels.assign_xy(x, y, grid.xmin, grid.ymin, grid.xmax, grid.ymax, grid.inv, grid.nx, grid.ny, grid.cxs,
                      grid.cys, grid.cell_value, grid.block_off, grid.blocks, grid.rank_poly, out)
    slow = out == kernels.SLOW
    out[slow] = join._strtree_positions(shapely.STRtree(polys), points[slow], rank)
    key_out = np.append(np.asarray(keys, dtype=object), None)
    return key_out[out].tolist()


def crafted_cases():
    """The deterministic cases above, small enough for the plain-Python kernels."""
    cases = []
    polys, keys = squares_around(1.0, 1.0, 1.0, ["d", "b", "a", "c"])
    rng = np.random.default_rng(2)
    grid_pts = np.round(rng.uniform(-0.2, 2.2, (300, 2)) * 4) / 4  # many on edges and vertices
    cases.append((shapely.points(np.vstack([grid_pts, rng.uniform(0, 2, (300, 2))])), polys, keys))
    donut = shapely.box(0, 0, 10, 10).difference(shapely.box(4, 4, 6, 6))
    cases.append((shapely.points(np.vstack([np.round(rng.uniform(-1, 11, (300, 2)) * 2) / 2,
                                            rng.uniform(3, 7, (300, 2))])),
                  np.array([donut, shapely.box(4.5, 4.5, 5.5, 5.5)], dtype=object), np.array(["b", "a"], dtype=object)))
    a, b = (0.1, 0.2), (1000.3, 377.7)
    tris = np.array([shapely.Polygon([a, b, (0.1, 377.7)]), shapely.Polygon([a, (1000.3, 0.2), b])], dtype=object)
    t = np.linspace(0, 1, 400)
    near = np.column_stack([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
    cases.append((shapely.points(near), tris, np.array(["y", "x"], dtype=object)))
    return cases


def test_the_plain_python_kernels_agree_with_the_reference():
    kernels = python_kernels([])
    for points, polys, keys in crafted_cases():
        assert python_assign(kernels, points, polys, keys) == reference(points, polys, keys).tolist()


@pytest.mark.parametrize("name, mutations", [
    ("boundary points not covered", [("                    return _BDY\n", "                    return _EXT\n")]),
    ("ties to the larger key", [("        return blocks[off + 3] if loc == _EXT else blocks[off + 2]",
                                 "        return blocks[off + 2] if loc == _EXT else blocks[off + 3]")]),
    ("holes ignored", [("        if flags & 1:  # a hole of the first part", "        if False:  # a hole of the first part"),
                       ("            elif loc == _INT:\n                covered = False",
                        "            elif False:\n                covered = False")]),
    ("no exact fallback", [("    return orient_exact(ax, ay, bx, by, cx, cy)\n\n\n# ---",
                            "    return 1 if det > 0.0 else (-1 if det < 0.0 else 0)\n\n\n# ---")]),
    ("cell centres mislocated", [("cross_k[n] = k + 1  #", "cross_k[n] = max(k, 0)  #")]),
])
def test_a_mutated_kernel_gives_other_answers_on_the_crafted_cases(name, mutations):
    kernels = python_kernels(mutations)
    differs = 0
    for points, polys, keys in crafted_cases():
        got = python_assign(kernels, points, polys, keys)
        differs += sum(g != e for g, e in zip(got, reference(points, polys, keys).tolist()))
    assert differs > 0, name
