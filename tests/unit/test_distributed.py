"""gis.distributed on a real dask.distributed LocalCluster of 2 worker processes: the same answers
as the single-process rule (the STRtree covered_by + smallest-key reference) on every point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis.distributed import assign_distributed, close_client, local_client, morton_keys, spatial_partitions
from gis.join import _assign_points_strtree, assign_points


@pytest.fixture(scope="module")
def client():
    c = local_client(n_workers=2)
    try:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c
    finally:
        close_client(c)


def _coverage():
    """A 6 × 5 coverage of boxes (shared edges and vertices) plus a holed polygon, a multipolygon whose
    parts lie apart, a sliver and an overlapping polygon; keys in shuffled order."""
    rng = np.random.default_rng(3)
    polys, keys = [], []
    for i in range(6):
        for j in range(5):
            box = shapely.box(113.0 + i * 0.01, 29.0 + j * 0.01, 113.01 + i * 0.01, 29.01 + j * 0.01)
            if (i, j) == (2, 2):
                box = shapely.Polygon(box.exterior.coords, [shapely.box(113.023, 29.023, 113.027, 29.027).exterior.coords])
            polys.append(box)
    polys.append(shapely.MultiPolygon([shapely.box(113.07, 29.0, 113.08, 29.01), shapely.box(113.07, 29.04, 113.08, 29.05)]))
    polys.append(shapely.box(113.0, 29.05, 113.06, 29.0500001))  # sliver along the top
    polys.append(shapely.box(113.005, 29.005, 113.015, 29.015))  # overlaps four boxes
    codes = [f"4301{k:04d}" for k in rng.permutation(len(polys))]
    keys = np.array(codes, dtype=object)
    return np.array(polys, dtype=object), keys


def _points(polys, n=60_000):
    rng = np.random.default_rng(7)
    x = rng.uniform(112.99, 113.09, n)
    y = rng.uniform(28.99, 29.06, n)
    vertices = shapely.get_coordinates(polys)
    pick = rng.integers(0, len(vertices), 4000)
    x[:4000], y[:4000] = vertices[pick, 0], vertices[pick, 1]  # exactly on vertices
    x[4000:6000] = 113.0 + 0.01 * rng.integers(0, 7, 2000)     # exactly on vertical edges
    x[6000:6100] = np.nan                                      # missing coordinates
    x[6100:6200] = 113.025                                     # inside the hole or on its edges
    y[6100:6200] = rng.uniform(29.022, 29.028, 100)
    return x, y


def test_same_answers_as_the_reference_on_every_point(client):
    polys, keys = _coverage()
    x, y = _points(polys)
    expected = _assign_points_strtree(shapely.points(x, y), polys, keys=keys)
    result = assign_distributed(client, (x, y), polys, keys, n_partitions=8)
    got = result.keys(keys)
    assert result.partitioned_by == "morton" and result.partitions == 8
    assert sum(result.points_per_partition) == len(x)
    assert sum(result.points_per_worker.values()) == len(x)
    assert len(result.points_per_worker) == 2, result.points_per_worker  # both workers took partitions
    mismatches = np.flatnonzero(got != expected)
    assert len(mismatches) == 0, (len(mismatches), x[mismatches[:5]], y[mismatches[:5]])
    assert np.array_equal(got, assign_points(None, polys, keys=keys, xy=(x, y)))
    # a hole's interior is not covered, its ring is, the ties went somewhere
    assert (got == None).sum() > 100  # noqa: E711 - outside, NaN, in the hole


def test_admin_prefix_partitions_give_the_same_answers(client):
    polys, keys = _coverage()
    x, y = _points(polys, 20_000)
    rng = np.random.default_rng(1)
    prefixes = np.array([f"43{k}" for k in rng.integers(0, 5, len(x))], dtype=object)
    prefixes[::7] = None  # some carry none: they follow along the Z-order curve
    result = assign_distributed(client, (x, y), polys, keys, n_partitions=3, prefixes=prefixes)
    assert result.partitioned_by == "admin_code_prefix"
    expected = _assign_points_strtree(shapely.points(x, y), polys, keys=keys)
    assert np.array_equal(result.keys(keys), expected)


def test_a_new_coverage_is_never_answered_with_the_old_one(client):
    polys, keys = _coverage()
    x, y = _points(polys, 10_000)
    first = assign_distributed(client, (x, y), polys, keys).keys(keys)
    shifted = np.array([shapely.transform(p, lambda c: c + [0.005, 0.0]) for p in polys], dtype=object)
    second = assign_distributed(client, (x, y), shifted, keys).keys(keys)
    assert np.array_equal(second, _assign_points_strtree(shapely.points(x, y), shifted, keys=keys))
    assert not np.array_equal(first, second)


def test_partitions_cover_every_point_once():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 10, 1001), rng.uniform(0, 10, 1001)
    for prefixes in (None, np.array([str(v) for v in rng.integers(0, 9, 1001)], dtype=object)):
        groups, _ = spatial_partitions(x, y, 7, extent=(0, 0, 10, 10), prefixes=prefixes)
        together = np.sort(np.concatenate(groups))
        assert np.array_equal(together, np.arange(1001))
    # Z order: the four quadrants in order 0 (SW) < 1 (SE) < 2 (NW) < 3 (NE)
    keys = morton_keys(np.array([1.0, 9.0, 1.0, 9.0]), np.array([1.0, 1.0, 9.0, 9.0]), (0, 0, 10, 10))
    assert list(np.argsort(keys)) == [0, 1, 2, 3]


def test_empty_inputs_and_bad_keys(client):
    polys, keys = _coverage()
    assert len(assign_distributed(client, (np.empty(0), np.empty(0)), polys, keys).positions) == 0
    with pytest.raises(ValueError, match="keys has"):
        assign_distributed(client, (np.zeros(3), np.zeros(3)), polys, keys[:-1])
