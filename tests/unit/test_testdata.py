"""read_vector / read_grids / read_households on real-world files in tests/data/real (see PROVENANCE.md there)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from boundaries.coding import CodeScheme
from etl.readers import read_grids, read_households
from gis.crs import to_storage_crs
from gis.errors import DataSourceError
from gis.io import read_vector

TESTDATA = Path(__file__).resolve().parents[1] / "data" / "real"
OSM = TESTDATA / "li_liechtenstein_osm" / "liechtenstein-2013-08-03.osm.pbf"
FIXTURES = TESTDATA / "bad_shapefilejs_fixtures"


@pytest.fixture(scope="module")
def osm_multipolygons() -> gpd.GeoDataFrame:
    return read_vector(OSM, layer="multipolygons")


def test_testdata_is_present():
    assert OSM.exists(), f"vendored test data missing at {TESTDATA}"


def test_osm_needs_a_layer():
    with pytest.raises(DataSourceError, match=r"5 layers .*multipolygons.*--layer"):
        read_vector(OSM)


def test_liechtenstein_municipalities_as_grids(osm_multipolygons, tmp_path):
    frame = osm_multipolygons
    municipalities = frame[(frame["admin_level"] == "8") & (frame["boundary"] == "administrative")]
    assert len(municipalities) == 11
    codes = municipalities["other_tags"].str.extract(r'"bfs:OBJECTVAL"=>"(\d+)"')[0]
    assert sorted(codes) == [str(c) for c in range(7001, 7012)]
    path = tmp_path / "li.gpkg"
    municipalities.assign(code=codes.to_numpy())[["code", "name", "geometry"]].to_file(path, driver="GPKG")
    grids, problems = read_grids(path, scheme=CodeScheme((4,)), region=None, fix=True)
    errors = [p for p in problems if p.severity == "error"]
    assert errors == []
    assert len(grids) == 11
    assert sorted(grids["code"]) == [str(c) for c in range(7001, 7012)]
    assert set(grids["level"]) == {1}
    assert grids.crs.to_epsg() == 4490
    assert (grids.geom_type == "MultiPolygon").all()
    assert "Vaduz" in set(grids["name"])


def test_liechtenstein_buildings_as_households(osm_multipolygons, tmp_path):
    frame = osm_multipolygons
    buildings = frame[frame["building"].notna()]
    assert len(buildings) == 3723
    points = buildings.assign(geometry=buildings.geometry.representative_point())
    points = points.assign(household_id=points["osm_way_id"].fillna(points["osm_id"]))
    path = tmp_path / "buildings.gpkg"
    points[["household_id", "geometry"]].to_file(path, driver="GPKG")
    households, problems = read_households(path, region=(9.4, 47.0, 9.7, 47.3))
    assert [p for p in problems if p.severity == "error"] == []
    assert len(households) == 3723
    assert households["household_key"].is_unique
    # the same file, checked against China, is rejected row by row
    _, problems = read_households(path)
    assert {p.rule for p in problems} == {"outside_region"}
    assert len(problems) == 3723


def test_shift_jis_shapefile_without_cpg_is_detected():
    frame = read_vector(TESTDATA / "bad_jp_shiftjis_shapefile" / "japanese.shp", crs=4326)
    assert frame.attrs["encoding"] == "shift_jis"
    assert frame["N03_001"].tolist() == ["千葉県", "千葉県"]
    assert frame["N03_004"].iloc[0] == "大網白里町"


def test_shift_jis_shapefile_without_prj_asks_for_crs():
    with pytest.raises(DataSourceError, match=r"japanese.shp: has no CRS.*--crs"):
        read_vector(TESTDATA / "bad_jp_shiftjis_shapefile" / "japanese.shp")


def test_shift_jis_geojson():
    frame = read_vector(TESTDATA / "bad_jp_shiftjis_geojson" / "shift-jis.geojson")
    assert frame.attrs["encoding"] == "shift_jis"
    assert frame["N03_001"].iloc[0] == "千葉県"
    with pytest.raises(DataSourceError, match="--encoding"):
        read_vector(TESTDATA / "bad_jp_shiftjis_geojson" / "shift-jis.geojson", encoding="utf-8")


def test_sad69_points_land_on_their_longitude_latitude_columns():
    frame = read_vector(TESTDATA / "bad_axis_sad69_points" / "sp_usinas.shp")
    assert frame.crs.to_epsg() == 4618  # authority axis order lat/lon
    stored = to_storage_crs(frame)
    assert stored.crs.to_epsg() == 4490
    dx = np.abs(stored.geometry.x.to_numpy() - frame["LONGITUDE"].to_numpy())
    dy = np.abs(stored.geometry.y.to_numpy() - frame["LATITUDE"].to_numpy())
    # x is the longitude (no axis swap) and the SAD69 → CGCS2000 datum shift is ~50 m
    assert np.median(dx) < 1e-3 and np.median(dy) < 1e-3
    assert np.median(dx) > 1e-4  # a real datum shift was applied, not a ballpark no-op
    within = (dx < 1e-3) & (dy < 1e-3)
    assert within.sum() == 186
    # the one exception is a data error in the file: its columns disagree with its own point
    odd = frame[~within]
    assert odd["NOME"].tolist() == ["ITUPARARANGA"]
    assert abs(odd.geometry.x.iloc[0] - odd["LONGITUDE"].iloc[0]) > 0.05


def test_fixture_counties_without_prj_asks_for_crs():
    with pytest.raises(DataSourceError, match=r"counties.shp: has no CRS.*--crs"):
        read_vector(FIXTURES / "counties.shp")


def test_fixture_counties_invalid_polygons_reported_per_row():
    grids, problems = read_grids(
        FIXTURES / "counties.shp", crs="EPSG:26986", code_field="COUNTY", name_field="COUNTY",
        scheme=CodeScheme((4,)), region=None,
    )
    invalid = [p for p in problems if p.rule == "invalid_geometry"]
    assert len(invalid) == 9
    assert all(p.lon is not None and p.key for p in invalid)
    assert all("--fix" in p.message for p in invalid)


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("htmlcpg.shp", r"htmlcpg.shp: missing htmlcpg.shx.*htmlcpg.cpg is an HTML page"),
        ("htmlprj.shp", r"htmlprj.shp: missing htmlprj.shx.*htmlprj.prj is an HTML page"),
        ("no-dbf.shp", r"no-dbf.shp: missing no-dbf.shx .*missing no-dbf.dbf"),
        ("bad.shp", r"bad.shp: bad.shp is not a shapefile"),
    ],
)
def test_broken_fixtures_give_one_line_errors(name, pattern):
    with pytest.raises(DataSourceError, match=pattern) as info:
        read_vector(FIXTURES / name)
    message = str(info.value)
    assert "\n" not in message
    assert "Traceback" not in message
    assert info.value.__cause__ is None or not isinstance(info.value.__cause__, RuntimeError)


def test_html_prj_with_shx_present_is_named(tmp_path):
    # the .prj check alone, without the missing .shx: copy senate.* and replace its .prj
    for ext in ("shp", "shx", "dbf"):
        (tmp_path / f"senate.{ext}").write_bytes((FIXTURES / f"senate.{ext}").read_bytes())
    (tmp_path / "senate.prj").write_bytes((FIXTURES / "htmlprj.prj").read_bytes())
    with pytest.raises(DataSourceError, match=r"^senate.shp: senate.prj is an HTML page.*--crs$"):
        read_vector(tmp_path / "senate.shp")
    frame = read_vector(tmp_path / "senate.shp", crs="EPSG:26986")
    assert len(frame) == 40


def test_lga_null_geometries_reported_per_row():
    frame = read_vector(FIXTURES / "LGA_2013_AUST.shp")
    assert frame.geometry.isna().sum() == 12
    grids, problems = read_grids(
        FIXTURES / "LGA_2013_AUST.shp", code_field="LGA_CODE13", name_field="LGA_NAME13",
        scheme=CodeScheme((5,)), region=None, fix=True,
    )
    missing = [p for p in problems if p.rule == "missing_geometry"]
    assert len(missing) == 12
    assert all(re.fullmatch(r"\d{5}", p.key) for p in missing)
    assert len(grids) == 1


def test_senate_projected_file_to_storage():
    frame = read_vector(FIXTURES / "senate.shp")
    stored = to_storage_crs(frame)
    minx, miny, maxx, maxy = stored.total_bounds
    assert -74 < minx < maxx < -69 and 41 < miny < maxy < 43  # Massachusetts
