"""GCJ-02 / BD-09 conversions, coordinate checks and the storage CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from gis.crs import (
    CHINA_BOUNDS,
    COORD_MISSING,
    COORD_OK,
    COORD_OUT_OF_RANGE,
    COORD_OUTSIDE_REGION,
    COORD_SWAPPED,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_coordinates,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_storage_crs,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gis.errors import CRSError

GEOD = Geod(ellps="WGS84")

# googollee/eviltransform python/test.py: (wgsLat, wgsLng, gcjLat, gcjLng)
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# geotool / pyxis test vectors: one point in WGS 84, GCJ-02 and BD-09 (lon, lat)
PYXIS_WGS84 = (121.0917077, 30.6107779)
PYXIS_GCJ02 = (121.09626935575027, 30.608604331756705)
PYXIS_BD09 = (121.10271732371203, 30.61484572185035)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist)


def test_wgs84_to_gcj02_matches_published_pairs():
    wlat, wlon, glat, glon = map(np.array, zip(*EVILTRANSFORM))
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    np.testing.assert_allclose(lon, glon, atol=1e-6)
    np.testing.assert_allclose(lat, glat, atol=1e-6)
    lon, lat = wgs84_to_gcj02(*PYXIS_WGS84)
    assert (float(lon), float(lat)) == pytest.approx(PYXIS_GCJ02, abs=1e-6)


def test_gcj02_to_wgs84_is_exact_on_published_pairs():
    wlat, wlon, glat, glon = map(np.array, zip(*EVILTRANSFORM))
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, wlon, wlat).max() < 0.5


def test_bd09_matches_published_pairs():
    lon, lat = gcj02_to_bd09(*PYXIS_GCJ02)
    assert (float(lon), float(lat)) == pytest.approx(PYXIS_BD09, abs=1e-6)
    lon, lat = wgs84_to_bd09(*PYXIS_WGS84)
    assert (float(lon), float(lat)) == pytest.approx(PYXIS_BD09, abs=1e-6)
    lon, lat = bd09_to_gcj02(*PYXIS_BD09)
    assert _metres(lon, lat, *PYXIS_GCJ02) < 0.5
    lon, lat = bd09_to_wgs84(*PYXIS_BD09)
    assert _metres(lon, lat, *PYXIS_WGS84) < 0.5


def test_gcj02_round_trip_below_half_a_metre_across_china():
    lon, lat = np.meshgrid(np.arange(74.0, 135.0, 0.7), np.arange(4.0, 53.5, 0.7))
    lon, lat = lon.ravel(), lat.ravel()
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = _metres(lon, lat, glon, glat)
    assert np.median(shift) > 50  # the offset is real: hundreds of metres
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, back_lon, back_lat).max() < 0.5
    blon, blat = wgs84_to_bd09(lon, lat)
    back_lon, back_lat = bd09_to_wgs84(blon, blat)
    assert _metres(lon, lat, back_lon, back_lat).max() < 0.5


@settings(max_examples=60, deadline=None)
@given(st.floats(73.5, 135.0), st.floats(18.0, 53.5))
def test_gcj02_inverse_property(lon, lat):
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres(back_lon, back_lat, lon, lat) < 0.5


def test_outside_china_is_unchanged_and_nan_passes_through():
    lon, lat = wgs84_to_gcj02([9.5, np.nan], [47.1, 30.0])
    assert lon[0] == 9.5 and lat[0] == 47.1
    assert np.isnan(lon[1])
    lon, lat = gcj02_to_wgs84([-70.0], [42.0])
    assert (lon[0], lat[0]) == (-70.0, 42.0)


def test_check_coordinates_codes():
    lon = [116.4, 39.9, 200.0, np.nan, 9.5, 116.4, 28.2]
    lat = [39.9, 116.4, 10.0, 30.0, 47.1, 95.0, 112.9]
    codes = check_coordinates(lon, lat)
    assert list(codes) == [
        COORD_OK, COORD_SWAPPED, COORD_OUT_OF_RANGE, COORD_MISSING, COORD_OUTSIDE_REGION,
        COORD_OUT_OF_RANGE, COORD_SWAPPED,
    ]
    # without a region only impossible values are problems; (28.2, 112.9) is swapped since lat > 90
    codes = check_coordinates(lon, lat, region=None)
    assert list(codes) == [COORD_OK, COORD_SWAPPED, COORD_OUT_OF_RANGE, COORD_MISSING, COORD_OK,
                           COORD_OUT_OF_RANGE, COORD_SWAPPED]
    assert CHINA_BOUNDS[0] < 74 and CHINA_BOUNDS[2] > 134


def test_to_storage_crs_from_gauss_kruger_zone():
    # A point at 114°E on the central meridian of EPSG:4547 has easting 500 000 m.
    points = gpd.GeoDataFrame({"k": [1]}, geometry=[shapely.Point(500000.0, 3_000_000.0)], crs=4547)
    stored = to_storage_crs(points)
    assert stored.crs.to_epsg() == 4490
    assert stored.geometry.x.iloc[0] == pytest.approx(114.0, abs=1e-9)
    assert 27.0 < stored.geometry.y.iloc[0] < 27.2
    assert points.crs.to_epsg() == 4547  # input untouched


def test_to_storage_crs_from_web_mercator_and_4326():
    merc = gpd.GeoDataFrame(geometry=[shapely.Point(12_958_000.0, 4_852_000.0)], crs=3857)
    stored = to_storage_crs(merc)
    assert stored.geometry.x.iloc[0] == pytest.approx(116.404, abs=1e-3)
    assert stored.geometry.y.iloc[0] == pytest.approx(39.91, abs=1e-2)
    wgs = gpd.GeoDataFrame(geometry=[shapely.Point(116.4, 39.9)], crs=4326)
    assert to_storage_crs(wgs).geometry.x.iloc[0] == pytest.approx(116.4, abs=1e-9)


def test_to_storage_crs_gcj02_source_and_missing_crs():
    glon, glat = wgs84_to_gcj02(116.377817, 39.911954)
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(float(glon), float(glat))], crs=None)
    stored = to_storage_crs(frame, source_crs="gcj02")
    assert _metres(stored.geometry.x.iloc[0], stored.geometry.y.iloc[0], 116.377817, 39.911954) < 0.5
    with pytest.raises(CRSError, match="no CRS"):
        to_storage_crs(frame)
    with pytest.raises(CRSError, match="not recognised"):
        to_storage_crs(frame, source_crs="EPSG:999999")
