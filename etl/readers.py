"""Domain-aware readers: grids, households, incidents and staff from user files.

Each reader reads with :func:`gis.io.read_vector` / :func:`gis.io.read_table`, recognises
the columns it needs by common English and Chinese names when they are not given,
converts geometries to EPSG:4490 (:func:`gis.crs.to_storage_crs`), validates every row and
returns ``(frame, problems)``: the frame holds only the accepted rows (the original row
position is kept in the index), ``problems`` is the list of every
:class:`~etl.transform.RowProblem` found (duplicate keys, missing/swapped/out-of-range
coordinates, empty/wrong-type/invalid geometry, bad codes ...). Nothing is raised per row;
file-level problems raise :class:`~gis.errors.DataSourceError`.

Codes and keys are always text (leading zeros survive).

Plausibility (:mod:`gis.plausibility`, bounds from :mod:`governance.plausibility` and the
settings): every stored text column is refused with the row and column named when it holds a
control character (a NUL byte, ...) or is longer than its kind allows; a household's members
outside 1–50 and an incident reported (or closed) in the future or before
``GRIDGOV_EARLIEST_DATE`` refuse the row; a polygon with more than ``GRIDGOV_MAX_VERTICES``
vertices is refused before any validation. Z/M coordinates are dropped with one warning.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd

from boundaries.coding import CodeScheme, default_scheme
from gis.crs import STORAGE_EPSG, to_storage_crs
from gis.errors import CRSError, DataSourceError
from gis.io import read_table, read_vector
from gis.plausibility import Limits, moment_problems, range_problems, text_problems, vertex_problems
from governance.deadlines import DeadlinePolicy
from governance.plausibility import MEMBERS_RANGE, text_kind
from governance.roster import ROSTER_COLUMNS, check_roster, normalize_phone
from governance.vocab import DISPOSITION_TERMS, INCIDENT_CATEGORY_TERMS, INCIDENT_STATUS_TERMS, SPECIAL_KIND_WORDS
from etl.sheets import unquote_text
from etl.transform import (
    ERROR,
    REGION_FROM_SETTINGS,
    WARNING,
    Region,
    RowProblem,
    DuplicateKeys,
    coordinate_problems,
    duplicate_key_problems,
    geometry_problems,
    prepare_polygons,
    representative_lonlat,
    text_values,
)

__all__ = [
    "FIELD_NAMES",
    "SPECIAL_KINDS",
    "find_field",
    "read_grids",
    "read_households",
    "read_incidents",
    "iter_households",
    "RowChunks",
    "read_staff",
    "read_point_coordinates",
    "read_cameras",
]

logger = logging.getLogger(__name__)

#: Recognised column names per role (compared lower-cased, trimmed, without "(...)" notes).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "code": ("code", "grid_code", "gridcode", "网格编码", "网格代码", "网格编号", "编码", "代码"),
    "level": ("level", "grid_level", "网格层级", "层级", "级别"),
    "parent": ("parent_code", "parent", "上级编码", "上级网格编码", "上级代码", "父编码", "父级编码"),
    "name": ("name", "grid_name", "网格名称", "名称", "名字"),
    "household_key": ("household_id", "household_key", "household", "户编号", "户号", "户籍编号", "id", "编号"),
    "address": ("address", "addr", "地址", "住址", "家庭住址", "详细地址", "事发地址", "事发地点"),
    "members": ("members", "population", "persons", "人口", "人数", "家庭人口", "户人数", "人口数"),
    "building_no": ("building_no", "building", "楼栋", "楼号", "栋号"),
    "house_no": ("house_no", "room", "门牌号", "房号", "门牌"),
    "special": ("special_kinds", "special", "特殊人群", "特殊群体", "人群类别", "重点人群"),
    "incident_key": ("incident_id", "incident_key", "事件编号", "工单号", "编号", "id"),
    "reported_at": ("reported_at", "report_time", "time", "上报时间", "发生时间", "时间", "日期"),
    "category": ("category", "type", "类别", "事件类别", "事件类型", "类型"),
    "description": ("description", "desc", "描述", "事件描述", "内容", "详情"),
    "status": ("status", "state", "状态", "处理状态"),
    "closed_at": ("closed_at", "close_time", "closed", "办结时间", "结案时间", "关闭时间", "完成时间"),
    "disposition": ("disposition", "处置方式", "处置类型", "办理方式"),
    "deadline": ("deadline", "due", "办理时限", "截止时间", "期限"),
    "staff_key": ("staff_id", "staff_key", "工号", "人员编号", "编号", "id"),
    "staff_name": ("name", "姓名", "名字"),
    "phone": ("phone", "mobile", "tel", "电话", "手机", "手机号", "联系电话"),
    "role": ("role", "角色", "岗位", "职务", "职责"),
    "grid_code": ("grid_code", "网格编码", "网格代码", "网格编号", "所属网格", "code"),
    "organisation": ("organisation", "organization", "单位", "所属单位", "部门"),
    "start_date": ("start_date", "start", "开始日期", "起始日期", "任职日期", "上岗日期"),
    "end_date": ("end_date", "end", "结束日期", "截止日期", "离岗日期"),
    "assignment_building": ("building_no", "building", "楼栋号", "楼栋", "楼号", "栋号"),
    "camera_key": ("camera_key", "camera_id", "id", "设备编号", "点位编号", "摄像机编号", "摄像头编号", "编号"),
    "camera_name": ("name", "camera_name", "点位名称", "设备名称", "名称"),
    "camera_type": ("type", "camera_type", "设备类型", "摄像机类型", "类型"),
    "camera_status": ("status", "camera_status", "设备状态", "在线状态", "状态"),
    "stream_url": ("stream_url", "stream", "url", "rtsp", "视频流地址", "取流地址", "流地址", "视频地址"),
}

#: Special-household kinds by the words that name them (matched as substrings of a 特殊人群 value or of
#: a yes/no column header): the vocabulary's own list.
SPECIAL_KINDS = SPECIAL_KIND_WORDS
_TRUE_TEXT = {"1", "y", "yes", "true", "t", "是", "有", "√", "✓", "x", "●"}
_SPLIT = re.compile(r"[;,，、；/|\s]+")

# ---------------------------------------------------------------------------------------
# column recognition
# ---------------------------------------------------------------------------------------
def _normalise(name: object) -> str:
    text = str(name).strip().lower()
    return re.split(r"[(（\[【]", text, maxsplit=1)[0].strip()


def find_field(
    columns: Sequence[object],
    role: str,
    *,
    given: str | None = None,
    required: bool = False,
    source: str = "input",
    exclude: Sequence[str] = (),
) -> str | None:
    """The column playing ``role`` (a key of :data:`FIELD_NAMES`), or ``None``.

    ``given`` (a ``--*-field`` option) must exist. With ``required`` a missing column is a
    :class:`DataSourceError` naming the columns found and the names looked for.
    """
    names = [str(c) for c in columns]
    if given is not None:
        if given not in names:
            raise DataSourceError(f"{source}: has no column {given!r}; its columns are {names}", code="file.column_not_found", params={"file": source, "column": given})
        return given
    normalised: dict[str, str] = {}
    for column in names:
        if column in exclude:
            continue
        normalised.setdefault(_normalise(column), column)
    for candidate in FIELD_NAMES[role]:
        if candidate in normalised:
            return normalised[candidate]
    if required:
        raise DataSourceError(
            f"{source}: no {role.replace('_', ' ')} column among {names}; expected one of "
            f"{list(FIELD_NAMES[role])} or name it with --{role.replace('_', '-')}-field", code="file.column_missing", params={"file": source, "field": role}
        )
    return None


def _column_text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values, _ = text_values(frame[column])
    return values


def _to_storage(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    try:
        return to_storage_crs(frame)
    except CRSError as exc:
        raise DataSourceError(f"{source}: {exc}", code="file.crs", params={"file": source}) from None


def _keys_list(keys: pd.Series) -> list[str | None]:
    return [None if v is None else str(v) for v in keys.to_numpy(dtype=object)]


def _point_lonlat(problems: list[RowProblem], geoms: np.ndarray) -> list[RowProblem]:
    """Fill lon/lat of problems that lack them from the row's geometry (EPSG:4490)."""
    lon, lat = representative_lonlat(geoms)
    out = []
    for p in problems:
        if p.lon is None and 0 <= p.row < len(geoms) and np.isfinite(lon[p.row]) and np.isfinite(lat[p.row]):
            p = RowProblem(p.row, p.key, p.rule, p.message, float(lon[p.row]), float(lat[p.row]), p.severity)
        out.append(p)
    return out


