"""Nested-coverage validation: one minimal failing example per rule, plus real data."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
from geopandas.testing import assert_geodataframe_equal
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from boundaries.coding import CodeScheme
from boundaries.model import make_plan, rectangular_plan
from boundaries.validation import RULES, ValidationReport, validate_plan
from gis.errors import CRSError, ValidationError

TESTDATA = Path(__file__).resolve().parents[1] / "data" / "real"
LON0, LAT0, D = 113.3, 29.5, 0.001  # ~97 m × 111 m cells
P1 = "420102001001"
P2 = P1 + "001"


def cell(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A rectangle in cell units (0.001°) from (113.3°E, 29.5°N), on the 1e-7° grid."""
    return box(round(LON0 + x0 * D, 7), round(LAT0 + y0 * D, 7), round(LON0 + x1 * D, 7), round(LAT0 + y1 * D, 7))


def small_plan(children: list[Polygon] | None = None, parent: Polygon | None = None) -> gpd.GeoDataFrame:
    """Level-1 grid P1 (2×1 cells) with one level-2 grid P2 equal to it and micro-grids."""
    parent = parent or cell(0, 0, 2, 1)
    children = children if children is not None else [cell(0, 0, 1, 1), cell(1, 0, 2, 1)]
    rows = [
        {"code": P1, "level": 1, "parent_code": None, "name": "村", "geometry": parent},
        {"code": P2, "level": 2, "parent_code": P1, "name": "二级", "geometry": parent},
    ]
    for k, g in enumerate(children, start=1):
        rows.append({"code": f"{P2}{k:03d}", "level": 3, "parent_code": P2, "name": f"微{k}", "geometry": g})
    return make_plan(rows)


def rules(report: ValidationReport) -> set[str]:
    return {f.rule for f in report.findings}


def test_valid_plans_have_no_findings() -> None:
    assert validate_plan(small_plan()).findings == []
    report = validate_plan(rectangular_plan())
    assert report.ok and report.findings == [] and report.n_grids == 42


def test_missing_or_wrong_crs_is_an_error() -> None:
    plan = small_plan()
    with pytest.raises(CRSError, match="no CRS"):
        validate_plan(gpd.GeoDataFrame(plan.drop(columns="geometry"), geometry=list(plan.geometry)))
    with pytest.raises(CRSError, match="EPSG:4490"):
        validate_plan(plan.set_crs(4326, allow_override=True))


def test_missing_columns() -> None:
    with pytest.raises(ValidationError, match="parent_code"):
        validate_plan(small_plan().drop(columns=["parent_code"]))


def test_input_frame_not_mutated() -> None:
    plan = small_plan()
    before = plan.copy()
    validate_plan(plan)
    assert_geodataframe_equal(plan, before)


# --- code rules -----------------------------------------------------------------------------
def test_code_malformed() -> None:
    plan = small_plan()
    plan.loc[2, "code"] = P2 + "0a1"
    report = validate_plan(plan)
    [finding] = [f for f in report.findings if f.rule == "code_malformed"]
    assert "non-digit 'a'" in finding.message and finding.severity == "error" and finding.rows == (2,)


def test_duplicate_code() -> None:
    plan = small_plan()
    plan.loc[3, "code"] = plan.loc[2, "code"]
    report = validate_plan(plan)
    dup = [f for f in report.findings if f.rule == "duplicate_code"]
    assert len(dup) == 1 and dup[0].rows == (2, 3)


def test_level_mismatch() -> None:
    plan = small_plan()
    plan.loc[2, "level"] = 2
    assert "level_mismatch" in rules(validate_plan(plan))


def test_parent_rules() -> None:
    plan = small_plan()
    plan.loc[0, "parent_code"] = "420102001000"
    assert "parent_unexpected" in rules(validate_plan(plan))

    plan = small_plan()
    plan.loc[2, "parent_code"] = None
    report = validate_plan(plan)
    assert [f.codes for f in report.findings if f.rule == "parent_missing"] == [(P2 + "001",)]

    plan = small_plan().iloc[[0, 2, 3]]  # level-2 parent removed
    assert "parent_missing" in rules(validate_plan(plan))

    plan = small_plan()
    plan.loc[2, "parent_code"] = P1  # a level-3 code under a level-1 parent
    report = validate_plan(plan)
    assert "code_not_extending_parent" in rules(report)


