"""Row-level checks and conversions between reading a file and loading it.

Everything here is pure and vectorized over GeoDataFrames / arrays. Problems are collected
per row as :class:`RowProblem` records (never raised one at a time), so an import can show
a table of all of them and write a ``--report`` file.

Geometries handed in are in EPSG:4490 (lon/lat degrees) unless a docstring says otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from etl.sheets import write_csv
from gis.crs import (
    COORD_MISSING,
    COORD_OUT_OF_RANGE,
    COORD_OUTSIDE_REGION,
    COORD_SWAPPED,
    check_coordinates,
)
from gis.errors import DataSourceError
from gis.problems import ERROR, WARNING, RowProblem
from gis.geometry import explain_invalid, normalize_polygons

__all__ = [
    "RowProblem",
    "ERROR",
    "WARNING",
    "problems_frame",
    "write_problem_report",
    "text_values",
    "duplicate_key_problems",
    "DuplicateKeys",
    "coordinate_problems",
    "geometry_problems",
    "prepare_polygons",
    "representative_lonlat",
    "REGION_FROM_SETTINGS",
    "resolve_region",
    "format_region",
]

logger = logging.getLogger(__name__)

_COORD_MESSAGES = {
    COORD_MISSING: "coordinates are missing or not numbers",
    COORD_OUT_OF_RANGE: "coordinates are outside -180..180 / -90..90 (wrong CRS? use --crs)",
    COORD_SWAPPED: "longitude and latitude look swapped (x holds the latitude)",
}

Region = tuple[float, float, float, float]


class _RegionFromSettings:
    """Sentinel default of every ``region=`` parameter: the ``GRIDGOV_REGION`` setting, read when called."""

    def __repr__(self) -> str:
        return "REGION_FROM_SETTINGS"


#: Default of ``region=``: :attr:`gis.settings.Settings.region` at call time (never frozen at import).
REGION_FROM_SETTINGS: Any = _RegionFromSettings()


def resolve_region(region: Region | None | _RegionFromSettings) -> Region | None:
    """The region to check against: ``region`` itself, or the configured one for :data:`REGION_FROM_SETTINGS`."""
    if isinstance(region, _RegionFromSettings):
        from gis.settings import get_settings

        return get_settings().region
    return region


def format_region(region: Region) -> str:
    """``lon_min,lat_min,lon_max,lat_max`` as the setting and ``--region`` spell it (``73.4,3.3,135.2,53.6``)."""
    return ",".join(f"{v:g}" for v in region)


def _coordinate_message(code: str, region: Region | None, where: str) -> str:
    if code == COORD_OUTSIDE_REGION and region is not None:
        return (f"coordinates{where} are outside the expected region {format_region(region)} "
                "(set GRIDGOV_REGION, or --region for one file)")
    return _COORD_MESSAGES.get(code, code) + where


def problems_frame(problems: Iterable[RowProblem]) -> pd.DataFrame:
    """Problems as a DataFrame (columns row, id, rule, message, lon, lat, severity), sorted by row."""
    columns = ["row", "id", "rule", "message", "lon", "lat", "severity"]
    records = [(p.row, p.id, p.rule, p.message, p.lon, p.lat, p.severity) for p in problems]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.sort_values(["row", "rule"], kind="stable").reset_index(drop=True)


def write_problem_report(problems: Iterable[RowProblem], path: str | Path) -> Path:
    """Write problems to ``path``: ``.json`` (list of objects) or ``.csv`` (UTF-8 with BOM for Excel).

    Raises
    ------
    DataSourceError
        For another suffix or when the file cannot be written.
    """
    target = Path(path)
    frame = problems_frame(problems)
    suffix = target.suffix.lower()
    try:
        if suffix == ".json":
            records = [
                {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in rec.items()}
                for rec in frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
            ]
            target.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
        elif suffix == ".csv":
            write_csv(frame, target)
        else:
            raise DataSourceError(f"report file {target.name!r} must end in .csv or .json")
    except OSError as exc:
        if isinstance(exc, DataSourceError):
            raise
        raise DataSourceError(f"cannot write the report {target}: {exc.strerror or exc}") from None
    return target


def text_values(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Values as text (object dtype, ``None`` where missing) and a mask of numeric-typed values.

    Codes and ids must be text (leading zeros). Integral floats (``7001.0``, as a spreadsheet
    or DBF numeric field gives them) become ``"7001"``; the returned mask marks every value
    that came from a numeric column, whose leading zeros may already have been lost.
    """
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
    out = np.full(len(values), None, dtype=object)
    raw = values.to_numpy(dtype=object)
    present = ~pd.isna(values).to_numpy()
    for i in np.flatnonzero(present):  # per value: mixed types cannot be vectorized safely
        value = raw[i]
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        elif isinstance(value, (np.floating,)) and float(value).is_integer():
            text = str(int(value))
        else:
            text = str(value).strip()
        out[i] = text or None
    flags = np.full(len(values), numeric, dtype=bool) & present
    return pd.Series(out, index=values.index, dtype=object), flags


