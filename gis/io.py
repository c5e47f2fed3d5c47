"""Reading vector data from files: one entry point, one-line errors.

:func:`read_vector` reads GeoJSON, Shapefile, GeoPackage, KML, OSM PBF, GeoParquet and
CSV/XLSX tables (coordinate or WKT columns) into a ``GeoDataFrame`` in the file's own CRS
(or the CRS given with ``crs=``). Every failure is a :class:`~gis.errors.DataSourceError`
with a one-line message that names the file and the problem (missing sidecar, truncated,
HTML saved as .prj/.cpg, wrong encoding → ``--encoding``, no CRS → ``--crs``); raw
pyogrio/GDAL tracebacks never reach the user.

GCJ-02 / BD-09 input (``crs="gcj02"`` / ``"bd09"``) is converted to WGS 84 right away
(those systems are not pyproj CRSs, so a frame can only honestly carry EPSG:4326); the
original system is recorded in ``frame.attrs["source_crs"]``.

Limits (:class:`gis.plausibility.Limits`, from the settings): a file larger than
``GRIDGOV_MAX_FILE_MB`` is refused before it is read, one with more rows than
``GRIDGOV_MAX_FEATURES`` right after; the readers refuse polygons with more vertices than
``GRIDGOV_MAX_VERTICES`` before any validation. Binary data that is not one of the supported
formats (:data:`SUPPORTED_FORMATS`) is told so, not asked for an ``--encoding``. Z and M
coordinates are dropped (GridGov stores 2-D geometries; ``attrs["dropped_dimensions"]``
says which, for the readers' warning). GeoJSON strings holding escaped control characters
(``"a\\u0000b"``) are kept whole, so the readers can refuse them instead of GDAL cutting them.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import struct
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gis.crs import offset_crs_name, offset_to_wgs84, resolve_crs
from gis.errors import CRSError, DataSourceError
from gis.plausibility import Limits

__all__ = [
    "read_vector",
    "read_table",
    "list_layers",
    "detect_encoding",
    "find_coordinate_columns",
    "find_wkt_column",
    "apply_offset_crs",
    "LON_NAMES",
    "LAT_NAMES",
    "WKT_NAMES",
    "ENCODING_CANDIDATES",
    "SUPPORTED_FORMATS",
    "check_file_size",
    "check_row_count",
    "iter_vector",
    "VectorChunks",
    "CHUNK_ROWS",
]

logger = logging.getLogger(__name__)

#: Column names recognised as longitude / latitude (after lower-casing, trimming and
#: dropping a trailing "(...)" unit note), best first.
LON_NAMES: tuple[str, ...] = ("lon", "lng", "long", "longitude", "经度", "东经", "gps_lon", "x")
LAT_NAMES: tuple[str, ...] = ("lat", "latitude", "纬度", "北纬", "gps_lat", "y")
#: Column names recognised as WKT geometry.
WKT_NAMES: tuple[str, ...] = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "空间信息")
#: Legacy encodings tried (after UTF-8) when a file does not declare its encoding.
ENCODING_CANDIDATES: tuple[str, ...] = ("gb18030", "shift_jis", "big5", "euc_kr", "cp1252")

#: What an import reads, for messages that refuse something else.
SUPPORTED_FORMATS = (
    "GeoJSON (.geojson/.json), Shapefile (.shp with its .shx and .dbf), GeoPackage (.gpkg), KML/KMZ, "
    "GeoParquet (.parquet), CSV/TSV text (.csv/.tsv/.txt, UTF-8 or GBK …) and Excel workbooks (.xlsx)"
)
#: Leading bytes of common binary files, for "this is a … renamed" messages.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook or a zipped shapefile?)"),
    (b"SQLite format 3\x00", "an SQLite database (a GeoPackage? name it .gpkg)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"PAR1", "a Parquet file (name it .parquet)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls/.doc; save the sheet as .xlsx or .csv)"),
)
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))

_LAYERED_SUFFIXES = {".gpkg", ".kml", ".kmz", ".pbf", ".osm", ".gdb", ".sqlite", ".fgb"}
_TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
_JSON_SUFFIXES = {".geojson", ".json"}
_PYOGRIO_ERRORS: tuple[type[BaseException], ...] = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
    RuntimeError,
    OSError,
    ValueError,
)


# ---------------------------------------------------------------------------------------
# limits and binary data
# ---------------------------------------------------------------------------------------
def check_file_size(path: str | Path, *, limits: Limits | None = None) -> None:
    """Refuse a file (with its shapefile sidecars) larger than ``GRIDGOV_MAX_FILE_MB``, before reading it.

    Raises
    ------
    DataSourceError
        Naming the file, its size and the limit.
    """
    limits = limits or Limits.from_settings()
    source = Path(path)
    if not source.is_file():
        return
    parts = [source]
    if source.suffix.lower() == ".shp":
        parts += [p for p in (source.with_suffix(".dbf"), source.with_suffix(".DBF")) if p.is_file()][:1]
    size = sum(p.stat().st_size for p in parts)
    if size > limits.max_file_bytes:
        raise DataSourceError(
            f"{source.name}: is {size / 1024 / 1024:,.1f} MB; at most {limits.max_file_bytes / 1024 / 1024:,.0f} MB are "
            "read (GRIDGOV_MAX_FILE_MB): split the file, or raise the limit", code="file.too_large", params={"file": source.name, "size_mb": size / 1024 / 1024, "limit_mb": limits.max_file_bytes / 1024 / 1024}
        )


def check_row_count(count: int, name: str, *, limits: Limits | None = None) -> None:
    """Refuse a file of more than ``GRIDGOV_MAX_FEATURES`` rows or features (before any per-row work)."""
    limits = limits or Limits.from_settings()
    if count > limits.max_features:
        raise DataSourceError(
            f"{name}: has {count:,} rows/features; at most {limits.max_features:,} are read per file "
            "(GRIDGOV_MAX_FEATURES): split the file, or raise the limit", code="file.too_many_rows", params={"file": name, "count": count, "limit": limits.max_features}
        )


def _binary_kind(raw: bytes) -> str | None:
    """What binary data ``raw`` looks like (``"binary data"`` when unknown), or ``None`` for text."""
    head = raw[:65536]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if not head:
        return None
    try:
        head.decode("utf-8")
        decodes = True
    except UnicodeDecodeError as exc:
        decodes = exc.start >= len(head) - 4  # only a character cut at the end of the sample
    controls = sum(head.count(b) for b in _BINARY_BYTES)
    # Text in any encoding has next to no C0 control bytes; random or binary data has ~10 %.
    if controls >= 8 and controls > len(head) * 0.02 and not decodes:
        return "binary data"
    return None


def _refuse_binary(name: str, raw: bytes, *, expected: str) -> None:
    what = _binary_kind(raw)
    if what is not None:
        raise DataSourceError(f"{name}: is not {expected}: it looks like {what}. Supported: {SUPPORTED_FORMATS}", code="file.wrong_format", params={"file": name})


def _drop_dimensions(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop Z and M coordinates (GridGov stores 2-D geometries); ``attrs["dropped_dimensions"]`` says which."""
    values = np.asarray(frame.geometry.values, dtype=object)
    if not len(values):
        return frame
    has_z = shapely.has_z(values)
    has_m = shapely.has_m(values) if hasattr(shapely, "has_m") else np.zeros(len(values), dtype=bool)
    if not (has_z.any() or has_m.any()):
        return frame
    dropped = (["Z"] if has_z.any() else []) + (["M"] if has_m.any() else [])
    flat = shapely.force_2d(values)
    result = frame.set_geometry(gpd.GeoSeries(flat, index=frame.index, crs=frame.crs))
    result.attrs = {**frame.attrs, "dropped_dimensions": dropped,
                    "dropped_dimension_rows": [int(i) for i in np.flatnonzero(has_z | has_m)]}
    return result