def _object(values: Any) -> pd.Series:
    """Text column with ``None`` for missing (object dtype: pandas' string dtype would use NaN)."""
    return pd.Series(list(values), dtype=object)


def _rejected_rows(problems: Sequence[RowProblem]) -> np.ndarray:
    return np.array(sorted({p.row for p in problems if p.severity == ERROR}), dtype=int)


def _text_checks(frame: pd.DataFrame, columns: dict[str, str | None], keys: Sequence[Any]) -> list[RowProblem]:
    """Control characters and lengths of every stored text column (``{role: file column}``)."""
    problems: list[RowProblem] = []
    for role, column in columns.items():
        if column is None or column not in frame.columns:
            continue
        values = frame[column].to_numpy(dtype=object)
        texts = [v if isinstance(v, str) else (None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
                 for v in values]
        _, found = text_problems(texts, column=str(column), kind=text_kind(role), keys=keys)
        problems += found
    return problems


def _limit_vertices(geoms: np.ndarray, keys: Sequence[Any], limits: Limits) -> tuple[np.ndarray, list[RowProblem]]:
    """Refuse geometries with too many vertices, before any other geometry work; returns the geometries
    with those rows emptied (``None``) and the problems."""
    bad, problems = vertex_problems(geoms, limit=limits.max_vertices, keys=keys)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = None
    return geoms, problems


def _dimension_warning(frame: gpd.GeoDataFrame, keys: Sequence[Any]) -> list[RowProblem]:
    """One warning when Z/M coordinates were dropped (GridGov stores 2-D geometries)."""
    dropped = frame.attrs.get("dropped_dimensions")
    rows = frame.attrs.get("dropped_dimension_rows") or []
    if not dropped or not rows:
        return []
    first = int(rows[0])
    return [RowProblem(first, None if first >= len(keys) or keys[first] is None else str(keys[first]),
                       "dropped_dimensions",
                       f"{len(rows):,} feature(s) had {' and '.join(dropped)} coordinates; they were dropped "
                       "(GridGov stores 2-D geometries)", severity=WARNING)]


# ---------------------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------------------
def read_grids(
    path: str | Path,
    *,
    layer: str | None = None,
    code_field: str | None = None,
    level_field: str | None = None,
    parent_field: str | None = None,
    name_field: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
    fix: bool = False,
    scheme: CodeScheme | None = None,
    region: Region | None = REGION_FROM_SETTINGS,
) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """Read grid polygons.

    Returns
    -------
    (grids, problems)
        ``grids``: GeoDataFrame with columns ``code`` (str), ``level`` (int), ``parent_code``
        (str or None), ``name`` (str), ``geometry`` (MultiPolygon, EPSG:4490 degrees), only
        accepted rows, indexed by the row's position in the file. ``problems``: every
        :class:`RowProblem` (rules: ``missing_code``, ``invalid_code``, ``numeric_code``
        (warning), ``level_mismatch``, ``parent_mismatch``, ``duplicate_key``,
        ``missing_geometry``, ``empty_geometry``, ``wrong_geometry_type``,
        ``invalid_geometry`` (unless ``fix``), coordinate rules, repairs as warnings).

    ``level`` and ``parent_code`` are derived from the code with ``scheme`` (default: the
    configured :func:`~boundaries.coding.default_scheme`) when the file has no such columns;
    when it has them they must agree with the code.
    """
    scheme = scheme or default_scheme()
    source = Path(path).name
    raw = read_vector(path, layer=layer, encoding=encoding, crs=crs)
    columns = [c for c in raw.columns if c != raw.geometry.name]
    code_col = find_field(columns, "code", given=code_field, required=True, source=source)
    level_col = find_field(columns, "level", given=level_field, source=source)
    parent_col = find_field(columns, "parent", given=parent_field, source=source, exclude=[code_col])
    name_col = find_field(columns, "name", given=name_field, source=source)

    limits = Limits.from_settings()
    raw_keys = _keys_list(text_values(raw[code_col])[0])
    raw_geoms, problems = _limit_vertices(np.asarray(raw.geometry.values, dtype=object), raw_keys, limits)
    if problems:
        raw = raw.set_geometry(gpd.GeoSeries(raw_geoms, index=raw.index, crs=raw.crs))
    frame = _to_storage(raw, source)
    codes, numeric = text_values(frame[code_col])
    keys = _keys_list(codes)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems += _dimension_warning(raw, keys)
    problems += _text_checks(frame, {"code": code_col, "name": name_col}, keys)
    too_big = {p.row for p in problems if p.rule == "too_many_vertices"}

    for i in np.flatnonzero(numeric & codes.notna().to_numpy()):
        problems.append(
            RowProblem(int(i), keys[i], "numeric_code",
                       f"code column {code_col!r} is numeric; leading zeros may have been lost (store codes as text)",
                       severity=WARNING)
        )
    levels = np.zeros(len(frame), dtype=int)
    parents: list[str | None] = [None] * len(frame)
    given_levels = _column_text(frame, level_col) if level_col else None
    given_parents = _column_text(frame, parent_col) if parent_col else None
    for i, code in enumerate(keys):  # CodeScheme parses one code at a time
        if code is None:
            problems.append(RowProblem(i, None, "missing_code", f"column {code_col!r} is empty"))
            continue
        if not scheme.is_valid(code):
            problems.append(
                RowProblem(i, code, "invalid_code",
                           f"code {code!r} does not follow the code scheme (digits per level {list(scheme.widths)})")
            )
            continue
        levels[i] = scheme.level_of(code)
        parents[i] = scheme.parent_of(code)
        if given_levels is not None and given_levels.iloc[i] is not None:
            if given_levels.iloc[i] != str(levels[i]):
                problems.append(
                    RowProblem(i, code, "level_mismatch",
                               f"level {given_levels.iloc[i]!r} disagrees with code {code!r} (level {levels[i]})")
                )
        if given_parents is not None and (given_parents.iloc[i] or None) != parents[i]:
            problems.append(
                RowProblem(i, code, "parent_mismatch",
                           f"parent {given_parents.iloc[i]!r} disagrees with code {code!r} (parent {parents[i]!r})")
            )
    problems += duplicate_key_problems(codes, what="code")

    rejected_geom, geom_problems = geometry_problems(geoms, expected=("Polygon", "MultiPolygon"), keys=keys, fix=fix)
    problems += [p for p in geom_problems if not (p.row in too_big and p.rule == "missing_geometry")]
    usable = ~rejected_geom
    bad_coords, coord_problems = coordinate_problems(
        np.where(usable, geoms, None), keys=keys, region=region
    )
    problems += coord_problems
    usable &= ~bad_coords
    prepared = np.full(len(frame), None, dtype=object)
    if usable.any():
        idx = np.flatnonzero(usable)
        normalised, repair_problems = prepare_polygons(geoms[idx], fix=fix, keys=[keys[i] for i in idx], rows=idx)
        prepared[idx] = normalised
        problems += repair_problems
    problems = _point_lonlat(problems, geoms)

    names = _column_text(frame, name_col) if name_col else pd.Series([None] * len(frame), dtype=object)
    grids = gpd.GeoDataFrame(
        {
            "code": _object(codes.to_numpy(dtype=object)),
            "level": levels,
            "parent_code": _object(parents),
            "name": _object(n if n is not None else (c or "") for n, c in zip(names.to_numpy(dtype=object), keys)),
        },
        geometry=gpd.GeoSeries(prepared, crs=STORAGE_EPSG).values,
        crs=STORAGE_EPSG,
    )
    grids = grids.drop(index=_rejected_rows(problems))
    logger.info("%s: %d grids accepted, %d problems", source, len(grids), len(problems))
    return grids, problems


# ---------------------------------------------------------------------------------------
# points: households, incidents
# ---------------------------------------------------------------------------------------
def _read_points(
    path: str | Path,
    *,
    key_role: str,
    key_field: str | None,
    x_field: str | None,
    y_field: str | None,
    crs: object | None,
    encoding: str | None,
    layer: str | None,
    region: Region | None,
    key_required: bool = True,
) -> tuple[gpd.GeoDataFrame, str, str | None, list[str | None], list[RowProblem]]:
    raw = read_vector(path, layer=layer, encoding=encoding, crs=crs, x_field=x_field, y_field=y_field)
    return _points_from(raw, Path(path), key_role=key_role, key_field=key_field, region=region,
                        key_required=key_required)


def _points_from(
    raw: gpd.GeoDataFrame,
    path: Path,
    *,
    key_role: str,
    key_field: str | None,
    region: Region | None,
    key_required: bool = True,
    check_duplicates: bool = True,
    keys_out: list | None = None,
) -> tuple[gpd.GeoDataFrame, str, str | None, list[str | None], list[RowProblem]]:
    """The point checks of one frame as read (positions 0..n-1; the caller shifts chunks).

    Without ``check_duplicates`` the keys are appended to ``keys_out`` instead (the chunked reader
    checks duplicates over the whole file).
    """
    source = path.name
    raw = raw.reset_index(drop=True)
    columns = [c for c in raw.columns if c != raw.geometry.name]
    key_col = find_field(columns, key_role, given=key_field, required=key_required, source=source)
    raw_keys = _keys_list(_column_text(raw, key_col))
    raw_geoms, problems = _limit_vertices(np.asarray(raw.geometry.values, dtype=object), raw_keys,
                                          Limits.from_settings())
    if problems:
        raw = raw.set_geometry(gpd.GeoSeries(raw_geoms, index=raw.index, crs=raw.crs))
    frame = _to_storage(raw, source)
    keys_series = _column_text(frame, key_col)
    keys = _keys_list(keys_series)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems += _dimension_warning(raw, keys)
    too_big = {p.row for p in problems}
    if key_col is not None:
        if key_required:  # incidents may lack a key (they are then always inserted)
            for i in np.flatnonzero(keys_series.isna().to_numpy()):
                problems.append(RowProblem(int(i), None, "missing_key", f"column {key_col!r} is empty"))
        if check_duplicates:
            problems += duplicate_key_problems(keys_series, what=key_role.replace("_", " "))
        elif keys_out is not None:
            keys_out.extend(keys)
    rejected, geom_problems = geometry_problems(geoms, expected=("Point",), keys=keys)
    is_table = path.suffix.lower() in {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls"}
    for p in geom_problems:  # a table row without coordinates reads as a missing geometry
        if p.rule == "missing_geometry" and p.row in too_big:
            continue
        if p.rule == "missing_geometry" and is_table:
            p = RowProblem(p.row, p.key, "missing_coordinates", "coordinates are missing or not numbers")
        problems.append(p)
    _, coord_problems = coordinate_problems(np.where(~rejected, geoms, None), keys=keys, region=region)
    problems += coord_problems
    return frame, source, key_col, keys, problems


def _kinds_in(text: str) -> list[str]:
    return [kind for kind, words in SPECIAL_KINDS.items() if any(word in text for word in words)]


def _special_kinds(
    frame: pd.DataFrame, special_col: str | None, keys: list[str | None]
) -> tuple[list[list[str]], list[RowProblem]]:
    kinds: list[list[str]] = [[] for _ in range(len(frame))]
    problems: list[RowProblem] = []
    if special_col is not None:
        for i, value in enumerate(_column_text(frame, special_col).to_numpy(dtype=object)):
            if value is None or str(value).strip() in {"", "无", "否", "-", "none"}:
                continue
            for part in (p for p in _SPLIT.split(str(value).strip()) if p):
                found = _kinds_in(part.lower())
                if not found:
                    problems.append(
                        RowProblem(i, keys[i], "unknown_special_kind",
                                   f"special group {part!r} is not one of {sorted(SPECIAL_KINDS)} "
                                   "(空巢/独居, 残疾, 留守, 困难/低保); ignored", severity=WARNING)
                    )
                kinds[i].extend(found)
    for column in frame.columns:
        found = _kinds_in(str(column))
        if not found or column == special_col or column == frame.geometry.name:
            continue
        for i, value in enumerate(frame[column].to_numpy(dtype=object)):
            if value is not None and str(value).strip().lower() in _TRUE_TEXT:
                kinds[i].extend(found)
    return [sorted(dict.fromkeys(k)) for k in kinds], problems


def read_households(
    path: str | Path,
    *,
    id_field: str | None = None,
    address_field: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    members_field: str | None = None,
    special_field: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    region: Region | None = REGION_FROM_SETTINGS,
) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """Read household points.

    Returns ``(households, problems)``; ``households`` has ``household_key`` (str),
    ``address`` (str), ``building_no``, ``house_no`` (str or None), ``members`` (int ≥ 1,
    default 1), ``special_kinds`` (list of ``empty_nest``/``disabled``/``left_behind_child``/
    ``hardship``, from a 特殊人群 column split on 、,; or from yes/是/1 columns whose header
    names a kind, such as 空巢老人/残疾/留守儿童/低保) and ``geometry`` (Point, EPSG:4490).
    """
    raw = read_vector(path, layer=layer, encoding=encoding, crs=crs, x_field=x_field, y_field=y_field)
    return _households_from(raw, Path(path), id_field=id_field, address_field=address_field,
                            members_field=members_field, special_field=special_field, region=region)


def _households_from(
    raw: gpd.GeoDataFrame,
    path: Path,
    *,
    id_field: str | None,
    address_field: str | None,
    members_field: str | None,
    special_field: str | None,
    region: Region | None,
    check_duplicates: bool = True,
    keys_out: list | None = None,
) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """:func:`read_households` on one frame as read (a whole file, or one chunk of it)."""
    frame, source, key_col, keys, problems = _points_from(
        raw, path, key_role="household_key", key_field=id_field, region=region, check_duplicates=check_duplicates,
        keys_out=keys_out)
    columns = list(frame.columns)
    address_col = find_field(columns, "address", given=address_field, source=source)
    members_col = find_field(columns, "members", given=members_field, source=source)
    special_col = find_field(columns, "special", given=special_field, source=source)
    building_col = find_field(columns, "building_no", source=source)
    house_col = find_field(columns, "house_no", source=source)

    problems += _text_checks(frame, {"household_key": key_col, "address": address_col, "building_no": building_col,
                                     "house_no": house_col, "special": special_col}, keys)
    members = np.ones(len(frame), dtype=int)
    if members_col is not None:
        # an empty cell means 1; anything given must be a whole number 1–50, else the row is refused
        given_text = _column_text(frame, members_col)
        values = pd.to_numeric(given_text.astype("string"), errors="coerce")
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        low, high = MEMBERS_RANGE
        bad, member_problems = range_problems(numbers, column=str(members_col), low=low, high=high, keys=keys,
                                              raw=given_text.to_numpy(dtype=object), rule="bad_members",
                                              unit="people")
        problems += member_problems
        ok = np.isfinite(numbers) & ~bad
        members[ok] = numbers[ok].astype(int)
    special_kinds, kind_problems = _special_kinds(frame, special_col, keys)
    problems += kind_problems
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems = _point_lonlat(problems, geoms)
    households = gpd.GeoDataFrame(
        {
            "household_key": _object(keys),
            "address": _object(a or "" for a in _column_text(frame, address_col).to_numpy(dtype=object)),
            "building_no": _object(_column_text(frame, building_col).to_numpy(dtype=object)),
            "house_no": _object(_column_text(frame, house_col).to_numpy(dtype=object)),
            "members": members,
            "special_kinds": _object(special_kinds),
        },
        geometry=gpd.GeoSeries(geoms, crs=STORAGE_EPSG).values,
        crs=STORAGE_EPSG,
    )
    households = households.drop(index=_rejected_rows(problems))
    logger.info("%s: %d households accepted, %d problems", source, len(households), len(problems))
    return households, problems


class RowChunks:
    """A file's rows read, validated and transformed one chunk at a time (:func:`iter_households`,
    :func:`iter_incidents`): iterate for ``(frame, problems)``, as the whole-file reader returns
    them for those rows (frame indexed by the rows' positions in the file, problems naming them);
    after the last chunk, :meth:`final_problems` gives what only the whole file tells — duplicate
    keys (every occurrence, as :func:`etl.transform.duplicate_key_problems` reports them).
    ``total`` is the number of rows when known (or estimated) before reading.
    """

    def __init__(self, chunks: Any, convert: Any, *, what: str) -> None:
        self._chunks = chunks
        self._convert = convert
        self._duplicates = DuplicateKeys(what=what)
        self.total = chunks.total
        self.name = chunks.name

    def __iter__(self):
        from dataclasses import replace

        for raw in self._chunks:
            start = int(raw.index[0]) if len(raw) else 0
            keys: list[Any] = []
            frame, problems = self._convert(raw, keys)
            if keys:
                self._duplicates.add(keys, np.arange(start, start + len(keys)))
            if start:
                frame.index = frame.index + start
                problems = [replace(p, row=p.row + start) for p in problems]
            yield frame, problems

    def final_problems(self) -> list[RowProblem]:
        return self._duplicates.problems()


def iter_households(
    path: str | Path,
    *,
    id_field: str | None = None,
    address_field: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    members_field: str | None = None,
    special_field: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    region: Region | None = REGION_FROM_SETTINGS,
    chunk_rows: int | None = None,
) -> RowChunks:
    """:func:`read_households` in chunks (:func:`gis.io.iter_vector`), for files of millions of rows."""
    from gis.io import CHUNK_ROWS, iter_vector

    chunks = iter_vector(path, chunk_rows=chunk_rows or CHUNK_ROWS, layer=layer, encoding=encoding, crs=crs,
                         x_field=x_field, y_field=y_field)
    return RowChunks(chunks, lambda raw, keys: _households_from(
        raw, Path(path), id_field=id_field, address_field=address_field, members_field=members_field,
        special_field=special_field, region=region, check_duplicates=False, keys_out=keys), what="household key")


def _parse_times(values: pd.Series, *, timezone: str) -> tuple[pd.Series, np.ndarray]:
    """Parse text times one by one (offsets may differ per row); naive times are in ``timezone``."""
    parsed: list[pd.Timestamp | None] = []
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values.to_numpy(dtype=object)):
        if value is None:
            parsed.append(None)
            continue
        try:
            stamp = pd.Timestamp(str(value).strip())
        except (ValueError, TypeError, OverflowError):
            stamp = pd.NaT
        if pd.isna(stamp):
            bad[i] = True
            parsed.append(None)
            continue
        stamp = stamp.tz_localize(timezone) if stamp.tzinfo is None else stamp.tz_convert(timezone)
        parsed.append(stamp)
    series = pd.Series(pd.DatetimeIndex(parsed, dtype=f"datetime64[ns, {timezone}]"), index=values.index)
    return series, bad


def _closing(
    frame: pd.DataFrame,
    keys: list[str | None],
    statuses: list[str],
    reported: pd.Series,
    *,
    closed_col: str | None,
    disposition_col: str | None,
    deadline_col: str | None,
    timezone: str,
    limits: Limits,
) -> tuple[pd.Series, pd.Series, list[str | None], list[RowProblem]]:
    """Closing time, deadline and disposition of imported incidents, with their problems.

    A closed incident needs its closing time (not before it was reported, not in the future);
    one that is not closed has none. A disposition (code or zh/en label) sets the deadline by
    :class:`governance.deadlines.DeadlinePolicy` from the report time unless a deadline is given.
    """
    problems: list[RowProblem] = []
    n = len(frame)
    empty = pd.Series(pd.DatetimeIndex([pd.NaT] * n, dtype=f"datetime64[ns, {timezone}]"), index=frame.index)
    closed, bad_closed = (_parse_times(_column_text(frame, closed_col), timezone=timezone) if closed_col
                          else (empty, np.zeros(n, dtype=bool)))
    deadline, bad_deadline = (_parse_times(_column_text(frame, deadline_col), timezone=timezone) if deadline_col
                              else (empty.copy(), np.zeros(n, dtype=bool)))
    raw_closed = _column_text(frame, closed_col)
    raw_deadline = _column_text(frame, deadline_col)
    for i in np.flatnonzero(bad_closed):
        problems.append(RowProblem(int(i), keys[i], "bad_time", f"closing time {raw_closed.iloc[i]!r} is not a date/time"))
    for i in np.flatnonzero(bad_deadline):
        problems.append(RowProblem(int(i), keys[i], "bad_time", f"deadline {raw_deadline.iloc[i]!r} is not a date/time"))
    if closed_col:
        problems += moment_problems(closed, column=str(closed_col), keys=keys, limits=limits)[1]
    is_closed = np.array([s == "closed" for s in statuses], dtype=bool)
    has_closed = closed.notna().to_numpy()
    for i in np.flatnonzero(is_closed & ~has_closed & ~bad_closed):
        problems.append(RowProblem(
            int(i), keys[i], "closed_without_closing_time",
            "the incident is closed but has no closing time; add a closed_at (办结时间) column, or import it with "
            "its open status"))
    for i in np.flatnonzero(~is_closed & has_closed):
        problems.append(RowProblem(
            int(i), keys[i], "closing_time_not_closed",
            f"the incident has a closing time ({closed.iloc[i].isoformat()}) but its status is {statuses[i]!r}, "
            "not closed"))
    early = has_closed & reported.notna().to_numpy() & (closed < reported).fillna(False).to_numpy(dtype=bool)
    for i in np.flatnonzero(early):
        problems.append(RowProblem(
            int(i), keys[i], "closed_before_reported",
            f"closing time {closed.iloc[i].isoformat()} is before the report time {reported.iloc[i].isoformat()}"))
    dispositions: list[str | None] = [None] * n
    policy = DeadlinePolicy.from_settings()
    for i, value in enumerate(_column_text(frame, disposition_col).to_numpy(dtype=object)):
        if value is None:
            continue
        code = DISPOSITION_TERMS.parse(value)
        if code is None:
            problems.append(RowProblem(i, keys[i], "unknown_disposition",
                                       f"disposition {value!r} is not one of {DISPOSITION_TERMS.accepted()}"))
            continue
        dispositions[i] = code
        if pd.isna(deadline.iloc[i]) and not pd.isna(reported.iloc[i]) and code in policy.days:
            deadline.iloc[i] = pd.Timestamp(policy.deadline_for(code, reported.iloc[i].to_pydatetime()))
    return closed, deadline, dispositions, problems


def read_incidents(
    path: str | Path,
    *,
    id_field: str | None = None,
    reported_at_field: str | None = None,
    category_field: str | None = None,
    description_field: str | None = None,
    status_field: str | None = None,
    address_field: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    timezone: str = "Asia/Shanghai",
    region: Region | None = REGION_FROM_SETTINGS,
) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """Read incident points.

    Returns ``(incidents, problems)``; ``incidents`` has ``incident_key`` (str or None),
    ``reported_at`` (tz-aware; naive times are in ``timezone``), ``category``,
    ``description``, ``status`` (an ``incidents.status`` code; Chinese
    labels mapped by :data:`governance.vocab.INCIDENT_STATUS_TERMS`), ``address`` and ``geometry`` (Point, EPSG:4490). A missing or
    unparsable report time or a missing category rejects the row.
    """
    raw = read_vector(path, layer=layer, encoding=encoding, crs=crs, x_field=x_field, y_field=y_field)
    return _incidents_from(raw, Path(path), id_field=id_field, reported_at_field=reported_at_field,
                           category_field=category_field, description_field=description_field,
                           status_field=status_field, address_field=address_field, timezone=timezone, region=region)


def iter_incidents(
    path: str | Path,
    *,
    id_field: str | None = None,
    reported_at_field: str | None = None,
    category_field: str | None = None,
    description_field: str | None = None,
    status_field: str | None = None,
    address_field: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    timezone: str = "Asia/Shanghai",
    region: Region | None = REGION_FROM_SETTINGS,
    chunk_rows: int | None = None,
) -> RowChunks:
    """:func:`read_incidents` in chunks (:func:`gis.io.iter_vector`), for files of millions of rows."""
    from gis.io import CHUNK_ROWS, iter_vector

    chunks = iter_vector(path, chunk_rows=chunk_rows or CHUNK_ROWS, layer=layer, encoding=encoding, crs=crs,
                         x_field=x_field, y_field=y_field)
    return RowChunks(chunks, lambda raw, keys: _incidents_from(
        raw, Path(path), id_field=id_field, reported_at_field=reported_at_field, category_field=category_field,
        description_field=description_field, status_field=status_field, address_field=address_field,
        timezone=timezone, region=region, check_duplicates=False, keys_out=keys), what="incident key")


def _incidents_from(
    raw: gpd.GeoDataFrame,
    path: Path,
    *,
    id_field: str | None,
    reported_at_field: str | None,
    category_field: str | None,
    description_field: str | None,
    status_field: str | None,
    address_field: str | None,
    timezone: str,
    region: Region | None,
    check_duplicates: bool = True,
    keys_out: list | None = None,
) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """:func:`read_incidents` on one frame as read (a whole file, or one chunk of it)."""
    frame, source, key_col, keys, problems = _points_from(
        raw, path, key_role="incident_key", key_field=id_field, region=region, key_required=False,
        check_duplicates=check_duplicates, keys_out=keys_out)
    columns = list(frame.columns)
    time_col = find_field(columns, "reported_at", given=reported_at_field, required=True, source=source)
    category_col = find_field(columns, "category", given=category_field, required=True, source=source)
    description_col = find_field(columns, "description", given=description_field, source=source)
    status_col = find_field(columns, "status", given=status_field, source=source)
    address_col = find_field(columns, "address", given=address_field, source=source)
    closed_col = find_field(columns, "closed_at", source=source, exclude=[time_col])
    disposition_col = find_field(columns, "disposition", source=source)
    deadline_col = find_field(columns, "deadline", source=source, exclude=[time_col, closed_col or ""])
    problems += _text_checks(frame, {"incident_key": key_col, "category": category_col,
                                     "description": description_col, "status": status_col, "address": address_col,
                                     "disposition": disposition_col}, keys)
    limits = Limits.from_settings()

    times, bad_times = _parse_times(_column_text(frame, time_col), timezone=timezone)
    missing_times = times.isna().to_numpy() & ~bad_times
    raw_times = _column_text(frame, time_col)
    for i in np.flatnonzero(bad_times):
        problems.append(RowProblem(int(i), keys[i], "bad_time", f"report time {raw_times.iloc[i]!r} is not a date/time"))
    for i in np.flatnonzero(missing_times):
        problems.append(RowProblem(int(i), keys[i], "missing_time", f"column {time_col!r} is empty"))
    problems += moment_problems(times, column=str(time_col), keys=keys, limits=limits)[1]
    categories = _column_text(frame, category_col)
    for i in np.flatnonzero(categories.isna().to_numpy()):
        problems.append(RowProblem(int(i), keys[i], "missing_category", f"column {category_col!r} is empty"))
    statuses = []
    for i, value in enumerate(_column_text(frame, status_col).to_numpy(dtype=object)):
        if value is None:
            statuses.append("reported")
            continue
        mapped = INCIDENT_STATUS_TERMS.parse(value)
        if mapped is None:
            problems.append(
                RowProblem(i, keys[i], "unknown_status",
                           f"status {value!r} is not one of {INCIDENT_STATUS_TERMS.accepted()}")
            )
            mapped = "reported"
        statuses.append(mapped)
    closed_at, deadline, dispositions, closing_problems = _closing(
        frame, keys, statuses, times, closed_col=closed_col, disposition_col=disposition_col,
        deadline_col=deadline_col, timezone=timezone, limits=limits)
    problems += closing_problems
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems = _point_lonlat(problems, geoms)
    incidents = gpd.GeoDataFrame(
        {
            "incident_key": _object(keys),
            "reported_at": times.reset_index(drop=True),
            # a category the vocabulary knows (code, zh/en label or alias) is stored as its code;
            # any other text is kept as it is (the catalogue is not closed)
            "category": _object([None if c is None else (INCIDENT_CATEGORY_TERMS.parse(c) or c)
                                 for c in categories.to_numpy(dtype=object)]),
            "description": _object(d or "" for d in _column_text(frame, description_col).to_numpy(dtype=object)),
            "status": _object(statuses),
            "address": _object(a or "" for a in _column_text(frame, address_col).to_numpy(dtype=object)),
            "closed_at": closed_at.reset_index(drop=True),
            "disposition": _object(dispositions),
            "deadline": deadline.reset_index(drop=True),
        },
        geometry=gpd.GeoSeries(geoms, crs=STORAGE_EPSG).values,
        crs=STORAGE_EPSG,
    )
    incidents = incidents.drop(index=_rejected_rows(problems))
    logger.info("%s: %d incidents accepted, %d problems", source, len(incidents), len(problems))
    return incidents, problems


# ---------------------------------------------------------------------------------------
# staff (a plain table)
# ---------------------------------------------------------------------------------------
def read_staff(
    source: str | Path | BinaryIO,
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    phone_field: str | None = None,
    role_field: str | None = None,
    grid_code_field: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    filename: str | None = None,
    scheme: CodeScheme | None = None,
) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Read a staff file (any table the ETL reads: XLSX, CSV, TSV ...; no geometry): the one staff reader.

    One row per assignment (a person on several grids has several rows; a row without role
    and grid code is a person without an assignment). Columns are recognised by their English
    or Chinese names (工号/staff_key, 姓名/name, 电话/phone, 单位/organisation, 网格编码/grid_code,
    角色/role, 开始日期/start_date, 结束日期/end_date, 楼栋号/building_no), so the file written by
    ``gridgov export staff`` reads back unchanged. Without an id column the phone number is the
    staff id. ``source`` may be an open binary file (an upload): ``filename`` (or its ``name``)
    gives the format.

    Returns
    -------
    (staff, problems)
        ``staff`` has :data:`governance.roster.ROSTER_COLUMNS` (text; ``role`` a code of
        :data:`governance.vocab.STAFF_ROLE_TERMS`; dates as ``datetime.date``; a missing
        ``start_date`` means "from the load date"), only rows without errors, indexed by the
        row's position in the file. ``problems``: every :class:`RowProblem` of
        :func:`governance.roster.check_roster` (``unknown_role``, ``staff_name_conflict``,
        ``invalid_code``, ``bad_date`` ... errors; ``bad_phone`` warnings).
    """
    if hasattr(source, "read"):
        name = filename or str(getattr(source, "name", "") or "staff.xlsx")
        with tempfile.TemporaryDirectory(prefix="gridgov-staff-") as tmp:
            spooled = Path(tmp) / Path(name).name
            spooled.write_bytes(source.read())  # type: ignore[union-attr]
            return read_staff(spooled, id_field=id_field, name_field=name_field, phone_field=phone_field,
                              role_field=role_field, grid_code_field=grid_code_field, encoding=encoding,
                              sheet=sheet, scheme=scheme)
    source_name = Path(source).name  # type: ignore[arg-type]
    table = read_table(source, encoding=encoding, sheet=sheet)  # type: ignore[arg-type]
    columns = list(table.columns)
    key_col = find_field(columns, "staff_key", given=id_field, source=source_name)
    name_col = find_field(columns, "staff_name", given=name_field, required=True, source=source_name,
                          exclude=[c for c in (key_col,) if c])
    found = {
        "phone": find_field(columns, "phone", given=phone_field, source=source_name),
        "organisation": find_field(columns, "organisation", source=source_name),
        "grid_code": find_field(columns, "grid_code", given=grid_code_field, source=source_name),
        "role": find_field(columns, "role", given=role_field, source=source_name),
        "start_date": find_field(columns, "start_date", source=source_name),
        "end_date": find_field(columns, "end_date", source=source_name),
        "building_no": find_field(columns, "assignment_building", source=source_name),
    }
    key_values = _keys_list(_column_text(table, key_col)) if key_col else [None] * len(table)
    text_found = _text_checks(table, {"staff_key": key_col, "staff_name": name_col, "phone": found["phone"],
                                      "organisation": found["organisation"], "grid_code": found["grid_code"],
                                      "role": found["role"], "building_no": found["building_no"]}, key_values)
    roster = pd.DataFrame({"name": _column_text(table, name_col)}, index=table.index)
    for column, found_col in found.items():
        roster[column] = _column_text(table, found_col)
    if key_col is not None:
        roster["staff_key"] = _column_text(table, key_col)
    else:  # the phone is the id
        roster["staff_key"] = roster["phone"].map(normalize_phone)
    roster = roster.reindex(columns=list(ROSTER_COLUMNS))
    for column in ("name", "phone", "organisation", "staff_key", "building_no"):  # a CSV GridGov wrote: '=x → =x
        roster[column] = roster[column].map(unquote_text)
    staff, checked = check_roster(roster, scheme=scheme)
    problems = [
        RowProblem(p.row, p.key, p.rule,
                   p.message if p.rule != "missing_key" or key_col else "no staff id column and no phone number",
                   severity=p.severity)
        for p in checked
    ] + text_found
    staff = staff.drop(index=staff.index[_rejected_rows(problems)])
    logger.info("%s: %d staff rows accepted, %d problems", source_name, len(staff), len(problems))
    return staff, problems


def read_point_coordinates(
    path: str | Path, *, chunk_rows: int | None = None, admin_field: str = "admin_code",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Coordinates of a file of points for bulk assignment: ``(lon, lat, admin codes or None)``.

    Read in chunks (:func:`gis.io.iter_vector`: GeoParquet by row batches, large CSV streamed),
    each chunk converted to EPSG:4490 (:func:`gis.crs.to_storage_crs`); lon/lat in degrees, NaN for
    a missing, empty or non-point geometry (which then gets no grid). ``admin_field``: a column of
    administrative codes, returned as text (``None`` where empty) when the file has it.
    Memory: 16 bytes per point plus one chunk (and the codes when present).
    """
    import shapely

    from gis.io import CHUNK_ROWS, iter_vector

    source = Path(path)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    admin: list[np.ndarray] = []
    has_admin = False
    for raw in iter_vector(source, chunk_rows=chunk_rows or CHUNK_ROWS):
        frame = _to_storage(raw, source.name)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        ok = (~(shapely.is_missing(geoms) | shapely.is_empty(geoms))) & (shapely.get_type_id(geoms) == 0)
        x = np.full(len(geoms), np.nan)
        y = np.full(len(geoms), np.nan)
        if ok.any():
            x[ok] = shapely.get_x(geoms[ok])
            y[ok] = shapely.get_y(geoms[ok])
        xs.append(x)
        ys.append(y)
        if admin_field in frame.columns:
            has_admin = True
            values = frame[admin_field].astype(object).to_numpy()
            admin.append(np.array([None if v is None or v != v or str(v).strip() == "" else str(v).strip()
                                   for v in values], dtype=object))
        else:
            admin.append(np.full(len(geoms), None, dtype=object))
    if not xs:
        return np.empty(0), np.empty(0), None
    return np.concatenate(xs), np.concatenate(ys), (np.concatenate(admin) if has_admin else None)
# ---------------------------------------------------------------------------------------
# cameras (雪亮工程)
# ---------------------------------------------------------------------------------------
def read_cameras(
    path: str | Path,
    *,
    id_field: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    region: Region | None = REGION_FROM_SETTINGS,
) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """Read camera points (CSV/XLSX with coordinates, GeoJSON, …) like households.

    Returns ``(cameras, problems)``; ``cameras`` has ``camera_key``, ``name``, ``type`` and
    ``status`` (codes of :data:`governance.vocab.CAMERA_TYPE_TERMS` / ``CAMERA_STATUS_TERMS``, from
    codes, Chinese or English labels), ``stream_url`` (or ``None``) and ``geometry`` (Point,
    EPSG:4490). Every row's problems are collected (:func:`governance.cameras.check_cameras`, the
    coordinate and text checks of every import); rows with an error are left out.
    """
    from governance.cameras import check_cameras

    frame, source, key_col, keys, problems = _read_points(
        path, key_role="camera_key", key_field=id_field, x_field=x_field, y_field=y_field,
        crs=crs, encoding=encoding, layer=layer, region=region,
    )
    columns = [c for c in frame.columns if c != frame.geometry.name]
    name_col = find_field(columns, "camera_name", required=True, source=source, exclude=[key_col or ""])
    type_col = find_field(columns, "camera_type", required=True, source=source, exclude=[key_col or ""])
    status_col = find_field(columns, "camera_status", required=True, source=source, exclude=[key_col or ""])
    url_col = find_field(columns, "stream_url", source=source, exclude=[key_col or ""])
    problems += _text_checks(frame, {"camera_key": key_col, "name": name_col, "kind": type_col, "status": status_col,
                                     "stream_url": url_col}, keys)
    attributes = pd.DataFrame({
        "camera_key": _object(keys),
        "name": _object(_column_text(frame, name_col).to_numpy(dtype=object)),
        "type": _object(_column_text(frame, type_col).to_numpy(dtype=object)),
        "status": _object(_column_text(frame, status_col).to_numpy(dtype=object)),
        "stream_url": _object(_column_text(frame, url_col).to_numpy(dtype=object)),
    })
    checked, found = check_cameras(attributes)
    # the key's presence and uniqueness were checked with the coordinates (_read_points)
    problems += [p for p in found if p.rule not in ("missing_key", "duplicate_key")]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems = _point_lonlat(problems, geoms)
    cameras = gpd.GeoDataFrame(
        checked[["camera_key", "name", "type", "status", "stream_url"]].reset_index(drop=True),
        geometry=gpd.GeoSeries(geoms, crs=STORAGE_EPSG).values,
        crs=STORAGE_EPSG,
    )
    cameras = cameras.drop(index=_rejected_rows(problems))
    logger.info("%s: %d cameras accepted, %d problems", source, len(cameras), len(problems))
    return cameras, problems