def test_other_code_widths() -> None:
    scheme = CodeScheme((6, 3, 3, 3))
    plan = rectangular_plan(splits=((1, 1), (2, 1), (1, 2), (2, 1)), widths=(6, 3, 3, 3))
    assert set(plan["level"]) == {1, 2, 3, 4}
    assert validate_plan(plan, scheme=scheme).ok
    assert "code_malformed" in rules(validate_plan(plan, scheme=CodeScheme()))


# --- geometry rules -------------------------------------------------------------------------
def test_geometry_missing_empty_type_invalid() -> None:
    plan = small_plan(children=[cell(0, 0, 1, 1), cell(1, 0, 2, 1), cell(0, 0, 1, 1), cell(1, 0, 2, 1)])
    plan.loc[2, "geometry"] = None
    plan.loc[3, "geometry"] = Polygon()
    plan.loc[4, "geometry"] = LineString([(LON0, LAT0), (LON0 + D, LAT0 + D)])
    x0, y0, x1, y1 = LON0 + D, LAT0, LON0 + 2 * D, LAT0 + D
    plan.loc[5, "geometry"] = Polygon([(x0, y0), (x1, y1), (x0, y1), (x1, y0), (x0, y0)])  # bow-tie
    report = validate_plan(plan)
    by_rule = {f.rule: f for f in report.findings}
    assert by_rule["geometry_missing"].rows == (2,)
    assert by_rule["geometry_empty"].rows == (3,)
    assert by_rule["geometry_type"].rows == (4,) and "LineString" in by_rule["geometry_type"].message
    assert by_rule["geometry_invalid"].rows == (5,) and "Self-intersection" in by_rule["geometry_invalid"].message
    assert by_rule["geometry_invalid"].geometry.geom_type == "Point"


def test_multipart_unless_allowed() -> None:
    parts = MultiPolygon([cell(1, 0, 1.5, 1), cell(1.5, 0, 2, 0.5)])
    # two parts touching at a corner only: not contiguous; plus a separate square
    children = [cell(0, 0, 1, 1), MultiPolygon([cell(1, 0, 2, 0.5), cell(1, 0.5, 2, 1)])]
    plan = small_plan(children=children)
    report = validate_plan(plan)
    multi = [f for f in report.findings if f.rule == "multipart"]
    assert not multi  # two rectangles sharing an edge are not a valid MultiPolygon...
    assert "geometry_invalid" in rules(report)  # ...they are an invalid one
    children = [cell(0, 0, 1, 1).difference(cell(0.2, 0.2, 0.8, 0.8)), MultiPolygon([cell(1, 0, 2, 1), cell(0.2, 0.2, 0.8, 0.8)])]
    plan = small_plan(children=children)
    report = validate_plan(plan)
    [finding] = [f for f in report.findings if f.rule == "multipart"]
    assert finding.codes == (P2 + "002",) and "2 separate parts" in finding.message
    assert validate_plan(plan, allow_multipart=True).ok
    assert validate_plan(plan, allow_multipart=[P2 + "002"]).ok
    assert not validate_plan(plan, allow_multipart=[P2 + "001"]).ok
    del parts


def test_sliver_by_area_and_by_width() -> None:
    # a 0.5 m × 1 m grid (0.5 m²): sliver by area
    tiny = 0.5 / 97  # 0.5 m in cells of ~97 m × 111 m (at 29.5°N)
    children = [cell(0, 0, 1, 1), cell(1, 0, 2, 1).difference(cell(1, 0, 1 + tiny, 0.01)), cell(1, 0, 1 + tiny, 0.01)]
    report = validate_plan(small_plan(children=children))
    slivers = [f for f in report.findings if f.rule == "sliver"]
    assert [f.codes for f in slivers] == [(P2 + "003",)]
    assert slivers[0].area_m2 < 1.0
    # a 0.3 m wide, 111 m long strip: big enough area, but narrower than 0.5 m
    thin = 0.3 / 97
    children = [cell(0, 0, 1, 1), cell(1 + thin, 0, 2, 1), cell(1, 0, 1 + thin, 1)]
    report = validate_plan(small_plan(children=children))
    slivers = [f for f in report.findings if f.rule == "sliver"]
    assert [f.codes for f in slivers] == [(P2 + "003",)] and "narrower than 0.5 m" in slivers[0].message
    assert slivers[0].area_m2 > 1.0
    assert validate_plan(small_plan(children=children), sliver_width_m=0.2).ok


