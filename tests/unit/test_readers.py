"""Domain readers: column recognition, text codes and per-row problems."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from boundaries.coding import CodeScheme
from etl.readers import find_field, read_grids, read_households, read_incidents, read_staff
from etl.transform import problems_frame, write_problem_report
from gis.errors import DataSourceError

SCHEME = CodeScheme((12, 3, 3))
L1 = "430104001001"


def _grid_file(tmp_path, rows, *, name="grids.gpkg", crs=4490):
    frame = gpd.GeoDataFrame(rows, crs=crs)
    path = tmp_path / name
    frame.to_file(path, driver="GPKG")
    return path


def test_read_grids_derives_level_and_parent(tmp_path):
    path = _grid_file(tmp_path, {
        "网格编码": [L1, L1 + "001", L1 + "001002"],
        "网格名称": ["社区", "二级网格", "微网格"],
        "geometry": [shapely.box(112.9, 28.2, 113.0, 28.3), shapely.box(112.9, 28.2, 112.95, 28.25),
                     shapely.box(112.9, 28.2, 112.92, 28.22)],
    })
    grids, problems = read_grids(path, scheme=SCHEME)
    assert problems == []
    assert grids["code"].tolist() == [L1, L1 + "001", L1 + "001002"]
    assert grids["level"].tolist() == [1, 2, 3]
    assert grids["parent_code"].tolist() == [None, L1, L1 + "001"]
    assert grids["name"].tolist() == ["社区", "二级网格", "微网格"]
    assert (grids.geom_type == "MultiPolygon").all()
    assert grids.crs.to_epsg() == 4490


def test_read_grids_collects_every_problem(tmp_path):
    bowtie = shapely.Polygon([(112.9, 28.2), (113.0, 28.3), (113.0, 28.2), (112.9, 28.3)])
    path = _grid_file(tmp_path, {
        "code": [L1, L1, "12ab", L1 + "002", L1 + "003", L1 + "004", L1 + "005"],
        "level": ["1", "1", "1", "2", "3", "2", "2"],
        "geometry": [
            shapely.box(112.9, 28.2, 113.0, 28.3), shapely.box(112.9, 28.2, 113.0, 28.3),
            shapely.box(112.9, 28.2, 113.0, 28.3), bowtie, shapely.box(112.9, 28.2, 113.0, 28.3),
            shapely.Point(112.9, 28.2), shapely.Polygon(),
        ],
    })
    grids, problems = read_grids(path, scheme=SCHEME)
    rules = {(p.row, p.rule) for p in problems}
    assert (0, "duplicate_key") in rules and (1, "duplicate_key") in rules
    assert (2, "invalid_code") in rules
    assert (3, "invalid_geometry") in rules
    assert (4, "level_mismatch") in rules
    assert (5, "wrong_geometry_type") in rules
    assert (6, "empty_geometry") in rules
    assert grids.empty
    bowtie_problem = next(p for p in problems if p.rule == "invalid_geometry")
    assert "Self-intersection" in bowtie_problem.message and bowtie_problem.lon is not None
    fixed, problems = read_grids(path, scheme=SCHEME, fix=True)
    assert L1 + "002" in fixed["code"].tolist()
    assert any(p.rule == "made_valid" and p.severity == "warning" for p in problems)


def test_read_grids_numeric_codes_warn_and_keep_text(tmp_path):
    path = _grid_file(tmp_path, {"code": [7001, 7002], "geometry": [shapely.box(9.5, 47.1, 9.6, 47.2),
                                                                     shapely.box(9.6, 47.1, 9.7, 47.2)]})
    grids, problems = read_grids(path, scheme=CodeScheme((4,)), region=None)
    assert grids["code"].tolist() == ["7001", "7002"]
    assert {p.rule for p in problems} == {"numeric_code"}


def test_read_grids_requires_a_code_column(tmp_path):
    path = _grid_file(tmp_path, {"foo": ["x"], "geometry": [shapely.box(112.9, 28.2, 113.0, 28.3)]})
    with pytest.raises(DataSourceError, match=r"no code column .*--code-field"):
        read_grids(path, scheme=SCHEME)
    with pytest.raises(DataSourceError, match=r"has no column 'bar'"):
        read_grids(path, code_field="bar", scheme=SCHEME)


def test_read_households_from_chinese_csv(tmp_path):
    path = tmp_path / "hh.csv"
    path.write_text(
        "户号,地址,经度,纬度,人口,特殊人群,残疾\n"
        "00012,岳麓区1号,112.93,28.23,3,空巢、留守,否\n"
        "00013,岳麓区2号,28.23,112.93,2,,是\n"
        "00014,岳麓区3号,112.94,28.24,x,,是\n"
        "00014,岳麓区4号,112.95,28.25,1,,\n"
        "00015,岳麓区5号,,,1,,\n"
        "00016,岳麓区6号,250,28.24,1,,\n",
        encoding="utf-8",
    )
    households, problems = read_households(path, crs=4326)
    assert households["household_key"].tolist() == ["00012"]
    assert households["special_kinds"].iloc[0] == ["empty_nest", "left_behind_child"]
    assert households["members"].iloc[0] == 3
    table = problems_frame(problems)
    got = set(zip(table["row"], table["rule"]))
    assert {(1, "swapped_lon_lat"), (2, "bad_members"), (2, "duplicate_key"), (3, "duplicate_key"),
            (4, "missing_coordinates"), (5, "out_of_range")} <= got
    swapped = next(p for p in problems if p.rule == "swapped_lon_lat")
    assert swapped.key == "00013" and swapped.lon == pytest.approx(28.23)


def test_read_households_special_columns_and_xlsx(tmp_path):
    path = tmp_path / "hh.xlsx"
    pd.DataFrame({
        "household_id": ["A1", "A2"], "address": ["x", "y"], "lon": [112.93, 112.94], "lat": [28.23, 28.24],
        "空巢老人": ["是", ""], "留守儿童": ["", "1"],
    }).to_excel(path, index=False)
    households, problems = read_households(path, crs="EPSG:4490")
    assert problems == []
    assert households["special_kinds"].tolist() == [["empty_nest"], ["left_behind_child"]]
    assert households["members"].tolist() == [1, 1]


def test_read_incidents(tmp_path):
    path = tmp_path / "inc.csv"
    path.write_text(
        "事件编号,上报时间,类别,描述,状态,办结时间,地址,lng,lat\n"
        "E1,2026-03-01 09:30,环境卫生,垃圾堆放,已办结,2026-03-02 10:00,岳麓区,112.93,28.23\n"
        "E2,not a time,治安,吵闹,处理中,,岳麓区,112.94,28.24\n"
        "E3,2026-03-02,,无类别,,,岳麓区,112.95,28.25\n"
        "E4,2026-03-03T08:00:00+08:00,消防,通道,奇怪,,岳麓区,112.96,28.26\n"
        "E5,2026-03-03T08:00:00+08:00,消防,通道,,,岳麓区,112.96,28.26\n"
        "E6,2026-03-03T08:00:00+08:00,消防,通道,已办结,,岳麓区,112.96,28.26\n"
        "E7,2026-03-03T08:00:00+08:00,消防,通道,已办结,2026-03-01,岳麓区,112.96,28.26\n",
        encoding="utf-8",
    )
    incidents, problems = read_incidents(path, crs=4326)
    assert incidents["incident_key"].tolist() == ["E1", "E5"]
    assert incidents["status"].tolist() == ["closed", "reported"]
    first = incidents["reported_at"].iloc[0]
    assert first.tzinfo is not None and first.hour == 9
    assert incidents["closed_at"].iloc[0].hour == 10 and pd.isna(incidents["closed_at"].iloc[1])
    rules = {(p.row, p.rule) for p in problems}
    # an unknown status is refused (never silently replaced); a closed incident needs its closing time
    assert {(1, "bad_time"), (2, "missing_category"), (3, "unknown_status"), (5, "closed_without_closing_time"),
            (6, "closed_before_reported")} <= rules


def test_read_staff(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(
        "姓名,电话,角色,网格编码\n"
        "张三,138-1234-5678,网格员,430104001001001\n"
        "李四,12345,网格长,4301\n"
        ",13900000000,网格员,\n"
        "王五,13911112222,扫地僧,\n"
        "赵六,13922223333,,\n",
        encoding="utf-8",
    )
    staff, problems = read_staff(path, scheme=SCHEME)
    assert staff["name"].tolist() == ["张三", "赵六"]
    assert staff["phone"].tolist() == ["13812345678", "13922223333"]
    assert staff["staff_key"].tolist() == ["13812345678", "13922223333"]
    assert staff["grid_code"].tolist() == ["430104001001001", None]
    assert staff["role"].tolist() == ["micro_worker", None]  # 赵六: a person without an assignment
    rules = {(p.row, p.rule) for p in problems}
    assert {(1, "bad_phone"), (1, "invalid_code"), (2, "missing_name"), (3, "unknown_role")} <= rules
    # an unknown role refuses the row (never a warning that drops the assignment) and names every accepted label
    unknown = next(p for p in problems if p.rule == "unknown_role")
    assert unknown.severity == "error" and unknown.key == "13911112222"
    assert "'扫地僧'" in unknown.message and "微网格员" in unknown.message and "Micro-grid worker" in unknown.message
    assert next(p for p in problems if p.rule == "bad_phone").severity == "warning"


def test_outside_region_message_names_the_region_and_the_setting(tmp_path, monkeypatch):
    from gis.settings import get_settings

    path = tmp_path / "hh.csv"
    path.write_text("户号,经度,纬度\n1,9.52,47.14\n", encoding="utf-8")  # Vaduz: outside China
    _, problems = read_households(path, crs=4326)
    assert [p.rule for p in problems] == ["outside_region"]
    assert "outside the expected region 73.4,3.3,135.2,53.6 (set GRIDGOV_REGION, or --region for one file)" in (
        problems[0].message)
    households, problems = read_households(path, crs=4326, region=(9.4, 47.0, 9.7, 47.3))
    assert problems == [] and len(households) == 1
    # the default is the setting when the reader runs, not a value frozen at import
    monkeypatch.setenv("GRIDGOV_REGION", "9.4,47.0,9.7,47.3")
    get_settings.cache_clear()
    try:
        households, problems = read_households(path, crs=4326)
        assert problems == [] and len(households) == 1
        monkeypatch.setenv("GRIDGOV_REGION", "112.9,29.2,113.5,29.7")
        get_settings.cache_clear()
        _, problems = read_households(path, crs=4326)
        assert "region 112.9,29.2,113.5,29.7 " in problems[0].message
    finally:
        monkeypatch.delenv("GRIDGOV_REGION")
        get_settings.cache_clear()


def test_unknown_special_kind_is_a_warning(tmp_path):
    path = tmp_path / "hh.csv"
    path.write_text("户号,经度,纬度,特殊人群\n1,112.93,28.23,空巢老人;外星人\n", encoding="utf-8")
    households, problems = read_households(path, crs=4326)
    assert households["special_kinds"].tolist() == [["empty_nest"]]
    assert [(p.rule, p.severity) for p in problems] == [("unknown_special_kind", "warning")]


def test_problem_reports(tmp_path):
    _, problems = read_staff(_staff_file(tmp_path), scheme=SCHEME)
    csv_path = write_problem_report(problems, tmp_path / "report.csv")
    assert pd.read_csv(csv_path, encoding="utf-8-sig")["rule"].tolist() == ["missing_name"]
    json_path = write_problem_report(problems, tmp_path / "report.json")
    records = json.loads(json_path.read_text(encoding="utf-8"))
    assert records[0]["rule"] == "missing_name" and records[0]["lon"] is None
    with pytest.raises(DataSourceError, match=r"\.csv or \.json"):
        write_problem_report(problems, tmp_path / "report.txt")


def _staff_file(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("工号,姓名\n001,\n002,王五\n", encoding="utf-8")
    return path


def test_find_field():
    assert find_field(["ID", "地址"], "household_key") == "ID"
    assert find_field(["户编号（必填）"], "household_key") == "户编号（必填）"
    assert find_field(["a"], "address") is None
