"""Tile arithmetic (gis.tiles) and the tile cache (services.tiles.TileCache), without a database."""

from __future__ import annotations

import math

import pytest

from gis.errors import ValidationError
from gis.tiles import Tile, level_of_layer, lonlat_to_mercator, parse_tile, tile_at, tiles_covering
from services.tiles import TileCache, TileResult


def test_tile_bounds_match_the_web_mercator_pyramid() -> None:
    assert Tile(0, 0, 0).mercator_bounds == pytest.approx((-20037508.342789244, -20037508.342789244,
                                                          20037508.342789244, 20037508.342789244))
    west, south, east, north = Tile(1, 1, 0).lonlat_bounds
    assert (west, east) == (0.0, 180.0) and south == pytest.approx(0.0, abs=1e-9) and north == pytest.approx(85.0511287798)
    # a tile of the demo street (Yueyang) at z=14 holds the point it was computed from
    tile = tile_at(113.1, 29.37, 14)
    w, s, e, n = tile.lonlat_bounds
    assert w <= 113.1 < e and s <= 29.37 < n
    x0, y0, x1, y1 = tile.mercator_bounds
    mx, my = lonlat_to_mercator(113.1, 29.37)
    assert x0 <= mx < x1 and y0 <= my < y1 and x1 - x0 == pytest.approx(2 * math.pi * 6378137 / 2**14)


@pytest.mark.parametrize("parts", [("3", "8", "0"), ("-1", "0", "0"), ("2", "0", "4"), ("a", "0", "0"), ("23", "0", "0")])
def test_a_tile_outside_the_pyramid_is_refused(parts) -> None:
    with pytest.raises(ValidationError, match="does not exist|whole numbers"):
        parse_tile(*parts)


def test_tiles_covering_a_box_with_and_without_buffer() -> None:
    z = 12
    a = tile_at(113.10, 29.40, z)
    b = tile_at(113.20, 29.35, z)
    covered = set(tiles_covering([(113.10, 29.35, 113.20, 29.40)], [z]))
    expected = {Tile(z, x, y) for x in range(a.x, b.x + 1) for y in range(a.y, b.y + 1)}
    assert covered == expected
    # a point box at a tile's interior needs only that tile; a buffer of 4 px reaches the neighbours
    # only when the box lies within 4 px of an edge
    w, s, e, n = a.lonlat_bounds
    corner = (w + 1e-9, n - 1e-9, w + 1e-9, n - 1e-9)
    assert set(tiles_covering([corner], [z])) == {a}
    assert set(tiles_covering([corner], [z], buffer_px=4)) == {
        Tile(z, a.x + dx, a.y + dy) for dx in (-1, 0) for dy in (-1, 0)}
    middle = ((w + e) / 2, (s + n) / 2, (w + e) / 2, (s + n) / 2)
    assert set(tiles_covering([middle], [z], buffer_px=4)) == {a}


def test_layer_names() -> None:
    assert level_of_layer("grids-3") == 3 and level_of_layer("incidents") is None and level_of_layer("grids-9") is None


def test_the_cache_is_bounded_by_bytes_least_recently_used_first() -> None:
    cache = TileCache(max_bytes=10)
    for key in "abc":
        cache.put(key, TileResult(b"xxxx", "e", True))
    assert cache.keys() == ["b", "c"] and cache.size_bytes == 8  # 'a' went: 12 bytes > 10
    assert cache.get("b") is not None  # b is now the most recent
    cache.put("d", TileResult(b"xxxx", "e", True))
    assert cache.keys() == ["b", "d"]
    assert cache.evict(lambda k: k == "d") == 1 and cache.keys() == ["b"] and cache.size_bytes == 4
    assert cache.get("zzz") is None and (cache.hits, cache.misses) == (1, 1)
