"""Cameras (雪亮工程, issue #17) against the real PostGIS: ``gridgov import cameras`` with a CSV and a
GeoJSON file, a bad file refused whole naming each bad row, each camera put in the micro-grid the one
assignment rule gives (the same as a household at that point), stream addresses hidden from the
application role and given only to roles with ``view_camera_streams``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from _cli import run
from _street import street_db
from testdb import database_env

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def street(throwaway_databases, demo_data):
    db = street_db(throwaway_databases, demo_data)
    yield db
    db.dispose()


def _points(street, n: int) -> list[tuple[float, float, str]]:
    """``n`` household points (lon, lat EPSG:4490) in different micro-grids, with their grid."""
    return [(float(x), float(y), g) for x, y, g in street.rows(
        "SELECT DISTINCT ON (grid_code) ST_X(geom), ST_Y(geom), grid_code FROM households "
        "WHERE grid_code IS NOT NULL ORDER BY grid_code, id LIMIT :n", n=n)]


def test_bad_file_is_refused_whole_naming_each_row(street, tmp_path):
    (x, y, _g), = _points(street, 1)
    before = street.scalar("SELECT count(*) FROM cameras")  # the demo's own (雪亮工程 point list)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "设备编号,点位名称,设备类型,设备状态,经度,纬度\n"
        f"C-001,小区东门,枪机,在线,{x},{y}\n"
        f"C-002,菜市场,飞碟,在线,{x},{y}\n"
        f"C-003,学校门口,球机,在线,200,{y}\n", encoding="utf-8")
    code, out, err = run(["import", "cameras", str(bad), "--crs", "4490"], env=database_env(street.url))
    assert code == 1, (out, err)
    assert "C-002" in out + err and "C-003" in out + err
    assert street.scalar("SELECT count(*) FROM cameras") == before


def test_csv_and_geojson_import_assign_by_the_one_rule(street, tmp_path):
    (x1, y1, g1), (x2, y2, g2), (x3, y3, g3) = _points(street, 3)
    before = street.scalar("SELECT count(*) FROM cameras")  # the demo's own
    csv = tmp_path / "cameras.csv"
    csv.write_text(
        "设备编号,点位名称,设备类型,设备状态,视频流地址,经度,纬度\n"
        f"C-101,小区东门,枪机,在线,rtsp://admin:secret@10.0.0.1/1,{x1},{y1}\n"
        f"C-102,广场,球机,离线,,{x2},{y2}\n", encoding="utf-8")
    code, out, err = run(["import", "cameras", str(csv), "--crs", "4490", "--json"], env=database_env(street.url))
    assert code == 0, (out, err)
    geojson = tmp_path / "cameras.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [x3, y3]},
        "properties": {"camera_id": "C-103", "name": "学校门口", "type": "dome", "status": "online"}}]},
        ensure_ascii=False), encoding="utf-8")
    code, out, err = run(["import", "cameras", str(geojson)], env=database_env(street.url))
    assert code == 0, (out, err)
    stored = dict(street.rows("SELECT camera_key, grid_code FROM cameras WHERE camera_key LIKE 'C-%'"))
    assert stored == {"C-101": g1, "C-102": g2, "C-103": g3}
    # the grid is the leaf grid covering the point (the households' rule), checked in SQL
    wrong = street.scalar(
        "SELECT count(*) FROM cameras c WHERE NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = c.grid_code "
        "AND ST_Covers(g.geom, c.geom) AND NOT EXISTS (SELECT 1 FROM grids k WHERE k.parent_code = g.code))")
    assert wrong == 0
    assert street.scalar("SELECT type FROM cameras WHERE camera_key = 'C-102'") == "dome"
    # importing the same file again changes nothing
    code, out, _err = run(["import", "cameras", str(csv), "--crs", "4490", "--json"], env=database_env(street.url))
    assert code == 0 and street.scalar("SELECT count(*) FROM cameras") == before + 3


def test_stream_addresses_only_for_roles_that_may_see_them(street):
    from services import cameras
    from store.session import unit_of_work

    if not street.scalar("SELECT count(*) FROM cameras"):
        pytest.fail("test_csv_and_geojson_import_assign_by_the_one_rule runs first and imports the cameras")
    admin = street.login("admin")
    with pytest.raises(ProgrammingError, match="permission denied"):
        with unit_of_work(street.app, admin) as db:
            db.execute(text("SELECT stream_url FROM cameras"))
    police = street.login("police")
    layer = cameras.camera_layer(street.app, police)
    if "C-101" not in set(layer["camera_key"]):  # outside the police account's grids: the admin reads it
        police = admin
        layer = cameras.camera_layer(street.app, admin)
    shown = dict(zip(layer["camera_key"], layer["stream_url"]))
    assert shown["C-101"] and "secret" not in str(shown["C-101"])  # redacted for display
    cid = int(layer.loc[layer["camera_key"] == "C-101", "id"].iloc[0])
    assert cameras.stream_for_player(street.app, police, [cid]) == {cid: "rtsp://admin:secret@10.0.0.1/1"}
    assert street.scalar("SELECT count(*) FROM audit_log WHERE action = 'read_stream' AND account_name = :a",
                         a=police.account) == 1
    worker = street.login("worker-001")
    seen = cameras.camera_layer(street.app, worker)
    assert seen["stream_url"].isna().all()
    from access.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        cameras.stream_for_player(street.app, worker, [1])
