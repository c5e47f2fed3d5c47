"""Vector tiles for the maps and API clients: made by PostGIS, cached per changeset.

:class:`TileService` answers ``(layer, z/x/y)`` for an actor:

* **grid levels** (``grids-1`` … ``grids-5``) are the same for everyone (the boundary tables are
  readable by every account), so one cached tile serves all. The cache follows the plan: at most
  once a second (:attr:`TileService.check_interval_s`) the service reads the newest changeset;
  when one or more changesets were saved since, it evicts exactly the cached tiles that the
  geometries they added, replaced or retired touch — per level, with the tiles' buffer — and
  keeps every other tile. A change to the grids without a changeset (which the application
  does not make) is caught by a fingerprint of the current grids and flushes the grid tiles.
* **incident density** (``incidents``) depends on who looks (row-level security), so it is
  cached per scope and per data version (:func:`store.queries.data_version`: any write moves it).

Every request checks the ``view_map`` (grids) or ``view_incidents`` permission. Tile requests
are audited in aggregate — one ``tiles`` entry per account for each minute in which it fetched
tiles, with the count per layer and the zoom range — not one row per tile (a map pan fetches
dozens); the first request of each minute writes its entry at once, later ones are added to
the next entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from access.actor import Actor
from access.permissions import require
from gis.errors import NotFoundError
from gis.tiles import INCIDENT_LAYER, TILE_LAYERS, Tile, level_of_layer, tiles_covering
from store import audit
from store import queries
from store import tiles as tile_store
from store.session import read_only, unit_of_work

__all__ = ["TileCache", "TileService", "TileResult", "DATUMS"]

#: Display datums a tile can be made in: WGS 84 (≈ CGCS2000) or GCJ-02 (Amap basemap).
DATUMS = ("wgs84", "gcj02")


@dataclass(frozen=True)
class TileResult:
    """A tile's bytes (MVT, possibly empty), its ETag, and whether it came from the cache."""

    data: bytes
    etag: str
    cached: bool


class TileCache:
    """A thread-safe LRU of tiles bounded by total bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self._entries: OrderedDict[Hashable, TileResult] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evicted = 0

    def get(self, key: Hashable) -> TileResult | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, value: TileResult) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.data)
            self._entries[key] = value
            self._bytes += len(value.data)
            while self._bytes > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.data)

    def evict(self, predicate: Callable[[Hashable], bool]) -> int:
        """Remove every entry whose key ``predicate`` accepts; the number removed."""
        with self._lock:
            doomed = [k for k in self._entries if predicate(k)]
            for key in doomed:
                self._bytes -= len(self._entries.pop(key).data)
            self.evicted += len(doomed)
            return len(doomed)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _shifted_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``box`` (degrees) as drawn over a GCJ-02 basemap: its corners shifted, plus a hair."""
    from gis.crs import wgs84_to_gcj02

    west, south, east, north = box
    lon, lat = wgs84_to_gcj02([west, east, west, east], [south, south, north, north])
    pad = 1e-6
    return float(lon.min()) - pad, float(lat.min()) - pad, float(lon.max()) + pad, float(lat.max()) + pad


@dataclass
class _AuditWindow:
    started: float
    counts: dict[str, int] = field(default_factory=dict)
    zooms: list[int] = field(default_factory=list)


