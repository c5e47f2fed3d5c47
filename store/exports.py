"""The rows each export writes: grids (as of a date), households with their householder, incidents, staff.

Raw rows, personal data included: :func:`etl.export.query_export` masks them unless the export is
made with personal data. Geometries in EPSG:4490.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from store.governance import staff_table
from store.sql import Executor, as_of_param, geo_frame, valid_at

__all__ = ["export_rows"]

_HOUSEHOLDS_SQL = """
    SELECT h.household_key, h.address, h.building_no, h.house_no, h.members,
           array_to_string(h.special_kinds, ',') AS special_kinds,
           coalesce(h.grid_code, '') AS grid_code, h.refreshed_at,
           r.name AS householder_name, r.id_number AS householder_id_number, r.phone AS householder_phone,
           ST_AsBinary(h.geom) AS geom
    FROM households h
    LEFT JOIN LATERAL (
        SELECT name, id_number, phone FROM residents r WHERE r.household_id = h.id
        ORDER BY (r.relation = '户主') DESC NULLS LAST, r.id LIMIT 1
    ) r ON TRUE
    ORDER BY h.household_key
"""
_INCIDENTS_SQL = """
    SELECT coalesce(i.incident_key, 'id:' || i.id) AS incident_key, i.id, i.reported_at, i.category, i.description,
           i.status, i.disposition, i.address, coalesce(i.grid_code, '') AS grid_code,
           coalesce(i.grid_code_at_report, '') AS grid_code_at_report, i.reporter_name, i.deadline, i.closed_at, ST_AsBinary(i.geom) AS geom
    FROM incidents i ORDER BY i.id
"""
_GRIDS_SQL = f"""
    SELECT code, level, parent_code, name, version, valid_from, ST_AsBinary(geom) AS geom FROM grid_versions
    WHERE {valid_at()} AND (CAST(:level AS int) IS NULL OR level = :level)
    ORDER BY code
"""

#: Cameras without their stream URL (it carries credentials, and a redacted one read back would
#: replace the real one): ``gridgov import cameras`` reads the file back unchanged.
_CAMERAS_SQL = """
    SELECT camera_key, name, type, status, coalesce(grid_code, '') AS grid_code, ST_AsBinary(geom) AS geom
    FROM cameras ORDER BY camera_key
"""


def export_rows(
    db: Executor, what: str, *, level: int | None = None, as_of: dt.datetime | dt.date | None = None
) -> pd.DataFrame:
    """The rows of ``what`` (grids | households | incidents | staff | cameras); a GeoDataFrame except for staff."""
    if what == "staff":
        return staff_table(db)
    sql = {"grids": _GRIDS_SQL, "households": _HOUSEHOLDS_SQL, "incidents": _INCIDENTS_SQL, "cameras": _CAMERAS_SQL}[what]
    return geo_frame(db, sql, {"level": level, "as_of": as_of_param(as_of)})
