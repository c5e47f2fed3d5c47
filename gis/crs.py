"""Coordinate reference systems: storage CRS, Gauss-Krüger zone picking, projections.

Storage is EPSG:4490 (CGCS2000 geographic). EPSG:4490 officially has lat/lon axis order;
every transformer here is built with ``always_xy=True`` so arrays are always (lon, lat).
Areas and distances are measured in metres in a CGCS2000 3-degree Gauss-Krüger zone
(EPSG:4534–4554, "CM" variants without false easting prefix).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from pyproj import CRS, Transformer

from gis.errors import CRSError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "STORAGE_EPSG",
    "DISPLAY_EPSG",
    "gk_zone_epsg",
    "transformer",
    "GCJ02_EXTENT",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "OFFSET_CRS_NAMES",
    "offset_crs_name",
    "offset_to_wgs84",
    "resolve_crs",
    "CHINA_BOUNDS",
    "COORD_OK",
    "COORD_MISSING",
    "COORD_OUT_OF_RANGE",
    "COORD_SWAPPED",
    "COORD_OUTSIDE_REGION",
    "check_coordinates",
    "to_storage_crs",
    "point_to_storage",
]

#: CRS every geometry is stored in: CGCS2000 geographic.
STORAGE_EPSG = 4490
#: CRS folium/Leaflet receives (WGS 84; CGCS2000 and WGS 84 agree to centimetres).
DISPLAY_EPSG = 4326


def gk_zone_epsg(lon: float | np.ndarray) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger CM zone for a longitude (degrees).

    ``code = 4534 + (CM - 75) / 3`` for central meridians 75°E–135°E (e.g. 4547 for
    113.2°E, CM 114°E). For an array, the zone of its median longitude is used.

    Raises
    ------
    CRSError
        If the longitude is outside China's 3-degree zones (73.5°E–136.5°E).
    """
    value = float(np.nanmedian(np.asarray(lon, dtype=float)))
    if not np.isfinite(value) or not 73.5 <= value <= 136.5:
        raise CRSError(
            f"longitude {value!r} is outside the CGCS2000 Gauss-Krüger zones (73.5°E–136.5°E); "
            "pass an explicit projected CRS to measure outside China"
        )
    central_meridian = int(round(value / 3.0)) * 3
    central_meridian = min(max(central_meridian, 75), 135)
    return 4534 + (central_meridian - 75) // 3


@lru_cache(maxsize=64)
def transformer(source: int | str, target: int | str) -> Transformer:
    """Cached ``Transformer`` with ``always_xy=True`` (lon/lat, easting/northing order)."""
    try:
        return Transformer.from_crs(CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True)
    except Exception as exc:  # pyproj raises its own CRSError subclasses
        raise CRSError(f"cannot transform from {source!r} to {target!r}: {exc}") from exc


# ---------------------------------------------------------------------------------------
# Chinese obfuscated coordinate systems: GCJ-02 ("Mars", Amap/Tencent) and BD-09 (Baidu)
# ---------------------------------------------------------------------------------------
# GCJ-02 is WGS 84 plus a deterministic, position-dependent offset of a few hundred metres
# applied inside mainland China; BD-09 adds a further rotation/scale on top of GCJ-02.
# Neither is a pyproj CRS, so they are implemented here as vectorized numpy functions
# over (lon, lat) arrays in degrees. Points outside the rough China rectangle used by
# every public implementation are returned unchanged (the services do the same).

_GCJ_A = 6378137.0  # Krasovsky-like semi-major axis used by GCJ-02, metres
_GCJ_EE = 0.00669342162296594323  # first eccentricity squared used by GCJ-02
_BD_X_PI = np.pi * 3000.0 / 180.0
#: Rectangle (lon_min, lat_min, lon_max, lat_max) inside which GCJ-02/BD-09 apply an offset.
GCJ02_EXTENT = (72.004, 0.8293, 137.8347, 55.8271)


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lon_arr = np.asarray(lon, dtype=float)
    lat_arr = np.asarray(lat, dtype=float)
    if lon_arr.shape != lat_arr.shape:
        raise CRSError(f"lon and lat must have the same shape, got {lon_arr.shape} and {lat_arr.shape}")
    return lon_arr, lat_arr