def duplicate_key_problems(keys: pd.Series, *, what: str = "key") -> list[RowProblem]:
    """One problem per row whose non-missing key occurs more than once (every occurrence)."""
    text = keys.astype(object)
    present = text.notna().to_numpy()
    duplicated = text.duplicated(keep=False).to_numpy() & present
    problems = []
    positions = np.flatnonzero(duplicated)
    if len(positions):
        first_rows = pd.Series(np.arange(len(text)))[present].groupby(text[present].to_numpy()).min()
        for pos in positions:
            key = text.iloc[pos]
            problems.append(
                RowProblem(int(pos), str(key), "duplicate_key",
                           f"{what} {key!r} occurs more than once (first at row {int(first_rows[key])})")
            )
    return problems


class DuplicateKeys:
    """:func:`duplicate_key_problems` over a file read in chunks: ``add`` each chunk's keys, then
    ``problems()`` — the same problems (every occurrence, "first at row …") for the whole file.

    Keys are kept as Arrow strings with their rows (~20 bytes per row), not as Python objects.
    """

    def __init__(self, *, what: str = "key") -> None:
        self.what = what
        self._keys: list[Any] = []
        self._rows: list[np.ndarray] = []

    def add(self, keys: Sequence[Any], rows: Sequence[int] | np.ndarray) -> None:
        import pyarrow as pa

        values = pd.Series(list(keys) if not isinstance(keys, pd.Series) else keys, dtype=object)
        self._keys.append(pa.array(values.where(values.notna(), None).astype(object).to_numpy(), type=pa.string(),
                                   from_pandas=True))
        self._rows.append(np.asarray(rows, dtype=np.int64))

    def problems(self) -> list[RowProblem]:
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self._keys:
            return []
        keys = pa.chunked_array(self._keys, type=pa.string())
        counts = pc.value_counts(keys.drop_null())
        values = counts.field("values")
        duplicated = values.filter(pc.greater(counts.field("counts"), 1))
        if not len(duplicated):
            return []
        rows = np.concatenate(self._rows)
        hit = np.asarray(pc.is_in(keys, value_set=duplicated).to_numpy(zero_copy_only=False), dtype=bool)
        positions = np.flatnonzero(hit)
        found = pd.DataFrame({"key": keys.take(pa.array(positions)).to_pylist(), "row": rows[positions]})
        first = found.groupby("key")["row"].min()
        return [RowProblem(int(row), str(key), "duplicate_key",
                           f"{self.what} {key!r} occurs more than once (first at row {int(first[key])})")
                for key, row in zip(found["key"], found["row"])]