def test_overlap_between_siblings() -> None:
    children = [cell(0, 0, 1.2, 1), cell(1, 0, 2, 1)]
    report = validate_plan(small_plan(children=children))
    [finding] = [f for f in report.findings if f.rule == "overlap"]
    assert set(finding.codes) == {P2 + "001", P2 + "002"}
    assert finding.geometry.area == pytest.approx(0.2 * D * D, rel=1e-6)
    assert finding.area_m2 == pytest.approx(0.2 * 10_749.3, rel=1e-3)  # 0.2 of a ~97 m × 111 m cell
    assert "child_outside" not in rules(report)


def test_tiny_overlap_is_an_edge_mismatch_not_an_overlap() -> None:
    eps = 0.05 / 97  # 5 cm
    bump = cell(1, 0.5, 1 + eps, 0.51)  # 5 cm × 1.1 m ≈ 0.06 m² into the neighbour
    children = [cell(0, 0, 1, 1).union(bump), cell(1, 0, 2, 1)]
    report = validate_plan(small_plan(children=children))
    assert "overlap" not in rules(report)
    assert "edge_mismatch" in rules(report)


@pytest.mark.parametrize("method", ["geos", "pairwise"])
def test_vertex_that_looks_shared_but_is_not(method: str) -> None:
    # The right grid has a vertex 1 cm off the shared edge: invisible on a map, but the
    # edges no longer match and shared-edge editing would break there.
    off = 0.01 / 97_000
    x1, y0, y1 = round(LON0 + D, 7), LAT0, round(LAT0 + D, 7)
    right = Polygon([(x1, y0), (round(LON0 + 2 * D, 7), y0), (round(LON0 + 2 * D, 7), y1), (x1, y1),
                     (x1 + off, LAT0 + 0.5 * D), (x1, y0)])
    plan = small_plan(children=[cell(0, 0, 1, 1), right])
    report = validate_plan(plan, coverage_method=method)
    mismatches = [f for f in report.findings if f.rule == "edge_mismatch"]
    assert mismatches and all(f.severity == "error" for f in mismatches)
    assert P2 + "002" in {c for f in mismatches for c in f.codes}
    assert validate_plan(small_plan(), coverage_method=method).ok


def test_t_junction_is_an_edge_mismatch() -> None:
    # left grid lacks the vertex where the two right grids meet
    children = [cell(0, 0, 1, 1), cell(1, 0, 2, 0.5), cell(1, 0.5, 2, 1)]
    report = validate_plan(small_plan(children=children))
    assert "edge_mismatch" in rules(report)
    fixed = children.copy()
    fixed[0] = shapely.snap(children[0], children[1], 1e-9)
    assert validate_plan(small_plan(children=fixed)).ok


def test_gap_inside_parent() -> None:
    report = validate_plan(small_plan(children=[cell(0, 0, 1, 1)]))
    [gap] = [f for f in report.findings if f.rule == "gap"]
    assert gap.codes == (P2,) and gap.area_m2 == pytest.approx(10_749.3, rel=1e-3)
    assert gap.geometry.equals(cell(1, 0, 2, 1))


def test_child_outside_parent() -> None:
    children = [cell(0, 0, 1, 1), cell(1, 0, 2, 1), cell(2, 0, 3, 1)]
    report = validate_plan(small_plan(children=children))
    outside = [f for f in report.findings if f.rule == "child_outside"]
    assert [f.codes for f in outside] == [(P2 + "003", P2)]


def test_union_mismatch_when_each_difference_is_under_tolerance() -> None:
    # 0.7 m² of the parent is covered by no child and 0.7 m² of a child sticks out:
    # each under 1 m², together over it.
    side = 0.7 ** 0.5  # metres
    sx, sy = side / 97, side / 111  # in cells
    parent = cell(0, 0, 2, 1).difference(cell(1.5, 0, 1.5 + sx, sy)).union(cell(2, 0.5, 2 + sx, 0.5 + sy))
    plan = small_plan(parent=parent)
    report = validate_plan(plan)
    assert "union_mismatch" in rules(report)
    assert "gap" not in rules(report) and "child_outside" not in rules(report)


def test_no_children_warning() -> None:
    plan = rectangular_plan()
    leaf_parent = plan[plan.level == 2].iloc[0]["code"]
    plan = plan[plan["parent_code"] != leaf_parent]
    report = validate_plan(plan)
    assert [f.rule for f in report.warnings] == ["no_children"]
    assert report.warnings[0].severity == "warning"


