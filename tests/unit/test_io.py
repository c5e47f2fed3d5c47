"""gis.io.read_vector on files written in every supported format (synthetic, in tmp_path)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gis.crs import wgs84_to_gcj02
from gis.errors import DataSourceError
from gis.io import detect_encoding, find_coordinate_columns, find_wkt_column, read_table, read_vector

NAMES = ["岳麓街道第一网格", "橘子洲社区", "桃子湖村"]
CODES = ["430104001001", "430104001002", "430104001003"]


def _polygons() -> gpd.GeoDataFrame:
    boxes = [shapely.box(112.90 + i * 0.01, 28.20, 112.91 + i * 0.01, 28.21) for i in range(3)]
    return gpd.GeoDataFrame({"code": CODES, "name": NAMES}, geometry=boxes, crs=4490)


def test_geojson(tmp_path):
    path = tmp_path / "grids.geojson"
    _polygons().to_file(path, driver="GeoJSON")
    frame = read_vector(path)
    assert list(frame["name"]) == NAMES
    assert list(frame["code"]) == CODES
    assert frame.crs is not None


def test_shapefile_with_cpg(tmp_path):
    path = tmp_path / "grids.shp"
    _polygons().to_file(path, encoding="utf-8")
    assert path.with_suffix(".cpg").exists()
    frame = read_vector(path)
    assert list(frame["name"]) == NAMES
    assert frame.crs.to_epsg() == 4490


def test_gbk_shapefile_without_cpg_is_detected(tmp_path):
    path = tmp_path / "gbk.shp"
    _polygons().to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink()
    # GDAL alone would read these bytes as ISO-8859-1 (mojibake)
    raw = pyogrio.read_dataframe(path)
    assert list(raw["name"]) != NAMES
    frame = read_vector(path)
    assert list(frame["name"]) == NAMES
    assert frame.attrs["encoding"] == "gb18030"
    forced = read_vector(path, encoding="gbk")
    assert list(forced["name"]) == NAMES


def test_geopackage_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    grids = _polygons()
    grids.to_file(path, layer="grids", driver="GPKG")
    points = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(112.9, 28.2)], crs=4490)
    points.to_file(path, layer="households", driver="GPKG")
    with pytest.raises(DataSourceError, match=r"2 layers .*grids.*households.*--layer"):
        read_vector(path)
    with pytest.raises(DataSourceError, match=r"no layer 'nope'.*grids"):
        read_vector(path, layer="nope")
    frame = read_vector(path, layer="grids")
    assert list(frame["name"]) == NAMES
    assert frame.attrs["layer"] == "grids"


def test_kml(tmp_path):
    path = tmp_path / "grids.kml"
    frame = _polygons().to_crs(4326).rename(columns={"name": "Name"})
    pyogrio.write_dataframe(frame, path, driver="KML", layer="grids")
    back = read_vector(path)
    assert list(back["Name"]) == NAMES
    assert back.crs.to_epsg() == 4326
    assert shapely.equals_exact(back.geometry.values, frame.geometry.values, tolerance=1e-9).all()


def test_geoparquet(tmp_path):
    path = tmp_path / "grids.parquet"
    _polygons().to_parquet(path)
    frame = read_vector(path)
    assert list(frame["code"]) == CODES and frame.crs.to_epsg() == 4490
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(DataSourceError, match="GeoParquet"):
        read_vector(bad)


def test_csv_with_lonlat_columns_keeps_codes_as_text(tmp_path):
    path = tmp_path / "hh.csv"
    path.write_text("id,lng,lat,name\n000123,112.93,28.23,张三\n000124,,28.24,李四\n", encoding="utf-8")
    frame = read_vector(path, crs=4326)
    assert list(frame["id"]) == ["000123", "000124"]
    assert frame.geometry.iloc[0].equals(shapely.Point(112.93, 28.23))
    assert frame.geometry.iloc[1] is None
    with pytest.raises(DataSourceError, match="--crs"):
        read_vector(path)


def test_csv_wkt_column_and_gbk_encoding(tmp_path):
    path = tmp_path / "wkt.csv"
    table = pd.DataFrame({"名称": NAMES, "WKT": [g.wkt for g in _polygons().geometry]})
    path.write_bytes(table.to_csv(index=False).encode("gbk"))
    frame = read_vector(path, crs="EPSG:4490")
    assert list(frame["名称"]) == NAMES
    assert frame.attrs["encoding"] == "gb18030"
    assert frame.geometry.iloc[0].geom_type == "Polygon"


def test_xlsx_with_chinese_headers(tmp_path):
    path = tmp_path / "hh.xlsx"
    pd.DataFrame(
        {"户号": ["00001", "00002"], "地址": ["岳麓区1号", "岳麓区2号"], "经度": [112.93, 112.94], "纬度（WGS84）": [28.23, 28.24]}
    ).to_excel(path, index=False)
    frame = read_vector(path, crs=4326)
    assert list(frame["户号"]) == ["00001", "00002"]
    assert frame.geometry.x.tolist() == [112.93, 112.94]
    assert frame.geometry.y.tolist() == [28.23, 28.24]


def test_projected_gauss_kruger_file(tmp_path):
    path = tmp_path / "gk.gpkg"
    _polygons().to_crs(4547).to_file(path, driver="GPKG")
    frame = read_vector(path)
    assert frame.crs.to_epsg() == 4547
    assert frame.total_bounds[0] > 100_000  # metres


def test_gcj02_csv_is_converted_to_wgs84(tmp_path):
    lon, lat = np.array([112.93, 116.3]), np.array([28.23, 39.9])
    glon, glat = wgs84_to_gcj02(lon, lat)
    path = tmp_path / "amap.csv"
    pd.DataFrame({"id": ["a", "b"], "lon": glon, "lat": glat}).to_csv(path, index=False)
    frame = read_vector(path, crs="gcj02")
    assert frame.crs.to_epsg() == 4326
    assert frame.attrs["source_crs"] == "gcj02"
    np.testing.assert_allclose(frame.geometry.x, lon, atol=1e-6)
    np.testing.assert_allclose(frame.geometry.y, lat, atol=1e-6)


def test_crs_override_and_unknown_crs(tmp_path):
    path = tmp_path / "x.geojson"
    _polygons().to_file(path, driver="GeoJSON")
    assert read_vector(path, crs="4490").crs.to_epsg() == 4490
    with pytest.raises(DataSourceError, match="not recognised"):
        read_vector(path, crs="EPSG:123456789")


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(DataSourceError, match="file not found"):
        read_vector(tmp_path / "nope.geojson")
    truncated = tmp_path / "cut.geojson"
    text = _polygons().to_json()
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(DataSourceError, match="truncated or corrupt"):
        read_vector(truncated)
    html = tmp_path / "page.geojson"
    html.write_text("<!DOCTYPE html><html><body>404</body></html>", encoding="utf-8")
    with pytest.raises(DataSourceError, match="HTML"):
        read_vector(html)
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    with pytest.raises(DataSourceError, match="empty"):
        read_vector(empty)


def test_truncated_shapefile_is_reported_not_silently_short(tmp_path):
    path = tmp_path / "grids.shp"
    _polygons().to_file(path, encoding="utf-8")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(DataSourceError, match=r"grids.shp: grids.shp is truncated"):
        read_vector(path)


def test_missing_sidecars_are_named(tmp_path):
    path = tmp_path / "grids.shp"
    _polygons().to_file(path, encoding="utf-8")
    path.with_suffix(".shx").unlink()
    path.with_suffix(".dbf").unlink()
    with pytest.raises(DataSourceError, match=r"missing grids.shx .*missing grids.dbf"):
        read_vector(path)


def test_table_without_coordinates_names_expected_columns(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataSourceError, match="经度/纬度"):
        read_vector(path, crs=4326)
    assert read_table(path).to_dict(orient="list") == {"a": ["1"], "b": ["2"]}


def test_column_recognition():
    assert find_coordinate_columns(["ID", "Longitude", "Latitude"]) == ("Longitude", "Latitude")
    assert find_coordinate_columns(["东经", "北纬"]) == ("东经", "北纬")
    assert find_coordinate_columns(["x", "y", "lng", "lat"]) == ("lng", "lat")
    assert find_coordinate_columns(["经度(°)", "纬度(°)"]) == ("经度(°)", "纬度(°)")
    assert find_coordinate_columns(["a", "b"]) is None
    assert find_wkt_column(["id", "几何"]) == "几何"
    assert find_wkt_column(["id", "the_geom"]) == "the_geom"


def test_detect_encoding():
    assert detect_encoding([b"abc"]) is None
    assert detect_encoding(["长沙市岳麓区".encode()]) == "utf-8"
    assert detect_encoding(["长沙市岳麓区桃子湖路".encode("gbk"), "空巢老人".encode("gbk")]) == "gb18030"
    assert detect_encoding(["千葉県山武郡".encode("shift_jis"), "ひらがな".encode("shift_jis")]) == "shift_jis"
    assert detect_encoding(["São Paulo".encode("cp1252")]) == "cp1252"