def representative_lonlat(geoms: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of a point inside each geometry (NaN where missing/empty), same CRS as input."""
    arr = np.asarray(geoms, dtype=object)
    lon = np.full(len(arr), np.nan)
    lat = np.full(len(arr), np.nan)
    usable = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    if usable.any():
        finite = usable.copy()
        bounds = shapely.bounds(arr[usable])
        finite[np.flatnonzero(usable)] = np.isfinite(bounds).all(axis=1)
        if finite.any():
            points = shapely.point_on_surface(arr[finite])
            lon[finite] = shapely.get_x(points)
            lat[finite] = shapely.get_y(points)
        partial = usable & ~finite
        lon[partial] = np.inf
        lat[partial] = np.inf
    return lon, lat


def coordinate_problems(
    geoms: Sequence[Any] | np.ndarray,
    *,
    keys: Sequence[Any] | None = None,
    region: Region | None | _RegionFromSettings = REGION_FROM_SETTINGS,
    rows: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[RowProblem]]:
    """Check where geometries in EPSG:4490 lie; returns (mask of rejected rows, problems).

    ``region`` is (lon_min, lat_min, lon_max, lat_max) in degrees; default: the
    ``GRIDGOV_REGION`` setting (China's bounds unless configured); ``None`` skips the check.

    Points are checked as they are; other geometries by every vertex's bounding box
    corners. Missing/empty geometries are left to :func:`geometry_problems` (not reported
    here, but flagged in the mask only if their coordinates are non-finite).
    """
    region = resolve_region(region)
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    key_list = list(keys) if keys is not None else [None] * n
    row_list = list(rows) if rows is not None else list(range(n))
    present = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    codes = np.full(n, "", dtype=object)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if present.any():
        bounds = shapely.bounds(arr[present])
        lower = check_coordinates(bounds[:, 0], bounds[:, 1], region=region)
        upper = check_coordinates(bounds[:, 2], bounds[:, 3], region=region)
        codes[present] = np.where(lower != "", lower, upper)
        lon[present] = bounds[:, 0]
        lat[present] = bounds[:, 1]
    problems = []
    for i in np.flatnonzero(codes != ""):
        code = codes[i]
        where = f" ({lon[i]:.6f}, {lat[i]:.6f})" if np.isfinite(lon[i]) and np.isfinite(lat[i]) else ""
        problems.append(
            RowProblem(int(row_list[i]), None if key_list[i] is None else str(key_list[i]), code,
                       _coordinate_message(code, region, where),
                       _finite_or_none(lon[i]), _finite_or_none(lat[i]))
        )
    return codes != "", problems


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def geometry_problems(
    geoms: Sequence[Any] | np.ndarray,
    *,
    expected: Sequence[str],
    keys: Sequence[Any] | None = None,
    fix: bool = False,
    rows: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[RowProblem]]:
    """Missing, empty, wrong-type and (unless ``fix``) invalid geometries; (rejected mask, problems).

    ``expected`` lists acceptable geometry type names (e.g. ``("Point",)`` or
    ``("Polygon", "MultiPolygon")``). With ``fix`` invalid geometries are not rejected here
    (:func:`prepare_polygons` repairs them and reports the repair as a warning).
    """
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    key_list = list(keys) if keys is not None else [None] * n
    row_list = list(rows) if rows is not None else list(range(n))
    missing = shapely.is_missing(arr)
    empty = ~missing & shapely.is_empty(arr)
    type_names = np.array([g.geom_type if g is not None else "" for g in arr], dtype=object)
    wrong = ~missing & ~empty & ~np.isin(type_names, list(expected))
    reasons = explain_invalid(arr)
    invalid = ~missing & ~empty & ~wrong & (reasons != None)  # noqa: E711
    problems: list[RowProblem] = []
    for i in np.flatnonzero(missing | empty | wrong | invalid):
        key = None if key_list[i] is None else str(key_list[i])
        if missing[i]:
            problems.append(RowProblem(int(row_list[i]), key, "missing_geometry", "the row has no geometry"))
        elif empty[i]:
            problems.append(RowProblem(int(row_list[i]), key, "empty_geometry", "the geometry is empty"))
        elif wrong[i]:
            problems.append(
                RowProblem(int(row_list[i]), key, "wrong_geometry_type",
                           f"geometry is a {type_names[i]}, expected {' or '.join(expected)}")
            )
        elif not fix:
            lon, lat = representative_lonlat(arr[i : i + 1])
            problems.append(
                RowProblem(int(row_list[i]), key, "invalid_geometry",
                           f"invalid geometry: {reasons[i]} (use --fix to repair with make_valid)",
                           _finite_or_none(lon[0]), _finite_or_none(lat[0]))
            )
    rejected = missing | empty | wrong | (invalid & (not fix))
    return rejected, problems


def prepare_polygons(
    geoms: Sequence[Any] | np.ndarray,
    *,
    fix: bool = False,
    keys: Sequence[Any] | None = None,
    rows: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[RowProblem]]:
    """Normalize polygons already accepted by :func:`geometry_problems` (EPSG:4490 degrees).

    Uses :func:`gis.geometry.normalize_polygons` (make_valid when ``fix``, 1e-7° precision
    grid, MultiPolygon, empty parts dropped); every repair becomes a :data:`WARNING`
    problem, and a geometry that became empty an :data:`ERROR`.
    """
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    key_list = list(keys) if keys is not None else [None] * n
    row_list = list(rows) if rows is not None else list(range(n))
    result = normalize_polygons(arr, fix=fix)
    problems = []
    for repair in result.repairs:
        i = repair.index
        severity = ERROR if repair.kind == "became_empty" else WARNING
        problems.append(
            RowProblem(int(row_list[i]), None if key_list[i] is None else str(key_list[i]),
                       repair.kind, repair.detail, severity=severity)
        )
    return np.asarray(result.geometries, dtype=object), problems
