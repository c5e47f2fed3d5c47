"""An import and ``gridgov validate`` run the same findings (issue #14, point 1).

One function decides, :func:`boundaries.validation.validate_plan`: the import validates the plan
it would leave (the stored plan merged with the file) and refuses every error that adds, also
an error that names only a parent (a gap); ``gridgov validate`` runs it on a file or the stored
plan. Each test feeds the same plan to both and compares the findings (rule and grid codes).
"""

from __future__ import annotations

from testdb import database_env

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from boundaries.validation import new_errors, validate_plan
from tests.db._cli import run, table_checksums

pytestmark = pytest.mark.db

L1 = "430104001001"
L2 = L1 + "001"
MICRO = [L2 + f"{i:03d}" for i in (1, 2, 3, 4)]
COMMUNITY = shapely.box(112.90, 28.20, 112.92, 28.22)
QUADRANTS = [shapely.box(112.90, 28.20, 112.91, 28.21), shapely.box(112.91, 28.20, 112.92, 28.21),
             shapely.box(112.90, 28.21, 112.91, 28.22), shapely.box(112.91, 28.21, 112.92, 28.22)]


def _plan(micro: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [L1, L2, *MICRO], "level": [1, 2, 3, 3, 3, 3], "parent_code": [None, L1, *[L2] * 4],
         "name": ["社区", "网格", "甲", "乙", "丙", "丁"]},
        geometry=[COMMUNITY, COMMUNITY, *micro], crs=4490)


def _shrunk(geom: shapely.Geometry, metres: float) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=4490).to_crs(4547).buffer(-metres, join_style="mitre").to_crs(4490).iloc[0]


BROKEN = _plan([_shrunk(QUADRANTS[0], 30), QUADRANTS[1].difference(shapely.box(112.914, 28.204, 112.916, 28.206)),
                *QUADRANTS[2:]])


def _findings(records: list[dict]) -> set[tuple[str, tuple[str, ...]]]:
    return {(r["rule"], tuple(r["codes"])) for r in records if r["severity"] == "error"}


def _import_findings(path: Path) -> set[tuple[str, tuple[str, ...]]]:
    """The coverage findings an import refused with (from its --report file)."""
    records = json.loads(path.read_text(encoding="utf-8"))
    return {(r["rule"], tuple(str(r["id"]).split(","))) for r in records if r["severity"] == "error"}


def test_the_same_file_gives_the_same_findings(empty_database_url, tmp_path) -> None:
    plan_file = tmp_path / "broken.geojson"
    BROKEN.to_file(plan_file)
    expected = _findings(validate_plan(BROKEN).to_records())
    assert ("gap", (L2,)) in expected  # the gaps name only their parent: the shrunk micro-grid and the hole

    code, out, _ = run(["validate", str(plan_file), "--json"], env=database_env(empty_database_url))
    assert code == 1
    assert _findings(json.loads(out)["findings"]) == expected

    before = table_checksums(empty_database_url)
    report = tmp_path / "report.json"
    code, _, err = run(["import", "grids", str(plan_file), "--report", str(report)],
                       env=database_env(empty_database_url))
    assert code == 1 and "gap" in err
    assert _import_findings(report) == expected
    assert table_checksums(empty_database_url) == before


def test_a_file_changing_one_micro_grid_is_validated_on_the_whole_plan(empty_database_url, tmp_path) -> None:
    env = database_env(empty_database_url)
    valid = tmp_path / "valid.geojson"
    _plan(QUADRANTS).to_file(valid)
    assert run(["import", "grids", str(valid)], env=env)[0] == 0
    households = tmp_path / "hh.csv"
    households.write_text("户号,地址,经度,纬度\nH1,在缝里,112.9001,28.2001\n", encoding="utf-8")
    assert run(["import", "households", str(households), "--crs", "4490"], env=env)[0] == 0

    # only the shrunk micro-grid: its gap names the parent, which is not in the file
    one = tmp_path / "one.geojson"
    BROKEN.iloc[[2]].to_file(one)
    merged = pd.concat([_plan(QUADRANTS).iloc[[0, 1, 3, 4, 5]], BROKEN.iloc[[2]]]).sort_values("code")
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=4490)
    stored = validate_plan(_plan(QUADRANTS))
    expected = {(f.rule, f.codes) for f in new_errors(validate_plan(merged), stored)}
    assert expected == {("gap", (L2,))}
    assert {(f.rule, f.codes) for f in validate_plan(merged).errors} == expected  # the stored plan was valid

    before = table_checksums(empty_database_url)
    report = tmp_path / "report.json"
    code, _, err = run(["import", "grids", str(one), "--report", str(report)], env=env)
    assert code == 1
    assert f"row 0: gap {L2}" in err and MICRO[0] in err  # the row of the file, the parent and the child named
    assert _import_findings(report) == expected
    assert table_checksums(empty_database_url) == before  # the household in the gap is still in its grid

    # `gridgov validate FILE` on the merged plan says the same
    merged_file = tmp_path / "merged.geojson"
    merged.to_file(merged_file)
    code, out, _ = run(["validate", str(merged_file), "--json"], env=env)
    assert code == 1 and _findings(json.loads(out)["findings"]) == expected


def test_an_error_the_stored_plan_already_has_does_not_block_an_unrelated_import(empty_database_url, tmp_path) -> None:
    """A multipart grid imported with --allow-multipart is the stored plan's, not a later import's doing."""
    env = database_env(empty_database_url)
    island = shapely.box(112.9045, 28.2145, 112.9055, 28.2155)
    exclave = _plan([shapely.MultiPolygon([QUADRANTS[0], island]), QUADRANTS[1], QUADRANTS[2].difference(island),
                     QUADRANTS[3]])
    path = tmp_path / "exclave.geojson"
    exclave.to_file(path)
    assert run(["import", "grids", str(path)], env=env)[0] == 1  # multipart without the flag
    assert run(["import", "grids", str(path), "--allow-multipart"], env=env)[0] == 0
    renamed = exclave.iloc[[5]].assign(name="丁改")
    one = tmp_path / "rename.geojson"
    renamed.to_file(one)
    code, out, err = run(["import", "grids", str(one), "--json"], env=env)
    assert code == 0, err
    assert json.loads(out)["updated"] == 1
