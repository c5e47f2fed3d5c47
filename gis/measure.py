"""Measurement in metres: areas (m²), lengths (m) and distances (m) of geometries.

Geometries are given in a geographic CRS (EPSG:4490 by default) and are projected, per
geometry, to a metric CRS before measuring — never measured in degrees:

* inside China's Gauss-Krüger zones (73.5°E–136.5°E) the CGCS2000 3-degree GK zone of the
  geometry's longitude (:func:`gis.crs.gk_zone_epsg`, EPSG:4534–4554);
* elsewhere (the Liechtenstein test data lies at 9.5°E) the WGS 84 UTM zone of the
  geometry (EPSG:326xx north, 327xx south). The datum difference between CGCS2000 / WGS 84
  and the source CRS is centimetres, irrelevant for the areas we measure.

Geometries already in a projected CRS with metre units are measured as they are.
Everything is vectorized: geometries are grouped by zone and each group is transformed
with one call.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from gis.crs import STORAGE_EPSG, gk_zone_epsg, transformer
from gis.errors import CRSError

__all__ = [
    "metric_epsg_for",
    "metric_epsgs",
    "to_metric",
    "area_m2",
    "length_m",
    "distance_m",
    "metres_to_degrees",
]

logger = logging.getLogger(__name__)


def _as_array(geoms: Any) -> np.ndarray:
    """Geometry array (object dtype) from a GeoSeries, GeometryArray, list or scalar."""
    if hasattr(geoms, "geometry") and hasattr(geoms, "crs") and not hasattr(geoms, "values"):
        geoms = geoms.geometry
    if hasattr(geoms, "geometry") and hasattr(geoms, "columns"):  # GeoDataFrame
        geoms = geoms.geometry
    if hasattr(geoms, "array") and hasattr(geoms, "crs"):  # GeoSeries
        return np.asarray(geoms.array, dtype=object)
    if isinstance(geoms, shapely.Geometry) or geoms is None:
        return np.array([geoms], dtype=object)
    return np.asarray(geoms, dtype=object)


def _resolve_crs(geoms: Any, crs: int | str | CRS | None) -> CRS:
    """The CRS of ``geoms``: its own ``.crs`` for geopandas objects, else ``crs``.

    A geopandas object without a CRS is an error (no guessing): ``crs`` only describes
    plain shapely arrays.
    """
    if hasattr(geoms, "crs"):
        own = geoms.crs
        if own is None:
            raise CRSError(
                "the geometries have no CRS; set it (e.g. .set_crs(4490)) before measuring — "
                "GridGov never guesses a CRS"
            )
        return CRS.from_user_input(own)
    if crs is None:
        raise CRSError("crs is required to measure plain geometry arrays (e.g. crs=4490)")
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:
        raise CRSError(f"crs {crs!r} is not a CRS pyproj knows: {exc}") from exc


def metric_epsg_for(lon: float, lat: float) -> int:
    """EPSG code of the metric CRS used for a geometry centred at (``lon``, ``lat``) degrees.

    CGCS2000 3-degree Gauss-Krüger zone inside 73.5°E–136.5°E, else the WGS 84 UTM zone.
    """
    if 73.5 <= lon <= 136.5:
        return gk_zone_epsg(lon)
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise CRSError(f"cannot pick a metric CRS for non-finite coordinates ({lon!r}, {lat!r})")
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def metric_epsgs(geoms: np.ndarray) -> np.ndarray:
    """Metric EPSG code per geometry (0 for missing/empty geometries), from bounds centres (degrees)."""
    bounds = shapely.bounds(geoms)
    lon = (bounds[:, 0] + bounds[:, 2]) / 2.0
    lat = (bounds[:, 1] + bounds[:, 3]) / 2.0
    out = np.zeros(len(geoms), dtype=np.int64)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return out
    # Vectorized zone choice: GK zone where inside China's zones, else UTM.
    china = ok & (lon >= 73.5) & (lon <= 136.5)
    cm = np.clip(np.round(lon[china] / 3.0) * 3, 75, 135).astype(np.int64)
    out[china] = 4534 + (cm - 75) // 3
    other = ok & ~china
    zone = (np.floor((lon[other] + 180.0) / 6.0).astype(np.int64) % 60) + 1
    out[other] = np.where(lat[other] >= 0, 32600, 32700) + zone
    return out


def _is_metric(crs: CRS) -> bool:
    if not crs.is_projected:
        return False
    units = {axis.unit_name for axis in crs.axis_info}
    return units <= {"metre", "meter"}


def _project_group(geoms: np.ndarray, source: CRS, epsg: int) -> np.ndarray:
    tr = transformer(source.to_wkt(), int(epsg))

    def _fn(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _fn)


def to_metric(
    geoms: Any, *, crs: int | str | CRS | None = STORAGE_EPSG, epsg: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Project geometries to metric CRSs.

    Parameters
    ----------
    geoms:
        GeoSeries/GeoDataFrame (its own CRS is used) or array-like of shapely geometries in
        ``crs`` (default EPSG:4490, lon/lat degrees).
    epsg:
        Force one metric EPSG for all geometries (e.g. to compare shapes in one plane);
        default: the zone of each geometry.

    Returns
    -------
    (projected, epsgs)
        Geometries in metres and the EPSG code used for each (0 for missing/empty ones, which
        are returned unchanged).
    """
    arr = _as_array(geoms)
    source = _resolve_crs(geoms, crs)
    if _is_metric(source):
        code = source.to_epsg() or 0
        return arr.copy(), np.full(len(arr), code, dtype=np.int64)
    if not source.is_geographic:
        raise CRSError(f"cannot measure in {source.to_string()}: expected a geographic or metric projected CRS")
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if epsg is None:
        codes = metric_epsgs(arr)
    else:
        codes = np.where(present, int(epsg), 0).astype(np.int64)
    codes[~present] = 0
    out = arr.copy()
    for code in np.unique(codes[present]):
        sel = codes == code
        out[sel] = _project_group(arr[sel], source, int(code))
    return out, codes