def test_report_api() -> None:
    children = [cell(0, 0, 1.2, 1), cell(1, 0, 2, 1)]
    report = validate_plan(small_plan(children=children))
    assert not report.ok and report.errors and not report.warnings
    records = report.to_records()
    json.dumps(records)
    assert json.loads(report.to_json())["ok"] is False
    assert {r["rule"] for r in records} <= set(RULES)
    frame = report.to_geodataframe()
    assert frame.crs.to_epsg() == 4490 and len(frame) >= 1 and "area_m2" in frame
    assert report.for_codes([P2 + "002"])
    with pytest.raises(ValidationError, match="not a valid nested coverage") as info:
        report.raise_for_errors()
    assert info.value.findings == report.errors
    assert "error" in report.summary()


def test_133_and_10000_grid_plans_validate_clean() -> None:
    """Correctness at both sizes; how fast is measured by bench/validate_demo.py, not asserted here."""
    plan = rectangular_plan(splits=((7, 1), (3, 6)))  # 7 communities, 126 micro-grids
    assert len(plan) == 133
    assert validate_plan(plan).findings == []
    big = rectangular_plan(splits=((10, 10), (3, 3), (3, 3)), cell_deg=0.0005)
    assert len(big) == 100 + 900 + 8100
    assert validate_plan(big).ok


def test_real_municipalities_liechtenstein() -> None:
    path = TESTDATA / "li_liechtenstein_osm" / "liechtenstein-2013-08-03.osm.pbf"
    towns = gpd.read_file(path, layer="multipolygons", where="boundary='administrative' AND admin_level='8'")
    assert len(towns) == 11
    codes = towns["other_tags"].str.extract(r'"bfs:OBJECTVAL"=>"(\d+)"')[0]
    plan = make_plan(
        {"code": c, "level": 1, "parent_code": None, "name": n, "geometry": g}
        for c, n, g in zip(codes, towns["name"], towns.to_crs(4490).geometry)
    )
    report = validate_plan(plan, scheme=CodeScheme((4,)))
    # The municipalities form a clean coverage; seven of them have real exclaves.
    assert rules(report) == {"multipart"}
    multipart = {f.codes[0] for f in report.findings}
    assert {"7001", "7005", "7003"} <= multipart and len(multipart) == 7
    assert validate_plan(plan, scheme=CodeScheme((4,)), allow_multipart=True).ok
    # areas are measured in metres (UTM 32N here), not degrees: Liechtenstein is ~160 km²
    areas = np.array([f.area_m2 for f in report.findings])
    assert 10e6 < areas.sum() < 160.5e6


# --- measurement (gis.measure) --------------------------------------------------------------
def test_area_length_distance_in_metres_in_the_gk_zone() -> None:
    from pyproj import Geod

    from gis.measure import area_m2, distance_m, length_m, metric_epsgs

    square = cell(0, 0, 1, 1)
    assert metric_epsgs(np.array([square]))[0] == 4547  # 113.3°E → CM 114°E → EPSG:4547
    geod = Geod(ellps="GRS80")  # CGCS2000's ellipsoid is GRS80 to 0.1 mm
    area, perimeter = geod.geometry_area_perimeter(square)
    # a 3° GK zone distorts areas by at most ~1.4e-4 at its edge (here 0.7° from CM: 1.1e-4)
    assert area_m2([square])[0] == pytest.approx(abs(area), rel=2e-4)
    assert length_m([square])[0] == pytest.approx(perimeter, rel=1e-4)
    a, b = shapely.Point(LON0, LAT0), shapely.Point(LON0 + D, LAT0)
    assert distance_m([a], [b])[0] == pytest.approx(geod.inv(LON0, LAT0, LON0 + D, LAT0)[2], rel=1e-4)
    assert area_m2([None, Polygon()]).tolist() == [0.0, 0.0]


def test_measure_outside_china_uses_utm_and_respects_geoseries_crs() -> None:
    from pyproj import Geod

    from gis.measure import area_m2, metric_epsgs

    vaduz = box(9.5, 47.1, 9.52, 47.12)
    assert metric_epsgs(np.array([vaduz]))[0] == 32632
    expected = abs(Geod(ellps="WGS84").geometry_area_perimeter(vaduz)[0])
    assert area_m2(gpd.GeoSeries([vaduz], crs=4326))[0] == pytest.approx(expected, rel=1e-3)
    projected = gpd.GeoSeries([box(0, 0, 100, 50)], crs=32632)
    assert area_m2(projected)[0] == pytest.approx(5000)
    with pytest.raises(CRSError, match="no CRS"):
        area_m2(gpd.GeoSeries([vaduz]))