class TileService:
    """Tiles for actors, cached (see the module docstring). One per server process."""

    def __init__(self, engine: Engine, *, cache_bytes: int = 256 * 2**20, check_interval_s: float = 1.0,
                 audit_window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.cache = TileCache(cache_bytes)
        self.check_interval_s = check_interval_s
        self.audit_window_s = audit_window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at = -float("inf")
        self._plan: tile_store.PlanState | None = None
        self._incident_version: str = ""
        self._windows: dict[int | str, _AuditWindow] = {}
        #: Tiles evicted by the last plan change (for the tests and the logs).
        self.last_invalidated: int = 0

    # -- freshness ------------------------------------------------------------------------------
    def refresh(self, actor: Actor, *, force: bool = False) -> None:
        """Bring the cache up to the database: evict what changesets saved since changed."""
        now = self._clock()
        with self._lock:
            if not force and now - self._checked_at < self.check_interval_s:
                return
            self._checked_at = now
            with read_only(self.engine, actor) as db:
                state = tile_store.plan_state(db)
                version = queries.data_version(db)
                previous = self._plan
                boxes = (tile_store.changed_boxes(db, after=previous.changeset_id, upto=state.changeset_id)
                         if previous is not None and state.changeset_id > previous.changeset_id else [])
            self._incident_version = version
            if previous is None:
                self._plan = state
                return
            if state.changeset_id == previous.changeset_id and state.fingerprint == previous.fingerprint:
                return
            if state.changeset_id == previous.changeset_id or not boxes and state.fingerprint != previous.fingerprint:
                # the grids changed without a changeset saying where: every grid tile may be stale
                self.last_invalidated = self.cache.evict(lambda k: k[0] != INCIDENT_LAYER)
            else:
                self.last_invalidated = self._evict_touched(boxes)
            self._plan = state

    def _evict_touched(self, boxes: Sequence[tile_store.ChangedBox]) -> int:
        """Evict the cached grid tiles (of each box's level) that a changed box touches."""
        cached = [k for k in self.cache.keys() if k[0] != INCIDENT_LAYER]
        zooms = sorted({k[1].z for k in cached})
        doomed: set[Hashable] = set()
        by_layer: dict[tuple[str, str], set[Tile]] = {}
        for datum in DATUMS:
            for level in sorted({b.level for b in boxes}):
                layer_boxes = [b.box if datum == "wgs84" else _shifted_box(b.box) for b in boxes if b.level == level]
                by_layer[(f"grids-{level}", datum)] = set(
                    tiles_covering(layer_boxes, zooms, buffer_px=256 * tile_store.BUFFER / tile_store.EXTENT))
        for key in cached:
            if key[1] in by_layer.get((key[0], key[2]), ()):
                doomed.add(key)
        return self.cache.evict(lambda k: k in doomed)

    # -- tiles ----------------------------------------------------------------------------------
    def tile(
        self, actor: Actor, layer: str, tile: Tile, *, datum: str = "wgs84", statuses: Sequence[str] | None = None,
        since: dt.datetime | None = None, until: dt.datetime | None = None,
    ) -> TileResult:
        """The tile ``layer`` at ``tile`` as ``actor`` may see it.

        Raises
        ------
        NotFoundError
            The layer is not one of :data:`gis.tiles.TILE_LAYERS` or the datum is unknown.
        PermissionDenied
            The actor's role may not see the map (or incidents, for ``incidents``).
        """
        if layer not in TILE_LAYERS:
            raise NotFoundError(f"there is no tile layer {layer!r}; the layers are {', '.join(TILE_LAYERS)}",
                                code="tile.layer_unknown", params={"layer": layer, "layers": list(TILE_LAYERS)})
        if datum not in DATUMS:
            raise NotFoundError(f"there is no datum {datum!r}; use one of {', '.join(DATUMS)}",
                                code="tile.datum_unknown", params={"datum": datum, "datums": list(DATUMS)})
        require(actor.role, "view_incidents" if layer == INCIDENT_LAYER else "view_map")
        self.refresh(actor)
        if layer == INCIDENT_LAYER:
            scope = (actor.scope.everything, actor.scope.prefixes)
            window = (tuple(sorted(statuses)) if statuses else None,
                      since.isoformat() if since else None, until.isoformat() if until else None)
            key: Hashable = (layer, tile, datum, scope, window, self._incident_version)
        else:
            key = (layer, tile, datum)
        found = self.cache.get(key)
        if found is None:
            with read_only(self.engine, actor) as db:
                if layer == INCIDENT_LAYER:
                    data = tile_store.incident_density_tile(db, tile, statuses=statuses, since=since, until=until,
                                                            gcj02=datum == "gcj02")
                else:
                    data = tile_store.grid_tile(db, level_of_layer(layer) or 0, tile, gcj02=datum == "gcj02")
            found = TileResult(data, _etag(data), cached=False)
            self.cache.put(key, TileResult(data, found.etag, cached=True))
        self._audit(actor, layer, tile)
        return found

    # -- audit ----------------------------------------------------------------------------------
    def _audit(self, actor: Actor, layer: str, tile: Tile) -> None:
        who = actor.account_id if actor.account_id is not None else actor.name
        now = self._clock()
        with self._lock:
            window = self._windows.get(who)
            if window is not None and now - window.started < self.audit_window_s:
                window.counts[layer] = window.counts.get(layer, 0) + 1
                window.zooms.append(tile.z)
                return
            # A new minute: its first tile is recorded now, with what the last minute fetched after its first.
            self._windows[who] = _AuditWindow(started=now)
        entries = [w for w in (window, _AuditWindow(now, {layer: 1}, [tile.z])) if w is not None and w.counts]
        with unit_of_work(self.engine, actor) as db:
            for entry in entries:
                audit.record(db, "tiles", object_type="tiles", row_count=sum(entry.counts.values()),
                             details={"layers": entry.counts, "zoom_min": min(entry.zooms),
                                      "zoom_max": max(entry.zooms), "window_s": self.audit_window_s})

    def stats(self) -> dict[str, Any]:
        """Cache figures: entries, bytes, hits, misses, evicted."""
        return {"entries": len(self.cache), "bytes": self.cache.size_bytes, "hits": self.cache.hits,
                "misses": self.cache.misses, "evicted": self.cache.evicted}
