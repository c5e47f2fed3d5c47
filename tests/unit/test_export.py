"""export_frame round trips in every format, Shapefile field names, personal-data masking."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from etl.export import FORMATS, export_frame, shapefile_field_names
from access.masking import mask_id_number, mask_name, mask_personal_data, mask_phone
from gis.errors import DataSourceError
from gis.io import read_vector

CODES = ["430104001001", "430104001002"]


def _grids() -> gpd.GeoDataFrame:
    geoms = [shapely.MultiPolygon([shapely.box(112.9, 28.2, 112.91, 28.21)]),
             shapely.MultiPolygon([shapely.box(112.91, 28.2, 112.92, 28.21)])]
    return gpd.GeoDataFrame({"code": CODES, "name": ["第一网格", "第二网格"]}, geometry=geoms, crs=4490)


def _households() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"household_key": ["00012", "00013"], "address": ["岳麓区1号", "岳麓区2号"],
         "special_kinds": [["空巢", "留守"], []],
         "reported_at": pd.to_datetime(["2026-03-01 09:30", "2026-03-02 10:00"]).tz_localize("Asia/Shanghai")},
        geometry=[shapely.Point(112.93, 28.23), shapely.Point(112.94, 28.24)], crs=4490,
    )


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "kml", "parquet"])
def test_grids_round_trip(tmp_path, fmt):
    grids = _grids()
    path = export_frame(grids, tmp_path / f"grids{FORMATS[fmt][1]}")
    back = read_vector(path)
    if fmt == "kml":
        back = back.rename(columns={"Name": "name"})
    back = back[["code", "name", "geometry"]]
    back["geometry"] = back.geometry.apply(
        lambda g: g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
    )
    back = back.to_crs(4490) if back.crs.to_epsg() != 4490 else back
    assert back["code"].tolist() == CODES  # text, leading digits intact
    assert back["name"].tolist() == ["第一网格", "第二网格"]
    # Shapefile rewinds rings clockwise: compare normalized geometries
    assert shapely.equals_exact(
        shapely.normalize(back.geometry.values), shapely.normalize(grids.geometry.values), tolerance=1e-9
    ).all()
    if fmt in {"gpkg", "parquet"}:
        assert_geodataframe_equal(back, grids, check_dtype=False, check_less_precise=True)


def test_shapefile_is_utf8_with_cpg_and_short_field_names(tmp_path):
    frame = _households().rename(columns={"address": "household_address_text"})
    path = export_frame(frame, tmp_path / "hh.shp")
    assert path.with_suffix(".cpg").read_text().strip().upper() in {"UTF-8", "UTF8"}
    back = read_vector(path)
    assert "household_" in back.columns  # 10-byte dBASE limit
    assert back["household_"].tolist()[0] == "00012"
    assert back["special_ki"].tolist()[0] == "空巢、留守"
    assert back["reported_a"].iloc[0].startswith("2026-03-01T09:30:00+08:00")


def test_shapefile_field_names_are_unique():
    mapping = shapefile_field_names(["household_key", "household_address", "code", "网格名称名称"])
    assert mapping["code"] == "code"
    assert len(set(mapping.values())) == 4
    assert all(len(v.encode()) <= 10 for v in mapping.values())


def test_shapefile_refuses_mixed_geometry_types(tmp_path):
    mixed = pd.concat([_grids(), _households()[["geometry"]]], ignore_index=True)
    with pytest.raises(DataSourceError, match="one geometry type"):
        export_frame(gpd.GeoDataFrame(mixed, crs=4490), tmp_path / "mixed.shp")


def test_xlsx_and_csv_points_get_lon_lat(tmp_path):
    path = export_frame(_households(), tmp_path / "hh.xlsx")
    table = pd.read_excel(path, dtype={"household_key": str})
    assert table["household_key"].tolist() == ["00012", "00013"]
    assert table["lon"].tolist() == [112.93, 112.94] and table["lat"].tolist() == [28.23, 28.24]
    back = read_vector(path, crs=4490)
    assert back.geometry.x.tolist() == [112.93, 112.94]
    path = export_frame(_households(), tmp_path / "hh.csv")
    assert read_vector(path, crs=4490)["household_key"].tolist() == ["00012", "00013"]


def test_xlsx_polygons_get_wkt(tmp_path):
    path = export_frame(_grids(), tmp_path / "grids.xlsx")
    back = read_vector(path, crs=4490)
    assert back["code"].tolist() == CODES
    assert shapely.equals_exact(back.geometry.values, _grids().geometry.values, tolerance=1e-7).all()


def test_export_errors(tmp_path):
    with pytest.raises(DataSourceError, match="output format"):
        export_frame(_grids(), tmp_path / "grids.xyz")
    with pytest.raises(DataSourceError, match="no CRS"):
        export_frame(_grids().set_crs(None, allow_override=True), tmp_path / "g.gpkg")
    with pytest.raises(DataSourceError, match="does not exist"):
        export_frame(_grids(), tmp_path / "missing" / "g.gpkg")


def test_masking_helpers():
    assert mask_id_number("430603199001011234") == "430603********1234"
    assert mask_id_number("43060319900101123X") == "430603********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_phone(None) is None
    assert mask_phone("138-1234-5678") == "138****5678"
    assert mask_phone("5551234") == "*****34" and mask_phone("1234") == "****"
    assert mask_phone(float("nan")) is None and mask_id_number(pd.NA) is None and mask_phone("  ") is None
    assert "1990" not in mask_id_number("430603199001011234")


def test_mask_personal_data_returns_a_copy():
    frame = pd.DataFrame({"姓名": ["张三"], "身份证号": ["430603199001011234"], "电话": ["13812345678"], "x": [1]})
    masked = mask_personal_data(frame, ["身份证号", "电话"])
    assert masked["身份证号"].tolist() == ["430603********1234"]
    assert masked["电话"].tolist() == ["138****5678"]
    assert masked["姓名"].tolist() == ["张三"]
    assert frame["电话"].tolist() == ["13812345678"]  # input untouched
    assert mask_personal_data(frame)["姓名"].tolist() == ["张*"]
    with pytest.raises(ValueError, match="cannot tell"):
        mask_personal_data(frame, ["x"])
    with pytest.raises(KeyError):
        mask_personal_data(frame, {"nope": "phone"})
