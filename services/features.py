"""The published feature collections (OGC API – Features): what exists and its features, for the caller.

One read per call (permission ``view_map``) in a transaction bound to the acting account, so
row-level security decides which incident counts (and cameras) it sees; grids are public to
every account. The collections and their SQL are :mod:`store.features`; households and residents
are never published.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from boundaries.coding import CodeScheme, default_scheme
from store import features as feature_store
from store.features import Collection, Moment, Output
from store.session import read_only

__all__ = ["Collection", "Moment", "Output", "collections", "extent", "query", "get"]


def collections(bind: Engine | Connection, actor: Actor, *, scheme: CodeScheme | None = None) -> list[Collection]:
    """The collections published for every level of the code scheme (cameras only when that table exists)."""
    require(actor.role, "view_map")
    scheme = scheme or default_scheme()
    with read_only(bind, actor) as db:
        return feature_store.published_collections(db, range(1, scheme.levels + 1))


def extent(bind: Engine | Connection, actor: Actor) -> tuple[float, float, float, float] | None:
    """(lon_min, lat_min, lon_max, lat_max) EPSG:4490 of the current grids."""
    require(actor.role, "view_map")
    with read_only(bind, actor) as db:
        return feature_store.extent(db)


def query(bind: Engine | Connection, actor: Actor, collection: Collection, **kwargs: Any) -> tuple[list[dict], int]:
    """Features of ``collection`` the actor may see and how many match (:func:`store.features.query_features`)."""
    require(actor.role, "view_map")
    with read_only(bind, actor) as db:
        return feature_store.query_features(db, collection, **kwargs)


def get(bind: Engine | Connection, actor: Actor, collection: Collection, identifier: str, *, out: Output) -> dict | None:
    """One feature, ``None`` when absent or out of the actor's scope (the same answer: 404)."""
    require(actor.role, "view_map")
    with read_only(bind, actor) as db:
        return feature_store.get_feature(db, collection, identifier, out=out)
