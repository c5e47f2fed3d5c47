"""The SQL building blocks every store module shares: one as-of predicate, one scope filter,
one geometry encoder and decoder, one frame builder.

Geometries cross the database boundary as WKB in EPSG:4490 (:data:`gis.crs.STORAGE_EPSG`):
:func:`ewkb_hex` encodes shapely geometries for parameters (``CAST(:geom AS geometry)`` reads
it, SRID included), :func:`geometries` decodes ``ST_AsBinary`` columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from access.scope import Scope
from gis import clock
from gis.crs import STORAGE_EPSG

__all__ = [
    "Executor",
    "SRID",
    "valid_at",
    "as_of_param",
    "scope_filter",
    "ewkb_hex",
    "geometries",
    "rows_frame",
    "geo_frame",
    "like_escape",
    "create_stage",
    "copy_columns",
]

Executor = Connection | Session

#: Storage SRID of every geometry column (CGCS2000 geographic, lon/lat).
SRID = STORAGE_EPSG


def valid_at(alias: str | None = None, *, param: str = "as_of") -> str:
    """The one as-of predicate over ``grid_versions`` (``valid_from``/``valid_to``).

    With ``:as_of`` NULL it selects the current versions (``valid_to IS NULL``); with a moment,
    the versions valid then (``valid_from <= t < valid_to``). Bind the moment with
    :func:`as_of_param`.
    """
    p = f"{alias}." if alias else ""
    t = f"CAST(:{param} AS timestamptz)"
    return (
        f"(({t} IS NULL AND {p}valid_to IS NULL) OR "
        f"({p}valid_from <= {t} AND ({p}valid_to IS NULL OR {p}valid_to > {t})))"
    )


def as_of_param(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    """The bind value for :func:`valid_at`: a date means the end of that local day."""
    return clock.as_moment(value)


def scope_filter(column: str, scope: Scope | None, params: dict[str, Any], *, name: str = "scope_patterns") -> str:
    """The one scope filter: SQL restricting ``column`` (a grid code) to ``scope``.

    ``None`` or an unrestricted scope → ``TRUE``; an empty scope → ``FALSE``; otherwise
    ``column LIKE ANY(:scope_patterns)`` over the scope's code prefixes (the patterns are bound
    into ``params``). Row-level security enforces the same scope again in PostgreSQL.
    """
    if scope is None:
        return "TRUE"
    scope = Scope.coerce(scope)
    if scope.everything:
        return "TRUE"
    if not scope.prefixes:
        return "FALSE"
    params[name] = [p + "%" for p in scope.prefixes]
    return f"({column} LIKE ANY(:{name}))"


def ewkb_hex(geoms: Any) -> list[str | None]:
    """Hex EWKB (SRID 4490, 2D) of each geometry, ``None`` for missing ones: the one encoder."""
    arr = np.asarray(geoms, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    flat = shapely.force_2d(arr)
    with_srid = shapely.set_srid(flat, SRID)
    return list(shapely.to_wkb(with_srid, hex=True, include_srid=True))


def geometries(values: Sequence[Any]) -> np.ndarray:
    """Decode WKB values (``bytes``/``memoryview``, ``None`` allowed) into shapely geometries."""
    return shapely.from_wkb([bytes(v) if v is not None else None for v in values]) if len(values) else np.array([], dtype=object)


def rows_frame(db: Executor, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run ``sql`` into a DataFrame (column names from the result)."""
    result = db.execute(text(sql), params or {})
    return pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))


def geo_frame(db: Executor, sql: str, params: dict[str, Any] | None = None, *, geom: str = "geom") -> gpd.GeoDataFrame:
    """Run ``sql`` (selecting ``ST_AsBinary(...) AS <geom>``) into a GeoDataFrame in EPSG:4490."""
    table = rows_frame(db, sql, params)
    wkb = table.pop(geom) if geom in table.columns else pd.Series([], dtype=object)
    return gpd.GeoDataFrame(
        table, geometry=gpd.GeoSeries(geometries(list(wkb)), crs=SRID, index=table.index), crs=SRID
    )


def like_escape(value: str) -> str:
    """``value`` with LIKE wildcards escaped (use with ``ESCAPE '\\'``)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def create_stage(conn: Connection, columns: dict[str, str], *, prefix: str = "stage") -> str:
    """Create a temporary staging table (dropped at commit) with ``{column: SQL type}``; its name."""
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    ddl = ", ".join(f"{col} {sqltype}" for col, sqltype in columns.items())
    conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({ddl}) ON COMMIT DROP"))
    return name


def copy_columns(conn: Connection, table: str, columns: dict[str, Any]) -> int:
    """COPY whole columns (``{name: array}``, equal lengths) into ``table``; returns the rows sent.

    The columns become one Arrow table written as CSV by pyarrow (C++, no Python loop per row):
    ``None``/NaN-free object arrays of ``str`` become text (``None`` → NULL, ``""`` stays an empty
    string), numbers keep their exact value (shortest round-trip decimal), lists of strings become
    ``text[]`` literals. One ``COPY … FROM STDIN (FORMAT csv)`` per call.
    """
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    arrays = {}
    n = None
    for name, values in columns.items():
        if isinstance(values, pa.Array | pa.ChunkedArray):
            array = values
        else:
            values = np.asarray(values) if not isinstance(values, np.ndarray) else values
            if values.dtype == object:
                array = pa.array(values, type=pa.string(), from_pandas=True)
            else:
                array = pa.array(values, from_pandas=True)
        arrays[name] = array
        n = len(array) if n is None else n
        if len(array) != n:
            raise ValueError(f"column {name!r} has {len(array)} values but the others {n}")
    if not n:
        return 0
    buffer = io.BytesIO()
    pacsv.write_csv(pa.table(arrays), buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(arrays)}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getbuffer())
    return int(n)


def text_array_literals(values: Any) -> np.ndarray:
    """``text[]`` input literals (``{"a","b"}``) of lists of strings, as an object array."""
    out = np.empty(len(values), dtype=object)
    for i, items in enumerate(values):
        if not items:
            out[i] = "{}"
        else:
            out[i] = "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in items) + "}"
    return out