def _open_source(path: str | Path, crs: str | int | CRS | None) -> tuple[Path, Limits, CRS | None, str | None]:
    """The checks before a file is read: it exists, is a file (or a .gdb folder), is not empty
    and not over the size limit; and the CRS the caller gives (a GCJ-02/BD-09 name is an offset
    datum, converted after reading). Returns the path, the limits, the CRS override and the
    offset datum's name. Raises :class:`DataSourceError` naming the file."""
    source = Path(path)
    if not source.exists():
        raise DataSourceError(f"{source}: file not found")
    if source.is_dir() and source.suffix.lower() != ".gdb":
        raise DataSourceError(f"{source}: is a directory; name the file to read (e.g. the .shp)")
    if source.stat().st_size == 0 and not source.is_dir():
        raise DataSourceError(f"{source.name}: file is empty")
    limits = Limits.from_settings()
    check_file_size(source, limits=limits)
    offset_name = offset_crs_name(crs)
    override: CRS | None = None
    if crs is not None and offset_name is None:
        try:
            override = resolve_crs(crs)
        except CRSError as exc:
            raise DataSourceError(f"{source.name}: {exc}") from None
    return source, limits, override, offset_name


# ---------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------
def read_vector(
    path: str | Path,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: object | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    wkt_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file into a GeoDataFrame in its own CRS.

    Parameters
    ----------
    path:
        ``.geojson``/``.json``, ``.shp``, ``.gpkg``, ``.kml``/``.kmz``, ``.osm.pbf``,
        ``.parquet``, ``.csv``/``.tsv``/``.txt``, ``.xlsx``, or anything else GDAL opens.
    layer:
        Layer name (or index) for multi-layer sources; required when there is more than one
        spatial layer (the error lists them).
    encoding:
        Text encoding of attribute values (``--encoding``); by default declared encodings
        (.cpg, DBF language id) are honoured and undeclared legacy encodings (GBK/GB18030,
        Shift-JIS, Big5 ...) are detected.
    crs:
        Overrides the file's CRS: an EPSG code / ``"EPSG:4547"`` / WKT, or ``"gcj02"`` /
        ``"bd09"`` for Amap/Tencent/Baidu coordinates (converted to WGS 84 here).
    x_field, y_field, wkt_field:
        Coordinate or WKT columns of a table (recognised by name when not given:
        lon/lng/longitude/x/经度/东经, lat/latitude/y/纬度/北纬, wkt/geometry/geom/几何).

    Returns
    -------
    GeoDataFrame
        Geometries in the file's CRS (or ``crs``; EPSG:4326 for GCJ-02/BD-09 input), the
        original row order and a ``RangeIndex``. Rows whose geometry is missing or cannot
        be parsed have a ``None`` geometry (callers report them per row).
        ``attrs["source_crs"]`` records the CRS as read or given, ``attrs["encoding"]``
        the encoding used when one was chosen or detected.

    Raises
    ------
    DataSourceError
        One line naming the file and the problem.
    """
    source, limits, override, offset_name = _open_source(path, crs)
    suffix = source.suffix.lower()
    if suffix == ".shp":
        frame = _read_shapefile(source, encoding=encoding, crs_given=crs is not None)
    elif suffix == ".dbf":
        raise DataSourceError(f"{source.name}: a .dbf holds only attributes; name the .shp file instead")
    elif suffix in _JSON_SUFFIXES:
        frame = _read_geojson(source, encoding=encoding)
    elif suffix in _PARQUET_SUFFIXES:
        frame = _read_parquet(source)
    elif suffix in _TABLE_SUFFIXES:
        frame = _read_table(source, encoding=encoding, x_field=x_field, y_field=y_field, wkt_field=wkt_field)
    else:
        frame = _read_layered(source, layer=layer, encoding=encoding)
    check_row_count(len(frame), source.name, limits=limits)
    frame = _drop_dimensions(frame)
    return _apply_crs(frame, source, override=override, offset_name=offset_name)


def list_layers(path: str | Path) -> list[tuple[str, str | None]]:
    """``(name, geometry type)`` of every layer of a multi-layer source (GeoPackage, KML, OSM)."""
    source = Path(path)
    if not source.exists():
        raise DataSourceError(f"{source}: file not found")
    try:
        layers = pyogrio.list_layers(source)
    except _PYOGRIO_ERRORS as exc:
        if source.is_file():
            _refuse_binary(source.name, source.read_bytes()[:65536], expected="a vector data set")
        raise DataSourceError(
            f"{source.name}: cannot be opened as a vector data set ({_one_line(exc)}). Supported: {SUPPORTED_FORMATS}"
        ) from None
    return [(str(name), None if geom_type is None else str(geom_type)) for name, geom_type in layers]


# ---------------------------------------------------------------------------------------
# CRS handling
# ---------------------------------------------------------------------------------------
def apply_offset_crs(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Treat ``frame``'s coordinates as GCJ-02/BD-09 lon/lat and return them in EPSG:4326.

    The input frame is not modified; ``attrs["source_crs"]`` becomes ``name``.
    """
    geometry = frame.geometry.values
    converted = shapely.transform(
        np.asarray(geometry, dtype=object),
        lambda coords: np.column_stack(offset_to_wgs84(name, coords[:, 0], coords[:, 1])),
    )
    result = frame.copy()
    result = result.set_geometry(gpd.GeoSeries(converted, index=frame.index, crs=None), crs=None)
    result = result.set_crs(4326, allow_override=True)
    result.attrs["source_crs"] = offset_crs_name(name)
    return result


def _apply_crs(
    frame: gpd.GeoDataFrame, source: Path, *, override: CRS | None, offset_name: str | None
) -> gpd.GeoDataFrame:
    if offset_name is not None:
        if frame.crs is not None and not frame.crs.is_geographic:
            raise DataSourceError(
                f"{source.name}: --crs {offset_name} means lon/lat degrees, but the file is in the projected "
                f"CRS {frame.crs.to_string()}"
            )
        return apply_offset_crs(frame, offset_name)
    if override is not None:
        result = frame.set_crs(override, allow_override=True)
        result.attrs["source_crs"] = override.to_string()
        return result
    if frame.crs is None:
        raise DataSourceError(
            f"{source.name}: has no CRS (no .prj or CRS in the file); use --crs, e.g. --crs EPSG:4326 for GPS "
            "lon/lat, --crs gcj02 for Amap/Tencent, --crs bd09 for Baidu, --crs EPSG:4547 for CGCS2000 GK 114°E"
        )
    frame.attrs["source_crs"] = frame.crs.to_string()
    return frame


# ---------------------------------------------------------------------------------------
# encoding detection
# ---------------------------------------------------------------------------------------
def detect_encoding(samples: bytes | Sequence[bytes]) -> str | None:
    """Guess the encoding of text byte strings; ``None`` when they are pure ASCII.

    UTF-8 wins when every sample decodes strictly. Otherwise each legacy candidate in
    :data:`ENCODING_CANDIDATES` that decodes every sample is scored by how "typical" the
    decoded characters are (GB2312 hanzi for GBK/GB18030, JIS level-1 kanji and kana for
    Shift-JIS, common Big5 hanzi, KS X 1001 hangul, accented Latin letters for cp1252);
    the best candidate scoring at least 0.6 wins, ties go to the earlier candidate.

    Raises
    ------
    DataSourceError
        When no candidate is convincing (message without a file name; callers add it).
    """
    values = [samples] if isinstance(samples, bytes) else [s for s in samples if s]
    non_ascii = [s for s in values if not s.isascii()]
    if not non_ascii:
        return None
    try:
        for value in non_ascii:
            value.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    scores: dict[str, float] = {}
    for candidate in ENCODING_CANDIDATES:
        try:
            texts = [value.decode(candidate) for value in non_ascii]
        except UnicodeDecodeError:
            continue
        scores[candidate] = _typicality(candidate, texts, non_ascii)
    logger.debug("encoding scores: %s", scores)
    if scores:
        best = max(scores, key=lambda name: (scores[name], -ENCODING_CANDIDATES.index(name)))
        if scores[best] >= 0.6:
            return best
    raise DataSourceError(
        "text is not UTF-8 and its legacy encoding cannot be told apart "
        f"(scores {', '.join(f'{k}={v:.2f}' for k, v in scores.items()) or 'none decoded'}); "
        "use --encoding (e.g. --encoding gbk)"
    )


def _high_byte_runs(raw: bytes) -> list[int]:
    return [len(match.group()) for match in re.finditer(rb"[\x80-\xff]+", raw)]


def _typicality(candidate: str, texts: list[str], raws: list[bytes]) -> float:
    chars = [ch for text in texts for ch in text if ord(ch) > 0x7F]
    if not chars:
        return 0.0
    runs = [n for raw in raws for n in _high_byte_runs(raw)]
    even_runs = sum(1 for n in runs if n % 2 == 0) / len(runs) if runs else 0.0

    def fraction(test) -> float:
        return sum(1 for ch in chars if test(ch)) / len(chars)

    if candidate == "gb18030":
        return fraction(lambda ch: _encodes(ch, "gb2312")) * even_runs
    if candidate == "shift_jis":
        return fraction(_is_common_japanese)  # trail bytes may be ASCII: runs say nothing
    if candidate == "big5":
        return fraction(_is_common_big5)
    if candidate == "euc_kr":
        return fraction(lambda ch: 0xAC00 <= ord(ch) <= 0xD7A3) * even_runs
    # cp1252: accented Latin letters in short runs
    short_runs = sum(1 for n in runs if n <= 2) / len(runs) if runs else 0.0
    return fraction(lambda ch: ch.isalpha() and ord(ch) < 0x250) * short_runs * 0.95


def _encodes(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _is_common_japanese(ch: str) -> bool:
    if 0x3040 <= ord(ch) <= 0x30FF or ch in "、。「」・ー":
        return True
    try:
        lead = ch.encode("shift_jis")[0]
    except UnicodeEncodeError:
        return False
    return 0x88 <= lead <= 0x9F  # JIS X 0208 level-1 kanji


def _is_common_big5(ch: str) -> bool:
    try:
        raw = ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and 0xA440 <= int.from_bytes(raw, "big") <= 0xC67E


# ---------------------------------------------------------------------------------------
# shapefiles
# ---------------------------------------------------------------------------------------
def _sidecar(shp: Path, ext: str) -> Path | None:
    for candidate in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if candidate.exists():
            return candidate
    return None


def _looks_like_html(raw: bytes) -> bool:
    head = raw.lstrip()[:200].lower()
    return head.startswith(b"<") and (b"html" in head or b"<!doctype" in head or b"<head" in head)


def _cpg_encoding(cpg: Path) -> tuple[str | None, str | None]:
    """(python codec name or None, problem or None) for a .cpg file."""
    raw = cpg.read_bytes()
    if _looks_like_html(raw):
        return None, f"{cpg.name} is an HTML page, not a code page name; delete it or use --encoding"
    text = raw.decode("ascii", errors="replace").strip()
    if not text or len(text) > 40 or "\ufffd" in text:
        return None, f"{cpg.name} does not hold a code page name (found {text[:20]!r}); delete it or use --encoding"
    name = text.lower().replace(" ", "")
    if name.startswith("ansi"):
        name = name[4:]
    if name.startswith("8859") and name[4:].isdigit():
        name = "iso8859_" + name[4:]
    elif name.isdigit():
        name = {"936": "gbk", "950": "big5", "932": "shift_jis", "65001": "utf-8"}.get(name, f"cp{name}")
    try:
        return codecs.lookup(name).name, None
    except LookupError:
        # GDAL may still know it (e.g. exotic names); let it try.
        logger.info("%s names %r, unknown to Python; leaving it to GDAL", cpg.name, text)
        return None, None


def _shapefile_problems(shp: Path) -> list[str]:
    problems: list[str] = []
    raw_header = shp.read_bytes()[:100]
    if len(raw_header) < 100 or struct.unpack(">i", raw_header[:4])[0] != 9994:
        return [f"{shp.name} is not a shapefile (the file header is wrong; is it another format renamed .shp?)"]
    declared = struct.unpack(">i", raw_header[24:28])[0] * 2
    actual = shp.stat().st_size
    if actual < declared:
        problems.append(f"{shp.name} is truncated: its header says {declared} bytes but the file has {actual}")
    if _sidecar(shp, ".shx") is None:
        problems.append(f"missing {shp.with_suffix('.shx').name} (the shapefile index)")
    if _sidecar(shp, ".dbf") is None:
        problems.append(f"missing {shp.with_suffix('.dbf').name} (the attribute table)")
    if problems and any(p.startswith("missing") for p in problems):
        problems.append("copy the .shp, .shx, .dbf, .prj and .cpg files together")
    return problems


def _dbf_text_samples(dbf: Path, *, max_records: int = 5000) -> tuple[int, list[bytes]]:
    """(language driver id, raw bytes of character fields) of a dBASE file."""
    data = dbf.read_bytes()
    if len(data) < 32:
        raise DataSourceError(f"{dbf.name} is truncated (shorter than a dBASE header)")
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    ldid = data[29]
    fields: list[tuple[int, int]] = []  # (offset within record, length) of C fields
    offset = 1
    pos = 32
    while pos + 32 <= min(header_len, len(data)) and data[pos] != 0x0D:
        ftype = chr(data[pos + 11])
        length = data[pos + 16]
        if ftype == "C":
            length += data[pos + 17] * 256  # long C fields keep their high length byte in the decimals byte
            fields.append((offset, length))
        offset += length
        pos += 32
    samples: list[bytes] = []
    for i in range(min(n_records, max_records)):
        start = header_len + i * record_len
        record = data[start : start + record_len]
        if len(record) < record_len:
            break
        for field_offset, length in fields:
            value = record[field_offset : field_offset + length].strip(b" \x00")
            if value and not value.isascii():
                samples.append(value)
    return ldid, samples


def _read_shapefile(shp: Path, *, encoding: str | None, crs_given: bool) -> gpd.GeoDataFrame:
    problems = _shapefile_problems(shp)
    chosen = encoding
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None and encoding is None:
        _, cpg_problem = _cpg_encoding(cpg)
        if cpg_problem:
            problems.append(cpg_problem)
    prj = _sidecar(shp, ".prj")
    if prj is not None and not crs_given:
        raw = prj.read_bytes()
        if _looks_like_html(raw):
            problems.append(f"{prj.name} is an HTML page, not a projection; replace it, or delete it and use --crs")
        else:
            try:
                CRS.from_wkt(raw.decode("utf-8", errors="replace").strip())
            except Exception:
                problems.append(f"{prj.name} is not a readable projection (WKT); replace it, or delete it and use --crs")
    if problems:
        raise DataSourceError(f"{shp.name}: " + "; ".join(problems))

    dbf = _sidecar(shp, ".dbf")
    assert dbf is not None
    if chosen is None and cpg is None:
        ldid, samples = _dbf_text_samples(dbf)
        if ldid == 0:  # no declared encoding: GDAL would assume ISO-8859-1
            try:
                chosen = detect_encoding(samples)
            except DataSourceError as exc:
                raise DataSourceError(f"{shp.name}: has no .cpg, and its {exc}") from None
            if chosen is not None:
                logger.info("%s: no .cpg, detected encoding %s", shp.name, chosen)
    frame = _pyogrio_read(shp, encoding=chosen)
    if chosen:
        frame.attrs["encoding"] = chosen
    return frame


# ---------------------------------------------------------------------------------------
# GeoJSON, layered sources, GeoParquet
# ---------------------------------------------------------------------------------------
def _read_geojson(source: Path, *, encoding: str | None) -> gpd.GeoDataFrame:
    raw = source.read_bytes()
    if _looks_like_html(raw):
        raise DataSourceError(f"{source.name}: is an HTML page, not GeoJSON")
    if encoding is None:
        _refuse_binary(source.name, raw, expected="GeoJSON")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    used = encoding
    data = raw  # UTF-8 bytes handed to GDAL (no decoded copy kept for a UTF-8 file)
    if encoding is not None:
        try:
            data = raw.decode(encoding).encode("utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataSourceError(
                f"{source.name}: cannot be decoded as {encoding} ({_one_line(exc)}); use --encoding with the right one"
            ) from None
    else:
        try:
            raw.decode("utf-8")
            used = None
        except UnicodeDecodeError:
            strings = re.findall(rb'"((?:[^"\\]|\\.)*)"', raw)
            try:
                used = detect_encoding(strings)
            except DataSourceError as exc:
                raise DataSourceError(f"{source.name}: {exc}") from None
            data = raw.decode(used or "ascii").encode("utf-8")
            logger.info("%s: not UTF-8, detected encoding %s", source.name, used)
    if not data.lstrip()[:1] in (b"{", b"["):
        raise DataSourceError(f"{source.name}: is not GeoJSON (it does not start with '{{')")
    _refuse_huge_geojson_geometry(data, source.name)
    frame = _pyogrio_read(io.BytesIO(data), name=source.name)
    if _ESCAPED_CONTROL.search(data):
        frame = _restore_control_strings(frame, data.decode("utf-8"), source.name)
    if used:
        frame.attrs["encoding"] = used
    return frame


_COORDINATES_KEY = re.compile(rb'"coordinates"\s*:')


def _refuse_huge_geojson_geometry(data: bytes, name: str, *, limits: Limits | None = None) -> None:
    """Refuse a GeoJSON geometry with more vertices than ``GRIDGOV_MAX_VERTICES`` before GDAL parses it.

    GDAL builds a JSON object tree of the whole file (a 1,000,000-vertex polygon takes ~0.5 GB), so
    the vertices are counted on the bytes first: every ``[`` between one ``"coordinates"`` key and
    the next bounds the vertices of that geometry from above (by its few ring brackets).
    """
    limits = limits or Limits.from_settings()
    if data.count(b"[") <= limits.max_vertices:
        return
    starts = [m.start() for m in _COORDINATES_KEY.finditer(data)] + [len(data)]
    for k in range(len(starts) - 1):
        brackets = data.count(b"[", starts[k], starts[k + 1])
        if brackets > limits.max_vertices + 1_000:  # ring brackets: the exact count is checked after reading
            raise DataSourceError(
                f"{name}: geometry {k} (feature {k}) has about {brackets:,} vertices; at most {limits.max_vertices:,} "
                "are accepted per polygon (GRIDGOV_MAX_VERTICES): simplify it first"
            )


#: A JSON string escape of a control character (``\u0000``–``\u001f``, ``\u007f``–``\u009f``).
_ESCAPED_CONTROL = re.compile(rb"\\u00(?:[01][0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])")


def _restore_control_strings(frame: gpd.GeoDataFrame, text: str, name: str) -> gpd.GeoDataFrame:
    """Put back the whole property strings GDAL cut at an escaped control character (``"a\\u0000b"`` → ``"a"``).

    Parsed with :mod:`json` only when the text holds such an escape, so the usual path stays fast.
    """
    try:
        document = json.loads(text)
    except ValueError:
        return frame
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or len(features) != len(frame):
        return frame
    result = frame.copy()
    for i, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            continue
        for key, value in properties.items():
            if isinstance(value, str) and key in result.columns and _has_control(value):
                if result[key].dtype != object:
                    result[key] = result[key].astype(object)
                result.at[i, key] = value
    result.attrs = dict(frame.attrs)
    logger.info("%s: kept strings with control characters whole (GDAL cuts them)", name)
    return result


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in value)


def _read_layered(source: Path, *, layer: str | int | None, encoding: str | None) -> gpd.GeoDataFrame:
    layers = list_layers(source)
    spatial = [name for name, geom_type in layers if geom_type is not None]
    names = [name for name, _ in layers]
    if layer is None:
        if len(spatial) == 1:
            layer = spatial[0]
        elif not spatial and len(names) == 1:
            layer = names[0]
        elif not layers:
            raise DataSourceError(f"{source.name}: has no layers")
        else:
            raise DataSourceError(
                f"{source.name}: has {len(spatial or names)} layers {spatial or names}; choose one with --layer"
            )
    elif isinstance(layer, str) and layer not in names:
        raise DataSourceError(f"{source.name}: has no layer {layer!r}; its layers are {names}")
    elif isinstance(layer, int) and not 0 <= layer < len(names):
        raise DataSourceError(f"{source.name}: layer index {layer} is out of range; its layers are {names}")
    frame = _pyogrio_read(source, layer=layer, encoding=encoding)
    frame.attrs["layer"] = layer if isinstance(layer, str) else names[layer]
    return frame


def _read_parquet(source: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(source)
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, ValueError)
        raise DataSourceError(
            f"{source.name}: cannot be read as GeoParquet ({_one_line(exc)}). Supported: {SUPPORTED_FORMATS}"
        ) from None


def _pyogrio_read(source: Path | io.BytesIO, *, name: str | None = None, **options) -> gpd.GeoDataFrame:
    label = name or getattr(source, "name", str(source))
    options = {k: v for k, v in options.items() if v is not None}
    try:
        frame = pyogrio.read_dataframe(source, **options)
    except UnicodeDecodeError as exc:
        raise DataSourceError(
            f"{label}: text is not in the expected encoding ({_one_line(exc)}); use --encoding (e.g. gbk)"
        ) from None
    except LookupError as exc:
        raise DataSourceError(f"{label}: unknown encoding ({_one_line(exc)}); use --encoding with a valid name") from None
    except _PYOGRIO_ERRORS as exc:
        message = _one_line(exc)
        if "not recognized as" in message or "not recognised as" in message:
            raise DataSourceError(
                f"{label}: not a recognised vector format (wrong extension or corrupt file). Supported: {SUPPORTED_FORMATS}"
            ) from None
        raise DataSourceError(f"{label}: cannot be read, the file looks truncated or corrupt ({message})") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise DataSourceError(f"{label}: has no geometry column")
    return frame.reset_index(drop=True)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("…" if len(text) > 300 else "")


# ---------------------------------------------------------------------------------------
# tables: CSV / XLSX with coordinate or WKT columns
# ---------------------------------------------------------------------------------------
def _normalise_header(name: object) -> str:
    text = str(name).strip().lower()
    text = re.split(r"[(（\[【]", text, maxsplit=1)[0].strip()
    return text


def find_coordinate_columns(columns: Sequence[object]) -> tuple[str, str] | None:
    """The (lon, lat) column names among ``columns`` by common English/Chinese names, or ``None``.

    Pairs are matched best name first (``lon``/``lat`` before ``x``/``y``).
    """
    normalised = {_normalise_header(c): str(c) for c in reversed(list(columns))}
    lon = next((normalised[n] for n in LON_NAMES if n in normalised), None)
    lat = next((normalised[n] for n in LAT_NAMES if n in normalised), None)
    if lon is None or lat is None:
        return None
    return lon, lat


def find_wkt_column(columns: Sequence[object]) -> str | None:
    """The WKT column among ``columns`` (wkt, geometry, geom, the_geom, shape, 几何), or ``None``."""
    normalised = {_normalise_header(c): str(c) for c in reversed(list(columns))}
    return next((normalised[n] for n in WKT_NAMES if n in normalised), None)


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/TXT or XLSX table with every value as text (``None`` where empty).

    Values stay strings so codes and ids keep their leading zeros. CSV encodings are
    detected like shapefile attributes (UTF-8, else GBK/GB18030, Shift-JIS ...); the
    separator is sniffed. ``sheet`` picks the worksheet of a workbook (default: the first).

    Raises
    ------
    DataSourceError
        Missing file, undecodable text (→ ``--encoding``), broken workbook or CSV.
    """
    source = Path(path)
    if not source.exists():
        raise DataSourceError(f"{source}: file not found", code="file.not_found", params={"file": str(source)})
    limits = Limits.from_settings()
    check_file_size(source, limits=limits)
    suffix = source.suffix.lower()
    used = encoding
    if suffix in {".xlsx", ".xlsm"}:
        with source.open("rb") as handle:
            head = handle.read(65536)
        if not head.startswith(b"PK\x03\x04"):
            what = _binary_kind(head) or "text"
            raise DataSourceError(f"{source.name}: cannot be read as an Excel workbook: it does not start like one "
                                  f"(it looks like {what}). Supported: {SUPPORTED_FORMATS}", code="file.not_excel", params={"file": source.name})
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        try:
            table = pd.read_excel(
                source, sheet_name=0 if sheet is None else sheet, dtype=str, keep_default_na=False, na_values=[""]
            )
        except Exception as exc:  # openpyxl/zipfile raise many types for broken workbooks
            raise DataSourceError(
                f"{source.name}: cannot be read as an Excel workbook ({_one_line(exc)}). Supported: {SUPPORTED_FORMATS}", code="file.not_excel", params={"file": source.name}
            ) from None
    else:
        raw = source.read_bytes()
        if _looks_like_html(raw):
            raise DataSourceError(f"{source.name}: is an HTML page, not a CSV table", code="file.html", params={"file": source.name})
        if used is None:
            _refuse_binary(source.name, raw, expected="a CSV table")
        if used is None:
            try:
                raw.decode("utf-8")
                used = "utf-8-sig"
            except UnicodeDecodeError:
                try:
                    used = detect_encoding(raw.splitlines()[:5000])
                except DataSourceError as exc:
                    raise DataSourceError(f"{source.name}: {exc}") from None
        try:
            text = raw.decode(used or "utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataSourceError(
                f"{source.name}: cannot be decoded as {used} ({_one_line(exc)}); use --encoding with the right one", code="file.encoding", params={"file": source.name}
            ) from None
        separator = "\t" if suffix == ".tsv" else None
        # A cell may hold a WKT geometry of up to GRIDGOV_MAX_VERTICES vertices (~40 characters each);
        # a larger cell is refused by the csv module before anything parses it.
        cell_limit = max(131_072, limits.max_vertices * 48)
        csv.field_size_limit(cell_limit)
        try:
            table = pd.read_csv(
                io.StringIO(text), sep=separator, engine="python", dtype=str, keep_default_na=False, na_values=[""]
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
            if "field larger than field limit" in str(exc):
                raise DataSourceError(
                    f"{source.name}: a cell holds more than {cell_limit:,} characters: a WKT geometry with more than "
                    f"{limits.max_vertices:,} vertices (GRIDGOV_MAX_VERTICES)? Simplify it first", code="file.cell_too_large", params={"file": source.name}
                ) from None
            raise DataSourceError(f"{source.name}: is not a readable CSV table ({_one_line(exc)})", code="file.not_csv", params={"file": source.name}) from None
    check_row_count(len(table), source.name, limits=limits)
    table.columns = [str(c).strip() for c in table.columns]
    table = table.astype(object).where(table.notna(), None)
    if used and used not in {"utf-8-sig", "utf-8"}:
        table.attrs["encoding"] = used
    return table


def _read_table(
    source: Path,
    *,
    encoding: str | None,
    x_field: str | None,
    y_field: str | None,
    wkt_field: str | None,
) -> gpd.GeoDataFrame:
    table = read_table(source, encoding=encoding)
    used = table.attrs.get("encoding")

    geometry, used_column = _table_geometry(source, table, x_field=x_field, y_field=y_field, wkt_field=wkt_field)
    attributes = table.drop(columns=[used_column]) if used_column is not None else table
    if "geometry" in attributes.columns:
        attributes = attributes.rename(columns={"geometry": "geometry_text"})
    frame = gpd.GeoDataFrame(attributes, geometry=geometry, crs=None)
    frame = frame.reset_index(drop=True)
    if used:
        frame.attrs["encoding"] = used
    return frame


def _table_geometry(
    source: Path, table: pd.DataFrame, *, x_field: str | None, y_field: str | None, wkt_field: str | None
) -> tuple[np.ndarray, str | None]:
    """(geometry array, WKT column consumed or None); coordinate columns stay in the table."""
    columns = list(table.columns)
    for given in (x_field, y_field, wkt_field):
        if given is not None and given not in columns:
            raise DataSourceError(f"{source.name}: has no column {given!r}; its columns are {columns}")
    if x_field is not None or y_field is not None:
        if x_field is None or y_field is None:
            raise DataSourceError(f"{source.name}: give both the x (longitude) and y (latitude) columns")
        pair: tuple[str, str] | None = (x_field, y_field)
    elif wkt_field is not None:
        pair = None
    else:
        pair = find_coordinate_columns(columns)
        if pair is None:
            wkt_field = find_wkt_column(columns)
    if pair is not None:
        lon = _to_float(table[pair[0]])
        lat = _to_float(table[pair[1]])
        points = shapely.points(lon, lat)
        points[~(np.isfinite(lon) & np.isfinite(lat))] = None
        return points, None
    if wkt_field is None:
        raise DataSourceError(
            f"{source.name}: no coordinate or WKT columns found among {columns}; expected lon/lat, lng/lat, "
            "longitude/latitude, x/y, 经度/纬度, 东经/北纬 or a WKT column (wkt, geometry, geom, 几何); "
            "or name them with --x-field/--y-field"
        )
    text = table[wkt_field].to_numpy(dtype=object)
    return shapely.from_wkt(text, on_invalid="ignore"), wkt_field


def _to_float(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip()
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# ---------------------------------------------------------------------------------------
# chunked reading (imports of millions of rows)
# ---------------------------------------------------------------------------------------
#: Rows per chunk of :func:`iter_vector` (one progress report per chunk).
CHUNK_ROWS = 100_000
#: CSV files up to this size are parsed whole, as :func:`read_table` does (Python engine, sniffed
#: dialect); larger ones are streamed in chunks by pandas' C parser with the separator sniffed the
#: same way (from the first line) — same values, same ``None`` for empty cells.
STREAM_CSV_BYTES = 8 * 1024 * 1024
_BLOCK = 16 * 1024 * 1024


class VectorChunks:
    """The chunks of one vector file (:func:`iter_vector`): iterate for GeoDataFrames.

    Each chunk is a GeoDataFrame in the file's CRS (or the one given), indexed by the rows'
    positions in the file (0-based data rows), with the ``attrs`` :func:`read_vector` sets
    (``source_crs``, ``encoding``, ``dropped_dimensions`` / ``dropped_dimension_rows`` with
    positions in the chunk). ``total`` is the number of rows when known before reading (GeoParquet
    metadata, whole-file formats) or an estimate from the line count (CSV; ``estimated``).
    """

    def __init__(self, name: str, total: int | None, chunks, *, estimated: bool = False) -> None:
        self.name = name
        self.total = total
        self.estimated = estimated
        self._chunks = chunks

    def __iter__(self):
        return iter(self._chunks)


def iter_vector(
    path: str | Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: object | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    wkt_field: str | None = None,
) -> VectorChunks:
    """:func:`read_vector` in chunks of ``chunk_rows`` rows, with bounded memory where the format allows.

    GeoParquet is read by row batches (``pyarrow``) and large CSV/TSV/TXT files are streamed;
    XLSX sheets (at most 1,048,576 rows by the format) and the other formats (GeoJSON,
    Shapefile, GeoPackage, …: limited by ``GRIDGOV_MAX_FILE_MB``) are read whole and handed out in
    chunks. The checks are those of :func:`read_vector` (file size before reading, row count,
    binary data, encoding, CRS), so are the values; a row-count overflow found while streaming
    raises the same :class:`DataSourceError` from the chunk where it is reached.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows was {chunk_rows} but is expected to be at least 1")
    source, limits, override, offset_name = _open_source(path, crs)
    suffix = source.suffix.lower()

    def finish(frame: gpd.GeoDataFrame, start: int) -> gpd.GeoDataFrame:
        frame = _drop_dimensions(frame)
        frame.index = pd.RangeIndex(start, start + len(frame))
        return _apply_crs(frame, source, override=override, offset_name=offset_name)

    if suffix in _PARQUET_SUFFIXES:
        streamed = _parquet_batches(source, chunk_rows, limits)
        if streamed is not None:
            total, batches = streamed
            return VectorChunks(source.name, total, (finish(f, s) for s, f in batches))
    if suffix in {".csv", ".tsv", ".txt"} and source.stat().st_size > STREAM_CSV_BYTES:
        total, tables = _csv_chunks(source, encoding=encoding, chunk_rows=chunk_rows, limits=limits)

        def csv_frames():
            for start, table in tables:
                geometry, used_column = _table_geometry(source, table, x_field=x_field, y_field=y_field,
                                                        wkt_field=wkt_field)
                attributes = table.drop(columns=[used_column]) if used_column is not None else table
                if "geometry" in attributes.columns:
                    attributes = attributes.rename(columns={"geometry": "geometry_text"})
                frame = gpd.GeoDataFrame(attributes.reset_index(drop=True), geometry=geometry, crs=None)
                frame.attrs.update(table.attrs)
                yield finish(frame, start)

        return VectorChunks(source.name, total, csv_frames(), estimated=True)
    # whole-file formats: read once (the size limit bounds them), hand out in chunks
    whole = read_vector(source, layer=layer, encoding=encoding, crs=crs, x_field=x_field, y_field=y_field,
                        wkt_field=wkt_field)

    def slices():
        for start in range(0, max(len(whole), 1), chunk_rows):
            part = whole.iloc[start:start + chunk_rows].copy()
            part.attrs = dict(whole.attrs)
            rows = whole.attrs.get("dropped_dimension_rows")
            if rows:
                part.attrs["dropped_dimension_rows"] = [r - start for r in rows if start <= r < start + chunk_rows]
            yield part

    return VectorChunks(source.name, len(whole), slices())


def _parquet_batches(source: Path, chunk_rows: int, limits: Limits):
    """``(rows, iterator of (start, GeoDataFrame))`` for a WKB-encoded GeoParquet file, else ``None``
    (the whole-file reader then says what is wrong with the file)."""
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(source)
        meta = json.loads((handle.schema_arrow.metadata or {}).get(b"geo", b"null"))
    except Exception:  # not Parquet, broken: let read_vector produce its message
        return None
    if not isinstance(meta, dict) or not meta.get("primary_column"):
        return None
    column = meta["primary_column"]
    info = (meta.get("columns") or {}).get(column) or {}
    if str(info.get("encoding", "WKB")).upper() != "WKB" or column not in handle.schema_arrow.names:
        return None
    total = handle.metadata.num_rows
    check_row_count(total, source.name, limits=limits)
    if "crs" in info:
        frame_crs = None if info["crs"] is None else CRS.from_user_input(info["crs"])
    else:
        frame_crs = CRS.from_epsg(4326)  # the GeoParquet default (OGC:CRS84)

    def batches():
        start = 0
        try:
            for batch in handle.iter_batches(batch_size=chunk_rows):
                wkb = batch.column(column).to_numpy(zero_copy_only=False)
                attributes = batch.drop_columns([column]).to_pandas()
                geometry = shapely.from_wkb(wkb, on_invalid="ignore")
                frame = gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geometry, crs=frame_crs), crs=frame_crs)
                yield start, frame
                start += len(frame)
        except (OSError, ValueError) as exc:
            raise DataSourceError(f"{source.name}: cannot be read as GeoParquet ({_one_line(exc)}). "
                                  f"Supported: {SUPPORTED_FORMATS}") from None

    return total, batches()


