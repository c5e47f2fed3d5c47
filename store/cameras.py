"""Cameras (雪亮工程) in the database: the map layer, a grid's cameras, stream addresses.

The application role cannot read ``cameras.stream_url`` (column privileges, migration 0003): the
addresses often carry credentials, and only roles with ``view_camera_streams`` get them, through
``gridgov.camera_streams`` (which checks the permission and the reader's grids).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
from sqlalchemy import text

from access.scope import Scope
from store.sql import Executor, geo_frame, rows_frame, scope_filter

__all__ = ["cameras_frame", "grid_cameras", "camera_streams", "camera_id_by_key"]


def cameras_frame(db: Executor, *, scope: Scope | Sequence[str] | None = None, grid_prefix: str | None = None) -> gpd.GeoDataFrame:
    """``id``, ``camera_key``, ``name``, ``type``, ``status``, ``grid_code`` and the point (EPSG:4490)."""
    params: dict[str, Any] = {"prefix": None if grid_prefix is None else grid_prefix + "%"}
    where = scope_filter("grid_code", scope, params) + " AND (CAST(:prefix AS text) IS NULL OR grid_code LIKE :prefix)"
    return geo_frame(db, "SELECT id, camera_key, name, type, status, grid_code, ST_AsBinary(geom) AS geom "
                         f"FROM cameras WHERE {where} ORDER BY grid_code, camera_key", params)


def grid_cameras(db: Executor, code: str) -> list[dict[str, Any]]:
    """The cameras of grid ``code`` and below (id, key, name, type, status), by key."""
    frame = rows_frame(db, "SELECT id, camera_key, name, type, status, grid_code FROM cameras "
                           "WHERE grid_code LIKE :p ORDER BY camera_key", {"p": code + "%"})
    return frame.to_dict("records")


def camera_streams(db: Executor, ids: Sequence[int]) -> dict[int, str]:
    """``id`` → stream URL as stored, for the reader's cameras; needs ``view_camera_streams``
    (the database refuses otherwise)."""
    if not ids:
        return {}
    rows = db.execute(text("SELECT id, stream_url FROM gridgov.camera_streams(:ids)"), {"ids": [int(i) for i in ids]})
    return {int(i): str(u) for i, u in rows.all()}


def camera_id_by_key(db: Executor, key: str) -> int | None:
    """The id of the camera with ``camera_key`` (in the reader's grids), or ``None``."""
    value = db.execute(text("SELECT id FROM cameras WHERE camera_key = :k"), {"k": key}).scalar()
    return None if value is None else int(value)
