"""Impact of a proposed plan: who changes grid, staff to move, workload balance."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box

from boundaries.edits import split_grid, transfer_area
from boundaries.assign import assign_to_leaves
from boundaries.impact import assess_impact, balance_stats
from boundaries.model import make_plan, rectangular_plan
from gis.errors import CRSError, ValidationError
from gis.join import assign_points

TESTDATA = Path(__file__).resolve().parents[1] / "data" / "real"
L2 = "420102001001001"
A, B = L2 + "001", L2 + "002"
E = "420102001001002001"


def households(points: list[tuple[float, float]], members: list[int], special: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"household_key": [f"h{i}" for i in range(len(points))], "members": members, "special": special},
        geometry=[shapely.Point(p) for p in points],
        crs=4490,
    )


def test_assign_points_covered_by_with_smallest_code_on_ties() -> None:
    polys = [box(1, 0, 2, 1), box(0, 0, 1, 1)]
    keys = ["b", "a"]
    pts = [shapely.Point(0.5, 0.5), shapely.Point(1, 0.5), shapely.Point(1.5, 0.5), shapely.Point(5, 5), None]
    out = assign_points(np.array(pts, dtype=object), np.array(polys, dtype=object), keys=keys)
    assert list(out) == ["a", "a", "b", None, None]  # (1, 0.5) is on the shared edge: smallest key
    with pytest.raises(CRSError, match="reproject"):
        assign_points(gpd.GeoSeries(pts[:1], crs=4490), gpd.GeoSeries(polys, crs=4326), keys=keys)
    with pytest.raises(ValueError, match="keys"):
        assign_points(pts[:1], polys, keys=["a"])


def test_transfer_moves_households_and_reports_flows() -> None:
    plan = rectangular_plan()
    area = box(113.3016, 29.5002, 113.3025, 29.5006)
    result = transfer_area(plan, B, E, area)
    hh = households(
        [(113.3018, 29.5004), (113.3019, 29.5003), (113.3012, 29.5008), (113.3005, 29.5005), (113.31, 29.51)],
        [3, 2, 4, 1, 2],
        [["empty_nest"], [], None, True, False],
    )
    report = assess_impact(plan, result.plan, households=hh)
    assert list(report.households["household_key"]) == ["h0", "h1"]
    assert set(report.households["from_code"]) == {B} and set(report.households["to_code"]) == {E}
    assert report.flows.to_dict(orient="records") == [
        {"from_code": B, "to_code": E, "households": 2, "residents": 5, "special_households": 1}
    ]
    assert report.counts["households"] == 5 and report.counts["households_moved"] == 2
    assert report.counts["residents_moved"] == 5 and report.counts["special_households_moved"] == 1
    assert report.counts["unassigned_before"] == report.counts["unassigned_after"] == 1
    # workload per micro-grid, zeros included
    assert len(report.workload_before) == 32
    assert report.workload_before.loc[B, "households"] == 3 and report.workload_after.loc[B, "households"] == 1
    assert report.workload_after.loc[E, "residents"] == 5
    assert report.workload_before["households"].sum() == report.workload_after["households"].sum() == 4
    assert report.balance.loc["households", ("before", "max")] == 3
    assert report.balance.loc["households", ("after", "max")] == 2
    assert report.to_records()["counts"]["households_moved"] == 2


def test_incidents_and_staff_after_a_split() -> None:
    plan = rectangular_plan()
    result = split_grid(plan, A, LineString([(113.3005, 29.4995), (113.3005, 29.5015)]))
    incidents = gpd.GeoDataFrame({"incident_key": ["i1", "i2"]},
                                 geometry=[shapely.Point(113.3002, 29.5005), shapely.Point(113.3015, 29.5005)],
                                 crs=4490)
    staff = pd.DataFrame({"staff_key": ["s1", "s2", "s3"], "role": ["micro_worker"] * 3, "grid_code": [A, B, E]})
    report = assess_impact(plan, result.plan, incidents=incidents, staff_assignments=staff, lineage=result.lineage)
    [expected_to] = assign_to_leaves(incidents.iloc[:1], result.plan)
    assert expected_to in result.added
    assert report.incidents.to_dict(orient="records") == [{"incident_key": "i1", "from_code": A, "to_code": expected_to}]
    staff_rows = report.staff.set_index("staff_key")
    assert staff_rows.loc["s1", "status"] == "retired"
    assert staff_rows.loc["s1", "successors"] == sorted(result.added)
    # B only gained a vertex where the split line meets it: same shape, nobody to move
    assert "s2" not in staff_rows.index and "s3" not in staff_rows.index
    assert report.counts["staff_assignments_affected"] == 1
    moved = transfer_area(plan, B, E, box(113.3016, 29.5002, 113.3025, 29.5006))
    report = assess_impact(plan, moved.plan, staff_assignments=staff, lineage=moved.lineage)
    assert report.staff.set_index("staff_key")["status"].to_dict() == {"s2": "reshaped", "s3": "reshaped"}


def test_bad_inputs() -> None:
    plan = rectangular_plan()
    hh = households([(113.3005, 29.5005)], [1], [False])
    with pytest.raises(CRSError, match="no CRS"):
        assess_impact(plan, plan, households=gpd.GeoDataFrame(hh.drop(columns="geometry"), geometry=list(hh.geometry)))
    with pytest.raises(CRSError, match="EPSG:4490"):
        assess_impact(plan, plan, households=hh.set_crs(4326, allow_override=True))
    with pytest.raises(ValidationError, match="members"):
        assess_impact(plan, plan, households=hh.drop(columns="members"))


def test_balance_stats() -> None:
    load = pd.DataFrame({"households": [2, 4, 6], "special_households": [0, 0, 0], "residents": [5, 5, 5]})
    stats = balance_stats(load)
    assert stats.loc["households", "mean"] == 4 and stats.loc["households", "min"] == 2
    assert stats.loc["households", "cv"] == pytest.approx(np.std([2, 4, 6]) / 4)
    assert np.isnan(stats.loc["special_households", "cv"])
    assert stats.loc["residents", "cv"] == 0


def test_real_buildings_in_liechtenstein() -> None:
    path = TESTDATA / "li_liechtenstein_osm" / "liechtenstein-2013-08-03.osm.pbf"
    towns = gpd.read_file(path, layer="multipolygons", where="boundary='administrative' AND admin_level='8'")
    codes = towns["other_tags"].str.extract(r'"bfs:OBJECTVAL"=>"(\d+)"')[0]
    plan = make_plan(
        {"code": c, "level": 1, "parent_code": None, "name": n, "geometry": g}
        for c, n, g in zip(codes, towns["name"], towns.to_crs(4490).geometry)
    )
    buildings = gpd.read_file(path, layer="multipolygons", where="building IS NOT NULL", columns=["osm_way_id"])
    assert len(buildings) == 3723
    points = buildings.to_crs(4490).representative_point()
    hh = gpd.GeoDataFrame({"household_key": buildings["osm_way_id"].astype(str), "members": 1, "special": False},
                          geometry=points, crs=4490)
    codes_now = assign_to_leaves(hh, plan)
    assert pd.isna(pd.Series(codes_now, dtype=object)).sum() == 4  # README: 4 fall in no municipality
    report = assess_impact(plan, plan, households=hh)
    assert report.counts["households_moved"] == 0 and report.workload_before["households"].sum() == 3719
