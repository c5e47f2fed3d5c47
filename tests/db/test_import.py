"""Import into PostGIS: staging + upsert in one transaction, all-or-nothing, idempotent."""

from __future__ import annotations

import hashlib

from testdb import use_database

import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine, text

from boundaries.coding import CodeScheme
from store.bulk import load_grids, load_households, load_incidents, load_staff
from etl.readers import read_grids, read_households, read_incidents, read_staff
from gis.errors import ValidationError

pytestmark = pytest.mark.db

SCHEME = CodeScheme((12, 3, 3))
L1 = "430104001001"


@pytest.fixture()
def engine(empty_database_url: str) -> Iterator[Engine]:
    from store.engine import make_engine

    eng = make_engine(empty_database_url)
    yield eng
    eng.dispose()


def _plan_file(tmp_path: Path, *, name: str = "plan.gpkg", shift_name: str = "") -> Path:
    community = shapely.box(112.90, 28.20, 112.92, 28.22)
    west, east = shapely.box(112.90, 28.20, 112.91, 28.22), shapely.box(112.91, 28.20, 112.92, 28.22)
    frame = gpd.GeoDataFrame(
        {"网格编码": [L1, L1 + "001", L1 + "001001", L1 + "001002"],
         "网格名称": ["桃子湖社区" + shift_name, "第一网格", "微网格一", "微网格二"]},
        geometry=[community, community, west, east], crs=4490,
    )
    path = tmp_path / name
    frame.to_file(path, driver="GPKG")
    return path


def _households_file(tmp_path: Path) -> Path:
    path = tmp_path / "hh.csv"
    path.write_text(
        "户号,地址,经度,纬度,人口,特殊人群\n"
        "0001,一号,112.905,28.21,3,空巢\n"
        "0002,二号,112.915,28.21,2,\n"
        "0003,边界上,112.91,28.21,1,残疾、低保\n"
        "0004,区外,112.95,28.21,1,\n",
        encoding="utf-8",
    )
    return path


def test_grid_import_is_idempotent_and_versions_changes(engine, tmp_path):
    grids, problems = read_grids(_plan_file(tmp_path), scheme=SCHEME)
    assert problems == []
    report = load_grids(engine, grids, problems=problems, author="tester", source="plan.gpkg")
    assert (report.inserted, report.updated, report.unchanged) == (4, 0, 0)
    assert report.changeset_id is not None
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, level, parent_code, version, ST_SRID(geom) FROM grids ORDER BY code")).all()
        assert [r[0] for r in rows] == [L1, L1 + "001", L1 + "001001", L1 + "001002"]
        assert [r[2] for r in rows] == [None, L1, L1 + "001", L1 + "001"]
        assert {r[4] for r in rows} == {4490}
        assert conn.execute(text("SELECT count(*) FROM grid_codes")).scalar() == 4
        assert conn.execute(text("SELECT count(*) FROM grid_versions WHERE valid_to IS NULL")).scalar() == 4

    again = load_grids(engine, grids, author="tester")
    assert (again.inserted, again.updated, again.unchanged, again.changeset_id) == (0, 0, 4, None)

    renamed, _ = read_grids(_plan_file(tmp_path, name="v2.gpkg", shift_name="（新）"), scheme=SCHEME)
    changed = load_grids(engine, renamed, author="tester")
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 3)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version, name FROM grids WHERE code = :c"), {"c": L1}).one() == (
            2, "桃子湖社区（新）")
        versions = conn.execute(text(
            "SELECT version, valid_to IS NULL FROM grid_versions WHERE code = :c ORDER BY version"), {"c": L1}).all()
        assert versions == [(1, False), (2, True)]


