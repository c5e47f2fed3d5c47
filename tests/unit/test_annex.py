"""annex_area: land outside the coverage becomes a new grid; parents follow; codes never reused."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box

from boundaries.edits.annex import annex_area
from boundaries.edits import EditRefused
from boundaries.model import leaf_mask, rectangular_plan
from boundaries.validation import validate_plan
from gis.measure import area_m2

LON0, LAT0, CELL = 113.3, 29.5, 0.001
L1 = "420102001001"
L2 = L1 + "001"  # south-west level-2 grid: cells x 0..2, y 0..2
A, B = L2 + "001", L2 + "002"  # its southern micro-grids


@pytest.fixture(scope="module")
def plan():
    return rectangular_plan(lon0=LON0, lat0=LAT0, cell_deg=CELL)


def _same(a, b) -> bool:
    """Equal up to the 1e-7° precision grid (symmetric difference under 0.01 m²)."""
    return float(area_m2([shapely.symmetric_difference(a, b)])[0]) < 0.01


def _geom(plan, code):
    return plan.loc[plan["code"] == code, "geometry"].iloc[0]


def test_annex_adds_a_child_and_the_parents_grow(plan) -> None:
    area = box(LON0, LAT0 - CELL, LON0 + 2 * CELL, LAT0)
    result = annex_area(plan, L2, area, name="新区")
    new = result.plan
    assert result.added == [L2 + "005"]
    row = new.loc[new["code"] == L2 + "005"].iloc[0]
    assert row["level"] == 3 and row["parent_code"] == L2 and row["name"] == "新区"
    assert _same(row.geometry, area)
    # parents follow: L2 and L1 now include the annexed area
    for code in (L2, L1):
        assert _same(_geom(new, code), shapely.union(_geom(plan, code), area))
    assert sorted(result.reshaped) == sorted([L2, L1])
    assert validate_plan(new).ok
    assert result.lineage == []
    # the input plan is untouched
    assert len(plan) == len(new) - 1


def test_annex_nodes_new_vertices_into_neighbours(plan) -> None:
    # corners in the middle of A's and B's south edges: both must get the new vertices
    area = box(LON0 + 0.5 * CELL, LAT0 - CELL, LON0 + 1.5 * CELL, LAT0)
    result = annex_area(plan, L2, area)
    new = result.plan
    assert validate_plan(new).ok
    leaves = new.loc[leaf_mask(new)]
    assert shapely.coverage_is_valid(leaves.geometry.to_numpy())
    coords_a = {tuple(c) for c in shapely.get_coordinates(_geom(new, A))}
    assert (round(LON0 + 0.5 * CELL, 7), LAT0) in {(round(x, 7), round(y, 7)) for x, y in coords_a}
    assert abs(float(area_m2([_geom(new, L2 + "005")])[0]) - float(area_m2([area])[0])) < 1.0


def test_annex_never_reuses_a_retired_code(plan) -> None:
    area = box(LON0, LAT0 - CELL, LON0 + CELL, LAT0)
    result = annex_area(plan, L2, area, retired_codes=[L2 + "005"])
    assert result.added == [L2 + "006"]


def test_annex_trims_snapping_noise_but_refuses_real_overlap(plan) -> None:
    noisy = box(LON0, LAT0 - CELL, LON0 + CELL, LAT0 + 1e-6)  # ~0.1 m into A: drawing noise
    result = annex_area(plan, L2, noisy)
    assert validate_plan(result.plan).ok
    assert shapely.equals(_geom(result.plan, A), _geom(plan, A))
    with pytest.raises(EditRefused) as err:
        annex_area(plan, L2, box(LON0, LAT0 - CELL, LON0 + CELL, LAT0 + 0.5 * CELL))
    assert err.value.findings[0].rule == "annex_overlaps"
    assert A in err.value.findings[0].codes


def test_annex_refusals(plan) -> None:
    far = box(LON0 - 5 * CELL, LAT0 - 5 * CELL, LON0 - 4 * CELL, LAT0 - 4 * CELL)
    with pytest.raises(EditRefused, match="share an edge"):
        annex_area(plan, L2, far)
    south = box(LON0, LAT0 - CELL, LON0 + CELL, LAT0)
    with pytest.raises(EditRefused, match="finest level"):
        annex_area(plan, A, south)
    with pytest.raises(EditRefused, match="not in the plan"):
        annex_area(plan, "420102001999", south)
    with pytest.raises(EditRefused, match="Polygon"):
        annex_area(plan, L2, shapely.LineString([(LON0, LAT0), (LON0 + CELL, LAT0 - CELL)]))
