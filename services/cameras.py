"""Cameras (雪亮工程) as use cases: the map layer and a grid's cameras, with stream addresses only for
roles that may see them.

Importing (``gridgov import cameras``) is :func:`services.imports.load_rows` with kind ``cameras``
(the same validation and one-transaction load as households); exporting is
:func:`services.exports.export_to_file` with ``cameras``. A stream address is given only to a role
with ``view_camera_streams`` (:func:`governance.cameras.visible_stream_url`), redacted for display;
reading one unredacted (for the player) is audited.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import may, require
from governance.cameras import visible_stream_url
from store import audit, cameras
from store.session import unit_of_work

__all__ = ["camera_layer", "grid_camera_list", "stream_for_player"]


def _with_streams(db: Connection, actor: Actor, rows: gpd.GeoDataFrame | list[dict]) -> dict[int, str | None]:
    allowed = may(actor.role, "view_camera_streams")
    ids = [int(r["id"]) for r in (rows.to_dict("records") if isinstance(rows, gpd.GeoDataFrame) else rows)]
    stored = cameras.camera_streams(db, ids) if allowed else {}
    return {i: visible_stream_url(stored.get(i), may_see=allowed) for i in ids}


def camera_layer(bind: Engine | Connection, actor: Actor) -> gpd.GeoDataFrame:
    """The cameras the actor may see (EPSG:4490) with ``stream_url`` redacted, or ``None`` for roles
    that may not see streams."""
    require(actor.role, "view_map")
    with unit_of_work(bind, actor) as db:
        frame = cameras.cameras_frame(db)
        streams = _with_streams(db, actor, frame)
    return frame.assign(stream_url=[streams.get(int(i)) for i in frame["id"]])


def grid_camera_list(bind: Engine | Connection, actor: Actor, code: str) -> list[dict]:
    """The cameras of grid ``code`` and below for its card (stream URL as :func:`camera_layer`)."""
    require(actor.role, "view_map")
    with unit_of_work(bind, actor) as db:
        rows = cameras.grid_cameras(db, code)
        streams = _with_streams(db, actor, rows)
    return [{**r, "stream_url": streams.get(int(r["id"]))} for r in rows]


def stream_for_player(bind: Engine | Connection, actor: Actor, camera_ids: Sequence[int]) -> dict[int, str]:
    """Stream URLs as stored (with credentials) for the video player; needs ``view_camera_streams``; audited."""
    require(actor.role, "view_camera_streams")
    with unit_of_work(bind, actor) as db:
        found = cameras.camera_streams(db, camera_ids)
        audit.record(db, "read_stream", object_type="cameras", object_ids=list(found), row_count=len(found))
    return found