def _scan_text(source: Path) -> tuple[bool, int, bytes]:
    """``(valid UTF-8, newline count, first 64 KiB)`` of a file, reading it in blocks (bounded memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid = True
    lines = 0
    head = b""
    with source.open("rb") as handle:
        while True:
            block = handle.read(_BLOCK)
            if not block:
                break
            if not head:
                head = block[:65536]
            lines += block.count(b"\n")
            if valid:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    valid = False
        if valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
    return valid, lines, head


def _first_lines(source: Path, n: int) -> list[bytes]:
    out: list[bytes] = []
    with source.open("rb") as handle:
        for line in handle:
            out.append(line.rstrip(b"\r\n"))
            if len(out) >= n:
                break
    return out


def _csv_chunks(source: Path, *, encoding: str | None, chunk_rows: int, limits: Limits):
    """``(estimated rows, iterator of (start, table))``: a large CSV streamed by pandas' C parser.

    The same checks and values as :func:`read_table` (HTML, binary data, encoding detected from the
    first 5,000 lines when the file is not UTF-8, separator sniffed from the first line, text
    values with ``None`` for empty cells, the cell-size and row-count limits).
    """
    valid_utf8, lines, head = _scan_text(source)
    if _looks_like_html(head):
        raise DataSourceError(f"{source.name}: is an HTML page, not a CSV table")
    used = encoding
    if used is None:
        _refuse_binary(source.name, head, expected="a CSV table")
        if valid_utf8:
            used = "utf-8-sig"
        else:
            try:
                used = detect_encoding(_first_lines(source, 5000))
            except DataSourceError as exc:
                raise DataSourceError(f"{source.name}: {exc}") from None
    try:
        codecs.lookup(used or "utf-8")
    except LookupError as exc:
        raise DataSourceError(
            f"{source.name}: cannot be decoded as {used} ({_one_line(exc)}); use --encoding with the right one"
        ) from None
    if source.suffix.lower() == ".tsv":
        separator = "\t"
    else:
        first = (_first_lines(source, 1) or [b""])[0].decode(used or "utf-8", errors="replace").lstrip("\ufeff")
        try:
            separator = csv.Sniffer().sniff(first).delimiter  # as pandas' Python engine does with sep=None
        except csv.Error:
            separator = ","
    cell_limit = max(131_072, limits.max_vertices * 48)
    total = max(0, lines - 1)
    check_by_lines = lines <= limits.max_features  # newlines bound the rows from above

    def tables():
        start = 0
        try:
            reader = pd.read_csv(source, sep=separator, engine="c", dtype=str, keep_default_na=False, na_values=[""],
                                 chunksize=chunk_rows, encoding=used or "utf-8", encoding_errors="strict")
            with reader:
                for table in reader:
                    if not check_by_lines:
                        check_row_count(start + len(table), source.name, limits=limits)
                    table.columns = [str(c).strip() for c in table.columns]
                    for name in table.columns:
                        lengths = table[name].str.len()
                        if len(lengths) and lengths.max() > cell_limit:
                            raise DataSourceError(
                                f"{source.name}: a cell holds more than {cell_limit:,} characters: a WKT geometry with "
                                f"more than {limits.max_vertices:,} vertices (GRIDGOV_MAX_VERTICES)? Simplify it first")
                    table = table.astype(object).where(table.notna(), None)
                    if used and used not in {"utf-8-sig", "utf-8"}:
                        table.attrs["encoding"] = used
                    table.index = pd.RangeIndex(start, start + len(table))
                    yield start, table
                    start += len(table)
        except UnicodeDecodeError as exc:
            raise DataSourceError(
                f"{source.name}: cannot be decoded as {used} ({_one_line(exc)}); use --encoding with the right one"
            ) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
            raise DataSourceError(f"{source.name}: is not a readable CSV table ({_one_line(exc)})") from None

    return total, tables()