def test_grid_import_refuses_errors_and_unknown_parents(engine, tmp_path):
    grids, _ = read_grids(_plan_file(tmp_path), scheme=SCHEME)
    orphans = grids[grids["level"] == 3]
    with pytest.raises(ValidationError, match="unknown_parent|neither in the file") as info:
        load_grids(engine, orphans)
    assert {f.rule for f in info.value.findings} == {"unknown_parent"}
    with engine.connect() as conn:  # all or nothing
        assert conn.execute(text("SELECT count(*) FROM grids")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM changesets")).scalar() == 0
    from gis.problems import RowProblem

    bad = [RowProblem(0, L1, "invalid_geometry", "bowtie")]
    with pytest.raises(ValidationError, match="--skip-invalid"):
        load_grids(engine, grids, problems=bad)
    report = load_grids(engine, grids, problems=bad, skip_invalid=True)
    assert report.rejected == 1 and report.inserted == 4


def test_households_incidents_staff_load_and_assign(engine, tmp_path):
    grids, _ = read_grids(_plan_file(tmp_path), scheme=SCHEME)
    load_grids(engine, grids)
    households, problems = read_households(_households_file(tmp_path), crs=4326)
    report = load_households(engine, households, problems=problems)
    assert (report.inserted, report.assigned, report.unassigned) == (4, 3, 1)
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT household_key, grid_code FROM households")).all())
        kinds = conn.execute(text("SELECT special_kinds FROM households WHERE household_key = '0003'")).scalar()
    # the boundary point goes to the smaller code, deterministically
    assert got == {"0001": L1 + "001001", "0002": L1 + "001002", "0003": L1 + "001001", "0004": None}
    assert sorted(kinds) == ["disabled", "hardship"]
    again = load_households(engine, households)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)

    path = tmp_path / "inc.csv"
    path.write_text("事件编号,上报时间,类别,lng,lat\nE1,2026-03-01 09:30,环境卫生,112.905,28.21\n"
                    ",2026-03-02 10:00,治安,112.915,28.21\n", encoding="utf-8")
    incidents, problems = read_incidents(path, crs=4326)
    report = load_incidents(engine, incidents, problems=problems)
    assert (report.inserted, report.assigned) == (2, 2)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT incident_key, grid_code, grid_code_at_report, status FROM incidents ORDER BY reported_at")).all()
    assert rows == [("E1", L1 + "001001", L1 + "001001", "reported"), (None, L1 + "001002", L1 + "001002", "reported")]

    from pii_scan import register_unmasked

    staff_path = register_unmasked(tmp_path / "staff.csv")  # a staff phone: public, not a resident's
    staff_path.write_text(f"工号,姓名,电话,角色,网格编码\n001,张三,13812345678,网格员,{L1}001001\n", encoding="utf-8")
    staff, problems = read_staff(staff_path, scheme=SCHEME)
    report = load_staff(engine, staff, problems=problems)
    assert report.inserted == 1 and report.assignments["inserted"] == 1 and report.changeset_id is not None
    again = load_staff(engine, staff, problems=problems)  # no start date: the open assignment is the same one
    assert (again.inserted, again.updated, again.unchanged, again.changeset_id) == (0, 0, 1, None)
    assert again.assignments == {"inserted": 0, "updated": 0, "unchanged": 1, "deleted": 0}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff_assignments WHERE role = 'micro_worker'")).scalar() == 1


def test_staff_with_unknown_grid_is_refused(engine, tmp_path):
    staff_path = tmp_path / "staff.csv"
    staff_path.write_text(f"工号,姓名,角色,网格编码\n001,张三,网格员,{L1}009009\n", encoding="utf-8")
    staff, problems = read_staff(staff_path, scheme=SCHEME)
    with pytest.raises(ValidationError, match="does not exist"):
        load_staff(engine, staff, problems=problems)


# The Liechtenstein real-data test moved to tests/db/test_real_data.py (checked building by building).


def test_cli_import_export_assign(empty_database_url, tmp_path, monkeypatch, capsys):
    from tests.db._cli import main
    from gis.settings import get_settings

    use_database(monkeypatch, empty_database_url)
    get_settings.cache_clear()
    try:
        plan = _plan_file(tmp_path)
        assert main(["import", "grids", str(plan), "--dry-run"]) == 0
        assert main(["import", "grids", str(plan)]) == 0
        assert "4 inserted" in capsys.readouterr().out

        bad = tmp_path / "bad.csv"
        bad.write_text("户号,经度,纬度\n1,28.21,112.905\n2,112.905,28.21\n", encoding="utf-8")
        report = tmp_path / "problems.csv"
        assert main(["import", "households", str(bad), "--crs", "4326", "--report", str(report)]) == 1
        err = capsys.readouterr().err
        assert "swapped_lon_lat" in err and "--skip-invalid" in err and "Traceback" not in err
        assert pd.read_csv(report, encoding="utf-8-sig")["rule"].tolist() == ["swapped_lon_lat"]
        assert main(["import", "households", str(bad), "--crs", "4326", "--skip-invalid", "--json"]) == 0
        assert '"inserted": 1' in capsys.readouterr().out

        assert main(["import", "households", str(tmp_path / "missing.csv"), "--crs", "4326"]) == 1
        assert "file not found" in capsys.readouterr().err

        assert main(["assign", "--dry-run", "--json"]) == 0
        assert '"assigned": 1' in capsys.readouterr().out
        assert main(["assign", "--json"]) == 0
        assert '"assigned": 1' in capsys.readouterr().out

        out = tmp_path / "grids.geojson"
        assert main(["export", "grids", "--out", str(out), "--level", "3", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == {"what": "grids", "rows": 2, "out": str(out),
                                                       "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}
        assert len(gpd.read_file(out)) == 2
        assert main(["export", "grids", str(out)]) == 2  # OUT is an option now: --out FILE
        assert "Traceback" not in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def test_load_inside_a_callers_transaction_uses_a_savepoint(db_conn, tmp_path):
    grids, _ = read_grids(_plan_file(tmp_path), scheme=SCHEME)
    with pytest.raises(ValidationError):
        load_grids(db_conn, grids[grids["level"] == 3])
    # the failed load rolled back to its savepoint; the caller's transaction still works
    report = load_grids(db_conn, grids)
    assert report.inserted == 4
    assert db_conn.execute(text("SELECT count(*) FROM grids")).scalar() == 4