def _in_gcj_extent(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_min, lat_min, lon_max, lat_max = GCJ02_EXTENT
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS 84 position (lon, lat) in degrees."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 (≈ CGCS2000) lon/lat in degrees → GCJ-02 lon/lat in degrees (vectorized).

    Points outside :data:`GCJ02_EXTENT` and NaNs are returned unchanged.
    """
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_arr, lat_arr)
    inside = _in_gcj_extent(lon_arr, lat_arr)
    return np.where(inside, lon_arr + dlon, lon_arr), np.where(inside, lat_arr + dlat, lat_arr)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tolerance: float = 1e-10, max_iterations: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat → WGS 84 lon/lat in degrees, by fixed-point iteration (vectorized).

    Solves ``wgs84_to_gcj02(w) == g`` for ``w``; the offset field is smooth, so each
    iteration gains about three orders of magnitude. Stops when every point moved less
    than ``tolerance`` degrees (1e-10° ≈ 0.01 mm); round trips are far below 0.5 m.
    """
    g_lon, g_lat = _as_float_arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        step_lon = f_lon - g_lon
        step_lat = f_lat - g_lat
        w_lon = w_lon - step_lon
        w_lat = w_lat - step_lat
        worst = np.nanmax(np.abs(np.concatenate([step_lon.ravel(), step_lat.ravel()])), initial=0.0)
        if worst < tolerance:
            break
    inside = _in_gcj_extent(g_lon, g_lat)
    return np.where(inside, w_lon, g_lon), np.where(inside, w_lat, g_lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat → BD-09 (Baidu) lon/lat in degrees (vectorized, closed form)."""
    x, y = _as_float_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    inside = _in_gcj_extent(x, y)
    return (
        np.where(inside, z * np.cos(theta) + 0.0065, x),
        np.where(inside, z * np.sin(theta) + 0.006, y),
    )


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) lon/lat → GCJ-02 lon/lat in degrees (vectorized, closed form)."""
    b_lon, b_lat = _as_float_arrays(lon, lat)
    x = b_lon - 0.0065
    y = b_lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    inside = _in_gcj_extent(b_lon, b_lat)
    return np.where(inside, z * np.cos(theta), b_lon), np.where(inside, z * np.sin(theta), b_lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 lon/lat → BD-09 lon/lat in degrees (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 lon/lat → WGS 84 lon/lat in degrees (via GCJ-02, exact iterative inverse)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


#: Names accepted for the obfuscated systems (``--crs gcj02`` / ``--crs bd09``).
OFFSET_CRS_NAMES: dict[str, str] = {
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "tencent": "gcj02", "mars": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09",
}

_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def offset_crs_name(value: object) -> str | None:
    """``"gcj02"`` / ``"bd09"`` if ``value`` names one of them (case-insensitive), else ``None``."""
    if isinstance(value, str):
        return OFFSET_CRS_NAMES.get(value.strip().lower())
    return None


def resolve_crs(value: object) -> CRS:
    """A pyproj ``CRS`` from user input: ``4326``, ``"EPSG:4547"``, ``"4547"``, WKT, PROJ strings.

    Raises
    ------
    CRSError
        Naming the value and the accepted forms. GCJ-02/BD-09 are not pyproj CRSs; callers
        must test :func:`offset_crs_name` first.
    """
    if isinstance(value, CRS):
        return value
    if offset_crs_name(value):
        raise CRSError(f"{value!r} is an offset coordinate system, not a CRS; convert it with gcj02_to_wgs84/bd09_to_wgs84")
    text = value
    if isinstance(value, str) and value.strip().isdigit():
        text = int(value.strip())
    try:
        return CRS.from_user_input(text)
    except Exception as exc:
        raise CRSError(
            f"CRS {value!r} is not recognised; expected an EPSG code such as 4326, 'EPSG:4547', "
            f"'gcj02' or 'bd09' ({exc})"
        ) from None


def offset_to_wgs84(name: str, lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 (``name="gcj02"``) or BD-09 (``"bd09"``) lon/lat arrays to WGS 84."""
    key = offset_crs_name(name)
    if key is None:
        raise CRSError(f"offset system was {name!r} but is expected to be 'gcj02' or 'bd09'")
    return _TO_WGS84[key](lon, lat)


# ---------------------------------------------------------------------------------------
# Coordinate sanity checks
# ---------------------------------------------------------------------------------------
#: (lon_min, lat_min, lon_max, lat_max) of China incl. the South China Sea islands, degrees
#: (defined with the settings, whose ``GRIDGOV_REGION`` defaults to it).
from gis.settings import CHINA_BOUNDS  # noqa: E402

#: Problem codes returned by :func:`check_coordinates` ("" means no problem).
COORD_OK = ""
COORD_MISSING = "missing_coordinates"
COORD_OUT_OF_RANGE = "out_of_range"
COORD_SWAPPED = "swapped_lon_lat"
COORD_OUTSIDE_REGION = "outside_region"


def check_coordinates(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    region: tuple[float, float, float, float] | None = CHINA_BOUNDS,
) -> np.ndarray:
    """Per-row problem code for geographic coordinates in degrees (vectorized).

    Returns an object array of the same length with one of :data:`COORD_OK` (``""``),
    :data:`COORD_MISSING` (NaN/inf), :data:`COORD_SWAPPED` (the values look like lat/lon
    instead of lon/lat), :data:`COORD_OUT_OF_RANGE` (|lon| > 180 or |lat| > 90) or
    :data:`COORD_OUTSIDE_REGION` (valid but outside ``region`` = (lon_min, lat_min,
    lon_max, lat_max); pass ``region=None`` to skip that check).

    A row "looks swapped" when, read the other way round, it would be valid (and, with a
    region, inside it) while as given it is not.
    """
    x, y = _as_float_arrays(lon, lat)
    x = np.atleast_1d(x)
    y = np.atleast_1d(y)
    codes = np.full(x.shape, COORD_OK, dtype=object)
    missing = ~(np.isfinite(x) & np.isfinite(y))
    in_range = (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
    swapped_in_range = (np.abs(y) <= 180.0) & (np.abs(x) <= 90.0)
    if region is not None:
        lon_min, lat_min, lon_max, lat_max = region
        inside = (x >= lon_min) & (x <= lon_max) & (y >= lat_min) & (y <= lat_max)
        swapped_inside = (y >= lon_min) & (y <= lon_max) & (x >= lat_min) & (x <= lat_max)
        codes[in_range & ~inside] = COORD_OUTSIDE_REGION
        codes[~inside & swapped_inside] = COORD_SWAPPED
    codes[~in_range] = COORD_OUT_OF_RANGE
    codes[~in_range & swapped_in_range] = COORD_SWAPPED
    codes[missing] = COORD_MISSING
    return codes


# ---------------------------------------------------------------------------------------
# Frames to the storage CRS
# ---------------------------------------------------------------------------------------
def _is_cgcs2000_based(crs: CRS) -> bool:
    geodetic = crs.geodetic_crs
    return geodetic is not None and (
        geodetic.to_epsg() == STORAGE_EPSG or "China Geodetic Coordinate System 2000" in geodetic.name
    )


def _crs_key(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code is not None else crs.to_wkt()


def _storage_transformer(source: CRS) -> Transformer | None:
    """Transformer from ``source`` to EPSG:4490, or ``None`` when no change is needed.

    CGCS2000-based sources (EPSG:4490, the Gauss-Krüger zones 4491–4554 ...) go straight
    to EPSG:4490. Other datums go to WGS 84 (EPSG:4326), where PROJ knows real datum
    shifts (e.g. SAD69, ETRS89, NAD83), and are then labelled EPSG:4490: WGS 84 and CGCS2000
    agree to a few centimetres, while PROJ's direct route to 4490 is often only a
    "ballpark" transformation that ignores the datum shift (tens to hundreds of metres).
    """
    if source.to_epsg() == STORAGE_EPSG:
        return None
    if _is_cgcs2000_based(source):
        return transformer(_crs_key(source), f"EPSG:{STORAGE_EPSG}")
    if source.to_epsg() == DISPLAY_EPSG:
        return None
    return transformer(_crs_key(source), f"EPSG:{DISPLAY_EPSG}")


def to_storage_crs(gdf: "gpd.GeoDataFrame", *, source_crs: object | None = None) -> "gpd.GeoDataFrame":
    """Return a copy of ``gdf`` in EPSG:4490 (CGCS2000 lon/lat degrees).

    Parameters
    ----------
    gdf:
        Any GeoDataFrame; not modified.
    source_crs:
        What the coordinates really are, overriding ``gdf.crs``: an EPSG code / string /
        pyproj CRS, or ``"gcj02"`` / ``"bd09"`` (lon/lat degrees shifted by Amap/Tencent or
        Baidu, converted with :func:`gcj02_to_wgs84` / :func:`bd09_to_wgs84` first).

    The transformation uses :func:`transformer` (``always_xy=True``), so sources whose
    authority axis order is lat/lon (EPSG:4326, 4490, 4618 ...) still read x=lon, y=lat.
    Coordinates that cannot be transformed come out as ``inf``; check them with
    :func:`check_coordinates`.

    Raises
    ------
    CRSError
        When neither ``gdf.crs`` nor ``source_crs`` says what the coordinates are.
    """
    import geopandas as gpd
    import shapely

    offset = offset_crs_name(source_crs)
    if offset is not None:
        geoms = shapely.transform(
            np.asarray(gdf.geometry.values, dtype=object),
            lambda xy: np.column_stack(offset_to_wgs84(offset, xy[:, 0], xy[:, 1])),
        )
        source = CRS.from_epsg(DISPLAY_EPSG)
    else:
        if source_crs is not None:
            source = resolve_crs(source_crs)
        elif gdf.crs is not None:
            source = CRS.from_user_input(gdf.crs)
        else:
            raise CRSError(
                "the frame has no CRS; say what its coordinates are (--crs EPSG:4326, EPSG:4547, gcj02, bd09 ...)"
            )
        geoms = np.asarray(gdf.geometry.values, dtype=object)
    tr = _storage_transformer(source)
    if tr is not None:

        def _project(xy: np.ndarray) -> np.ndarray:
            x, y = tr.transform(xy[:, 0], xy[:, 1], errcheck=False)
            return np.column_stack([x, y])

        geoms = shapely.transform(geoms, _project)
    result = gdf.copy()
    column = gdf.geometry.name
    result[column] = gpd.GeoSeries(geoms, index=gdf.index, crs=None).values
    result = result.set_geometry(column, crs=None).set_crs(STORAGE_EPSG, allow_override=True)
    result.attrs = dict(gdf.attrs)
    return result


def point_to_storage(x: float, y: float, crs: object) -> tuple[float, float]:
    """One point given in ``crs`` as lon/lat degrees (or easting/northing metres) in EPSG:4490.

    ``crs``: an EPSG code or CRS (``4490``, ``4326``, ``"EPSG:4547"`` …; axis order is always x
    then y, ``always_xy``) or ``"gcj02"``/``"bd09"`` (lon/lat shifted by Amap/Tencent or Baidu,
    converted to WGS 84 first). WGS 84 is taken as CGCS2000 (they agree to centimetres), as in
    :func:`to_storage_crs`.

    Raises
    ------
    CRSError
        The CRS is not recognised or the point cannot be transformed.
    """
    offset = offset_crs_name(crs)
    if offset is not None:
        lon, lat = offset_to_wgs84(offset, [x], [y])
        return float(lon[0]), float(lat[0])
    source = resolve_crs(crs)
    tr = _storage_transformer(source)
    if tr is None:
        return float(x), float(y)
    lon, lat = tr.transform(x, y, errcheck=False)
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise CRSError(f"the point ({x}, {y}) cannot be transformed from {crs!r} to EPSG:{STORAGE_EPSG}")
    return float(lon), float(lat)
