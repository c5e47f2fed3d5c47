"""Real files published by others (tests/data/real, see PROVENANCE.md there): imported end to end and checked
against an independent computation.

* Liechtenstein (OSM, EPSG:4326): the 11 coded municipalities become grids (code scheme of
  one 4-digit level, ``bfs:OBJECTVAL`` 7001..7011) and the 3,723 buildings' representative
  points become households; every stored ``grid_code`` is compared with plain
  ``shapely.covers`` of the original OSM polygons, building by building.
* Every broken shapefile-js fixture through ``gridgov import grids``: exit 1 or 2, one line
  on stderr, never a traceback.
"""

from __future__ import annotations

from testdb import use_database

import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text

from boundaries.coding import CodeScheme
from store.bulk import load_grids, load_households
from etl.readers import read_grids, read_households
from gis.progress import ProgressRecorder

pytestmark = pytest.mark.db

TESTDATA = Path(__file__).resolve().parents[1] / "data" / "real"
LIECHTENSTEIN = TESTDATA / "li_liechtenstein_osm" / "liechtenstein-2013-08-03.osm.pbf"
SHAPEFILE_JS = TESTDATA / "bad_shapefilejs_fixtures"


@pytest.fixture()
def engine(empty_database_url: str) -> Iterator[Engine]:
    from store.engine import make_engine

    eng = make_engine(empty_database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def osm() -> gpd.GeoDataFrame:
    from gis.io import read_vector

    return read_vector(LIECHTENSTEIN, layer="multipolygons")


def test_liechtenstein_assignment_matches_shapely_building_by_building(engine, osm, tmp_path):
    towns = osm[(osm["admin_level"] == "8") & (osm["boundary"] == "administrative")]
    codes = towns["other_tags"].str.extract(r'"bfs:OBJECTVAL"=>"(\d+)"')[0].to_numpy(dtype=object)
    assert len(towns) == 11 and sorted(codes) == [str(c) for c in range(7001, 7012)]
    grids_path = tmp_path / "li.gpkg"
    towns.assign(code=codes)[["code", "name", "geometry"]].to_file(grids_path, driver="GPKG")
    scheme = CodeScheme((4,))
    grids, problems = read_grids(grids_path, scheme=scheme, region=None, fix=True)
    grid_report = load_grids(engine, grids, problems=problems, scheme=scheme,
                             validate_options={"allow_multipart": True})
    assert grid_report.inserted == 11
    assert grid_report.fixed == len({p.row for p in problems if p.rule == "made_valid"})

    buildings = osm[osm["building"].notna()]
    keys = buildings["osm_way_id"].fillna(buildings["osm_id"]).to_numpy(dtype=object)
    points = buildings.geometry.representative_point().to_numpy()
    assert len(buildings) == 3723 and len(set(keys)) == 3723
    hh_path = tmp_path / "buildings.gpkg"
    gpd.GeoDataFrame({"household_id": keys}, geometry=points, crs=buildings.crs).to_file(hh_path, driver="GPKG")
    households, problems = read_households(hh_path, region=None)
    progress = ProgressRecorder()
    report = load_households(engine, households, problems=problems, progress=progress)
    assert (report.inserted, report.assigned, report.unassigned) == (3723, 3719, 4)  # README: 4 outside
    assert progress.last("read") == (3723, 3723) and progress.last("write") == (1, 1)  # chunked import
    assert report.seconds is not None and report.seconds > 0

    # Independent answer: the OSM polygons as published (EPSG:4326 = EPSG:4490 to the mm
    # here), every (municipality, building) pair at once, the smallest code on a tie.
    covers = shapely.covers(towns.geometry.to_numpy()[:, np.newaxis], points[np.newaxis, :])  # (11, 3723)
    assert covers.sum(axis=0).max() == 1, "a building lies on a municipal boundary; pick another tie rule"
    order = np.argsort(codes)
    first = np.argmax(covers[order], axis=0)
    expected_codes = np.where(covers.any(axis=0), codes[order][first], None)
    expected = dict(zip(keys, expected_codes))
    assert sum(v is None for v in expected.values()) == 4

    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT household_key, grid_code FROM households")).all())
    assert stored.keys() == expected.keys()
    mismatches = {k: (stored[k], expected[k]) for k in expected if stored[k] != expected[k]}
    assert mismatches == {}


@pytest.fixture(scope="module")
def cli_database(throwaway_databases) -> Iterator[str]:
    """A migrated empty database as DATABASE_URL for this module's CLI runs."""
    from gis.settings import get_settings

    url = throwaway_databases.create()
    with pytest.MonkeyPatch.context() as patch:
        use_database(patch, url)
        get_settings.cache_clear()
        yield url
    get_settings.cache_clear()


FIXTURES = sorted(p.name for p in SHAPEFILE_JS.glob("*.shp"))


def test_every_shapefile_js_fixture_is_covered():
    assert {"bad.shp", "counties.shp", "senate.shp", "LGA_2013_AUST.shp", "htmlcpg.shp", "htmlprj.shp",
            "no-dbf.shp"} <= set(FIXTURES)


@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["plain", "json"])
@pytest.mark.parametrize("fixture", FIXTURES)
def test_broken_shapefile_js_fixture_gives_one_line_error(cli_database, fixture, extra, capsys):
    from tests.db._cli import main

    code = main(["import", "grids", str(SHAPEFILE_JS / fixture), *extra])
    captured = capsys.readouterr()
    assert code in (1, 2)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert fixture in lines[0]  # names the file
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize(
    ("fixture", "options", "expected"),
    [
        ("counties.shp", ["--crs", "EPSG:4326", "--code-field", "COUNTY"], "invalid_geometry"),
        ("senate.shp", ["--code-field", "SENDISTNUM"], "invalid_geometry"),
        ("LGA_2013_AUST.shp", ["--code-field", "LGA_CODE13"], "missing_geometry"),
    ],
)
def test_broken_fixture_read_further_is_refused_without_traceback(
    cli_database, fixture, options, expected, capsys, tmp_path
):
    """With the missing CRS / code column supplied, the row-level rules refuse the file
    (``--json``: the problem table is not drawn, only the one error line; ``--report``
    lists every problem, including the fixture's known defect)."""
    from tests.db._cli import main

    report = tmp_path / "problems.json"
    code = main(["import", "grids", str(SHAPEFILE_JS / fixture), *options, "--json", "--report", str(report)])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    rules = {p["rule"] for p in json.loads(report.read_text(encoding="utf-8"))}
    assert expected in rules, rules
    from sqlalchemy import create_engine

    engine = create_engine(cli_database)
    try:
        with engine.connect() as conn:  # nothing loaded: the database is still empty
            assert conn.execute(text("SELECT count(*) FROM grids")).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM changesets")).scalar_one() == 0
    finally:
        engine.dispose()