def area_m2(geoms: Any, crs: int | str | CRS | None = STORAGE_EPSG) -> np.ndarray:
    """Area of each geometry in square metres (0 for missing or empty geometries).

    ``geoms`` are in ``crs`` (default EPSG:4490) unless they are a GeoSeries/GeoDataFrame,
    whose own CRS is used.
    """
    projected, _ = to_metric(geoms, crs=crs)
    return np.nan_to_num(shapely.area(projected), nan=0.0)


def length_m(geoms: Any, crs: int | str | CRS | None = STORAGE_EPSG) -> np.ndarray:
    """Length (lines) or perimeter (polygons) of each geometry in metres."""
    projected, _ = to_metric(geoms, crs=crs)
    return np.nan_to_num(shapely.length(projected), nan=0.0)


def distance_m(a: Any, b: Any, crs: int | str | CRS | None = STORAGE_EPSG) -> np.ndarray:
    """Element-wise distance in metres between ``a`` and ``b`` (broadcast like shapely).

    Each pair is measured in the metric zone of the pair's combined extent. NaN where
    either geometry is missing or empty.
    """
    arr_a = _as_array(a)
    arr_b = _as_array(b)
    source_a = _resolve_crs(a, crs)
    source_b = _resolve_crs(b, crs)
    if source_a != source_b:
        raise CRSError(f"cannot measure between {source_a.to_string()} and {source_b.to_string()}")
    arr_a, arr_b = np.broadcast_arrays(arr_a, arr_b)
    if _is_metric(source_a):
        return shapely.distance(arr_a, arr_b)
    both = np.empty(arr_a.size, dtype=object)
    present = ~(shapely.is_missing(arr_a) | shapely.is_missing(arr_b) | shapely.is_empty(arr_a) | shapely.is_empty(arr_b))
    both[present] = shapely.union(arr_a.ravel()[present], arr_b.ravel()[present])
    codes = metric_epsgs(both)
    result = np.full(arr_a.size, np.nan)
    flat_a = arr_a.ravel()
    flat_b = arr_b.ravel()
    for code in np.unique(codes[present]):
        sel = present & (codes == code)
        pa = _project_group(flat_a[sel], source_a, int(code))
        pb = _project_group(flat_b[sel], source_a, int(code))
        result[sel] = shapely.distance(pa, pb)
    return result.reshape(arr_a.shape)


def metres_to_degrees(metres: float, lat: float) -> float:
    """A conservative (small) conversion of a length in metres to degrees near latitude ``lat``.

    Used only for tolerances in degree space (snapping, gap widths): returns the degree
    length of ``metres`` along a parallel or meridian, whichever is larger in degrees, so a
    tolerance of ``metres`` is never under-covered.
    """
    meridian = 110_574.0
    parallel = 111_320.0 * max(np.cos(np.radians(lat)), 1e-6)
    return float(metres / min(meridian, parallel))
