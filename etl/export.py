"""Writing GeoDataFrames to the file formats planners exchange.

:func:`export_frame` writes GeoPackage, GeoJSON, Shapefile, KML, GeoParquet, XLSX and
CSV. Geometries are written in the frame's CRS (EPSG:4490 for GridGov data), except GeoJSON
and KML, which by their specifications are WGS 84 lon/lat (EPSG:4326; CGCS2000 and WGS 84
agree to centimetres). Text is UTF-8 everywhere (Shapefiles get a ``.cpg``; CSV has a BOM
so Excel opens Chinese text correctly).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.crs import DISPLAY_EPSG
from etl.sheets import protect_workbook, write_csv, write_xlsx
from gis.errors import DataSourceError

__all__ = ["FORMATS", "EXPORTABLE", "STAFF_FORMATS", "export_frame", "shapefile_field_names", "query_export",
           "write_staff"]

logger = logging.getLogger(__name__)

#: Output formats by name → (pyogrio driver or writer, default suffix).
FORMATS: dict[str, tuple[str, str]] = {
    "gpkg": ("GPKG", ".gpkg"),
    "geojson": ("GeoJSON", ".geojson"),
    "shp": ("ESRI Shapefile", ".shp"),
    "kml": ("KML", ".kml"),
    "parquet": ("parquet", ".parquet"),
    "xlsx": ("xlsx", ".xlsx"),
    "csv": ("csv", ".csv"),
}
_SUFFIX_FORMATS = {
    ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".shp": "shp", ".kml": "kml",
    ".parquet": "parquet", ".geoparquet": "parquet", ".xlsx": "xlsx", ".csv": "csv",
}


def shapefile_field_names(columns: list[str], *, width: int = 10) -> dict[str, str]:
    """Map column names to unique dBASE field names of at most ``width`` bytes (UTF-8).

    Names that fit are kept; longer ones are cut (on a character boundary) and, when the cut
    collides, end in ``_1``, ``_2`` ... Chinese characters take 3 bytes each in UTF-8.
    """
    mapping: dict[str, str] = {}
    taken: set[str] = set()

    def cut(text: str, limit: int) -> str:
        out = ""
        for ch in text:
            if len((out + ch).encode("utf-8")) > limit:
                break
            out += ch
        return out

    for column in columns:
        name = cut(column, width)
        n = 0
        while name.lower() in taken:
            n += 1
            suffix = f"_{n}"
            name = cut(column, width - len(suffix)) + suffix
        taken.add(name.lower())
        mapping[column] = name
    return mapping


def _plain_attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists/tuples/sets → '、'-joined text, tz-aware datetimes → ISO text (formats without those types)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.map(lambda v: None if pd.isna(v) else v.isoformat())
        elif series.dtype == object:
            sample = series.dropna()
            if len(sample) and sample.map(lambda v: isinstance(v, (list, tuple, set, np.ndarray))).any():
                out[column] = series.map(
                    lambda v: "、".join(map(str, v)) if isinstance(v, (list, tuple, set, np.ndarray)) else v
                )
    return out


def export_frame(
    gdf: gpd.GeoDataFrame,
    out_path: str | Path,
    *,
    format: str | None = None,  # noqa: A002 - the issue's public name
    layer: str | None = None,
) -> Path:
    """Write ``gdf`` to ``out_path`` and return the path written.

    Parameters
    ----------
    gdf:
        Frame with a CRS (EPSG:4490 for GridGov data); not modified.
    out_path:
        Target file; an existing file is replaced (GeoPackage: the layer is replaced).
    format:
        ``gpkg``, ``geojson``, ``shp``, ``kml``, ``parquet``, ``xlsx`` or ``csv``; default
        from the suffix.
    layer:
        Layer name for GeoPackage/KML (default: the file stem).

    Notes
    -----
    * Shapefile: UTF-8 with a ``.cpg``; field names longer than 10 bytes are shortened
      uniquely (see :func:`shapefile_field_names`); one geometry type per file.
    * XLSX/CSV: point layers get ``lon``/``lat`` columns (degrees, 7 decimals ≈ 1 cm),
      other geometries a ``wkt`` column.
    * List columns (e.g. ``special_kinds``) become text joined with ``、`` where the format
      has no list type; tz-aware times become ISO 8601 text in Shapefile/XLSX/CSV.

    Raises
    ------
    DataSourceError
        Unknown format, frame without CRS, or the file cannot be written.
    """
    target = Path(out_path)
    name = (format or _SUFFIX_FORMATS.get(target.suffix.lower(), "")).lower()
    if name not in FORMATS:
        raise DataSourceError(
            f"cannot tell the output format of {target.name!r}; pass format= one of {sorted(FORMATS)} "
            "or use a known suffix"
        )
    if gdf.crs is None:
        raise DataSourceError("the frame to export has no CRS; set it before exporting")
    if not target.parent.exists():
        raise DataSourceError(f"{target.parent}: output directory does not exist")
    layer_name = layer or target.stem
    try:
        if name in {"xlsx", "csv"}:
            _write_table(gdf, target, name)
        elif name == "parquet":
            gdf.to_parquet(target, index=False)
        else:
            _write_ogr(gdf, target, name, layer_name)
    except DataSourceError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            OSError, ValueError, TypeError, RuntimeError) as exc:
        message = " ".join(str(exc).split())[:300]
        raise DataSourceError(f"cannot write {target.name} as {name}: {message}") from None
    logger.info("exported %d rows to %s (%s)", len(gdf), target, name)
    return target


def _write_ogr(gdf: gpd.GeoDataFrame, target: Path, name: str, layer: str) -> None:
    driver = FORMATS[name][0]
    frame = gdf
    if name in {"geojson", "kml"}:
        frame = frame.to_crs(DISPLAY_EPSG)
    if name == "shp":
        types = set(frame.geometry.dropna().geom_type.str.replace("Multi", "", regex=False))
        if len(types) > 1:
            raise DataSourceError(
                f"a Shapefile holds one geometry type but the frame has {sorted(types)}; export to GeoPackage"
            )
        attributes = _plain_attributes(frame.drop(columns=frame.geometry.name))
        mapping = shapefile_field_names([str(c) for c in attributes.columns])
        attributes = attributes.rename(columns=mapping)
        frame = gpd.GeoDataFrame(attributes, geometry=frame.geometry.values, crs=frame.crs)
        for sidecar in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            target.with_suffix(sidecar).unlink(missing_ok=True)
        pyogrio.write_dataframe(frame, target, driver=driver, encoding="UTF-8")
        return
    if name in {"geojson", "kml"}:
        target.unlink(missing_ok=True)
        frame = gpd.GeoDataFrame(
            _plain_attributes(frame.drop(columns=frame.geometry.name)), geometry=frame.geometry.values, crs=frame.crs
        )
    else:  # gpkg: lists are not a GDAL field type
        frame = gpd.GeoDataFrame(
            _plain_attributes(frame.drop(columns=frame.geometry.name)), geometry=frame.geometry.values, crs=frame.crs
        )
    options = {"layer": layer} if name in {"gpkg", "kml"} else {}
    pyogrio.write_dataframe(frame, target, driver=driver, **options)


def _write_table(gdf: gpd.GeoDataFrame, target: Path, name: str) -> None:
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    attributes = _plain_attributes(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    present = ~shapely.is_missing(geoms)
    types = shapely.get_type_id(geoms[present])
    if present.any() and (types == shapely.GeometryType.POINT).all():
        lon = np.full(len(geoms), np.nan)
        lat = np.full(len(geoms), np.nan)
        lon[present] = np.round(shapely.get_x(geoms[present]), 7)
        lat[present] = np.round(shapely.get_y(geoms[present]), 7)
        attributes = attributes.assign(lon=lon, lat=lat)
    else:
        attributes = attributes.assign(wkt=shapely.to_wkt(geoms, rounding_precision=7))
    if name == "csv":
        write_csv(attributes, target)
    else:
        write_xlsx({"Sheet1": attributes}, target)


# ---------------------------------------------------------------------------------------
# what to export: the database side (shared by the CLI and the app)
# ---------------------------------------------------------------------------------------
EXPORTABLE = ("grids", "households", "incidents", "staff", "cameras")

#: Personal-data columns masked unless the export is made ``with_personal_data``.
PERSONAL_COLUMNS = {
    "households": {"householder_name": "name", "householder_id_number": "id_number", "householder_phone": "phone"},
    "incidents": {"reporter_name": "name"},
    "staff": {},
    "grids": {},
    "cameras": {},
}


def query_export(
    db: Any,
    what: str,
    *,
    level: int | None = None,
    as_of: Any = None,
    with_personal_data: bool = False,
    policy: Any = None,
    own_prefixes: Any = (),
) -> pd.DataFrame:
    """The rows to export: a GeoDataFrame in EPSG:4490 (a DataFrame for ``staff``).

    Households and incidents carry their natural key and ``grid_code`` (empty when unassigned).
    Personal data (householder name, ID number and phone; incident reporter) is shown as the
    exporting person sees it on the pages — their role's ``policy`` (:data:`access.permissions.MASKING`),
    ``own_prefixes`` their own grids — or, with no policy, masked for everyone; unmasked only
    ``with_personal_data`` (the service checks the ``export_personal`` permission). ``as_of``
    (tz-aware) exports grids as they were.
    """
    from access.masking import mask_for_viewer, mask_personal_data
    from store.exports import export_rows

    if what not in EXPORTABLE:
        raise ValueError(f"what was {what!r} but is expected to be one of {list(EXPORTABLE)}")
    frame = export_rows(db, what, level=level, as_of=as_of)
    if not with_personal_data and PERSONAL_COLUMNS[what]:
        if policy is None:
            frame = mask_personal_data(frame, PERSONAL_COLUMNS[what])
        else:
            frame, _shown = mask_for_viewer(frame, PERSONAL_COLUMNS[what], policy, own_prefixes=own_prefixes)
    return frame


# ---------------------------------------------------------------------------------------
# staff: a plain table that `gridgov import staff` reads back unchanged
# ---------------------------------------------------------------------------------------
#: Formats a staff table (no geometry) is written in.
STAFF_FORMATS = ("xlsx", "csv")


def _staff_value(column: str, value: Any) -> Any:
    if value is None or (not isinstance(value, (str, dt.date)) and pd.isna(value)):
        return None
    if column in ("start_date", "end_date"):
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else pd.Timestamp(str(value)).date()
    return str(value)


def write_staff(
    staff: pd.DataFrame, target: str | Path | BinaryIO, *, format: str | None = None  # noqa: A002
) -> str | Path | BinaryIO:
    """Write a roster frame (:data:`governance.roster.ROSTER_COLUMNS`, extra columns dropped) as XLSX or CSV.

    The headers are the column keys and roles their codes, so :func:`etl.readers.read_staff`
    reads the file back to the same rows: codes and phones stay text (XLSX cells formatted
    ``@``), dates are ``YYYY-MM-DD`` (XLSX date cells). CSV is UTF-8 with a BOM (Excel).
    ``target`` is a path (format from the suffix unless ``format``) or a binary file.

    Raises
    ------
    DataSourceError
        A format other than ``xlsx``/``csv``, or the file cannot be written.
    """
    from governance.roster import ROSTER_COLUMNS

    name = (format or (Path(target).suffix.lower().lstrip(".") if isinstance(target, (str, Path)) else "xlsx")).lower()
    if name not in STAFF_FORMATS:
        raise DataSourceError(f"staff has no geometry: write it as {' or '.join(STAFF_FORMATS)}, not {name!r}")
    if isinstance(target, (str, Path)):
        target = Path(target)
        if not target.parent.exists():
            raise DataSourceError(f"{target.parent}: output directory does not exist")
    records = [
        [_staff_value(column, record[column]) for column in ROSTER_COLUMNS]
        for record in staff.reindex(columns=list(ROSTER_COLUMNS)).to_dict("records")
    ]
    try:
        if name == "csv":
            frame = pd.DataFrame(records, columns=list(ROSTER_COLUMNS))
            for column in ("start_date", "end_date"):
                frame[column] = frame[column].map(lambda d: None if d is None else d.isoformat())
            write_csv(frame, target)
        else:
            _write_staff_xlsx(records, target, ROSTER_COLUMNS)
    except OSError as exc:
        raise DataSourceError(f"cannot write the staff table: {exc.strerror or exc}") from None
    logger.info("wrote %d staff rows (%s)", len(records), name)
    return target


def _write_staff_xlsx(records: list[list[Any]], target: Path | BinaryIO, columns: tuple[str, ...]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "staff"
    ws.append(list(columns))
    for row in records:
        ws.append(row)
    for cells in ws.iter_cols(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.number_format = "@"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for col, width in zip("ABCDEFGHI", (12, 10, 14, 16, 22, 16, 12, 12, 10)):
        ws.column_dimensions[col].width = width
    protect_workbook(wb)
    wb.save(target)
