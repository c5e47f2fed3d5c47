"""Web-map tile arithmetic: the XYZ (slippy-map) tiles of Web Mercator, EPSG:3857.

Pure functions, no database: which tile a ``z/x/y`` is, its bounds, which tiles cover a box,
and the layer names the tile server publishes. The tiles themselves are made by PostGIS
(:mod:`store.tiles`); the cache and its invalidation live in :mod:`services.tiles`.

Boxes handed in are lon/lat degrees (EPSG:4490, which for tile arithmetic equals WGS 84: the
datums differ by centimetres, far below a pixel at any zoom the maps use). Tile bounds come out
in lon/lat degrees and in EPSG:3857 metres.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from gis.errors import ValidationError

__all__ = [
    "MAX_ZOOM",
    "WEB_MERCATOR_HALF",
    "Tile",
    "parse_tile",
    "tile_at",
    "tiles_covering",
    "lonlat_to_mercator",
    "GRID_LAYERS",
    "INCIDENT_LAYER",
    "TILE_LAYERS",
    "grid_layer",
    "level_of_layer",
]

#: The deepest zoom served (the maps stop at 19).
MAX_ZOOM = 22
#: Half the width of the Web Mercator square, metres (π × 6,378,137).
WEB_MERCATOR_HALF = math.pi * 6378137.0
#: Latitude limit of Web Mercator, degrees.
_MAX_LAT = 85.0511287798066

#: Published layers: one per grid level (``grids-1`` … ``grids-5``) and the incident density.
GRID_LAYERS: tuple[str, ...] = tuple(f"grids-{level}" for level in range(1, 6))
INCIDENT_LAYER = "incidents"
TILE_LAYERS: tuple[str, ...] = (*GRID_LAYERS, INCIDENT_LAYER)


def grid_layer(level: int) -> str:
    """The tile layer of grid level ``level`` (``grids-3`` for micro-grids of a 3-level plan)."""
    return f"grids-{int(level)}"


def level_of_layer(layer: str) -> int | None:
    """The grid level a layer name stands for, or ``None`` for a layer that is not a grid level."""
    if layer in GRID_LAYERS:
        return int(layer.split("-")[1])
    return None


@dataclass(frozen=True, order=True)
class Tile:
    """One XYZ tile: zoom ``z``, column ``x`` (west → east), row ``y`` (north → south)."""

    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        n = 1 << self.z if 0 <= self.z <= MAX_ZOOM else 0
        if not (0 <= self.z <= MAX_ZOOM and 0 <= self.x < n and 0 <= self.y < n):
            raise ValidationError(
                f"tile {self.z}/{self.x}/{self.y} does not exist: the zoom must be 0–{MAX_ZOOM} and x, y 0–2^z−1",
                code="tile.out_of_range", params={"z": self.z, "x": self.x, "y": self.y, "max_zoom": MAX_ZOOM},
            )

    @property
    def mercator_bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in EPSG:3857 metres (what ``ST_TileEnvelope`` gives)."""
        size = 2 * WEB_MERCATOR_HALF / (1 << self.z)
        minx = -WEB_MERCATOR_HALF + self.x * size
        maxy = WEB_MERCATOR_HALF - self.y * size
        return minx, maxy - size, minx + size, maxy

    @property
    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        n = 1 << self.z
        west = self.x / n * 360.0 - 180.0
        east = (self.x + 1) / n * 360.0 - 180.0
        north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * self.y / n))))
        south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (self.y + 1) / n))))
        return west, south, east, north

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


def parse_tile(z: object, x: object, y: object) -> Tile:
    """A :class:`Tile` from path parts (strings or numbers); a clear error when they are not one."""
    try:
        values = [int(str(v)) for v in (z, x, y)]
    except ValueError:
        raise ValidationError(f"tile {z}/{x}/{y} is not three whole numbers z/x/y", code="tile.not_numbers") from None
    return Tile(*values)


def lonlat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857 metres of a lon/lat in degrees (latitude clamped to Web Mercator's limit)."""
    lat = max(-_MAX_LAT, min(_MAX_LAT, lat))
    x = WEB_MERCATOR_HALF * lon / 180.0
    y = 6378137.0 * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def _column_row(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 1 << z
    x, y = lonlat_to_mercator(lon, lat)
    return (x + WEB_MERCATOR_HALF) / (2 * WEB_MERCATOR_HALF) * n, (WEB_MERCATOR_HALF - y) / (2 * WEB_MERCATOR_HALF) * n


def tile_at(lon: float, lat: float, z: int) -> Tile:
    """The tile of zoom ``z`` holding the point (lon, lat degrees)."""
    n = 1 << z
    col, row = _column_row(lon, lat, z)
    return Tile(z, min(n - 1, max(0, int(math.floor(col)))), min(n - 1, max(0, int(math.floor(row)))))


def tiles_covering(
    boxes: Iterable[Sequence[float]], zooms: Iterable[int], *, buffer_px: float = 0.0
) -> Iterator[Tile]:
    """Every tile of the given zooms that a box (west, south, east, north degrees) touches.

    ``buffer_px`` widens each box by that many pixels of a 256-px tile at each zoom (tiles carry
    a buffer of geometry beyond their edge, so a change next to a tile shows in it too). A tile
    is yielded once even when several boxes touch it.
    """
    seen: set[Tile] = set()
    boxes = [tuple(float(v) for v in b) for b in boxes]
    for z in zooms:
        n = 1 << z
        pad = buffer_px / 256.0
        for west, south, east, north in boxes:
            col0, row0 = _column_row(west, north, z)
            col1, row1 = _column_row(east, south, z)
            x0, x1 = max(0, math.floor(col0 - pad)), min(n - 1, math.floor(col1 + pad))
            y0, y1 = max(0, math.floor(row0 - pad)), min(n - 1, math.floor(row1 + pad))
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    tile = Tile(z, x, y)
                    if tile not in seen:
                        seen.add(tile)
                        yield tile
