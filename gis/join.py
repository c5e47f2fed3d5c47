"""Exact, vectorized point → polygon assignment.

The rule
--------
A point gets the key of a polygon that *covers* it (shapely/GEOS ``covered_by``: interior
or boundary, so a point exactly on an edge or a vertex matches). When several polygons
cover a point — a shared edge or vertex of a coverage, or overlapping polygons — the
smallest key wins (keys compared as ``str(key)``). A point no polygon covers, and a missing,
empty, NaN or infinite point, gets ``None``. A point inside a hole is not covered by that
polygon, one on a hole's ring is (it is on the boundary); a MultiPolygon covers a point
when one of its parts does; for an invalid polygon the answer is still GEOS's (its
point-in-polygon rule ring by ring: outside the shell → no, on any ring → yes, inside the
first hole that does not exclude the point → no). The answers are those of
``shapely.STRtree(polygons).query(points, predicate="covered_by")`` plus the tie rule, on
every point; that query is kept as :func:`_assign_points_strtree`, the reference the tests
compare against.

CRS and units
-------------
Points and polygons must be in the same CRS: GeoSeries/GeoDataFrame inputs are checked
(:class:`~gis.errors.CRSError` when they differ or only one has a CRS); plain arrays and
``xy=`` coordinates are taken to be in the polygons' CRS. The method is planar, like GEOS's
predicates, and works in any CRS — geographic (lon/lat degrees; GridGov stores EPSG:4490)
or projected (metres): nothing is reprojected and the grid below is laid out in the input's
coordinate units (a cell is a square in those units: for 10,000 grids over 0.15° × 0.13°,
0.00025° for a one-shot call and 0.00012° for a kept index; in a metric CRS, metres).

The method (:class:`CoverageIndex`)
-----------------------------------
1. **Cells.** A regular grid of square cells covers the polygons' extent: about
   ``cells_per_polygon`` cells per polygon part (or per 32 edges, whichever is more; 32 for
   a one-shot :func:`assign_points`, 128 for a kept index). Every edge of every ring —
   shells and holes alike — is listed in each cell it may touch. The list is a superset:
   cells are widened by a margin (1e-9 of a cell + 256 ulps of the largest coordinate) that
   is larger than any rounding in the binning of points or in this rasterisation.
2. **Interior lookup.** A sweep along the centre line of every row of cells counts, with
   exact orientation tests, the ring crossings left of each cell centre, so it knows which
   rings contain each centre. A cell no edge touches lies wholly inside or outside every
   ring, so all its points get one precomputed answer — the covering polygon with the
   smallest key, or none — through one int32 lookup. Most points end here.
3. **Exact boundary test.** A cell that edges touch (a *boundary cell*) keeps a block: the
   candidate polygon parts in key order, each with its rings' edges in the cell and the
   rings' parity at the cell centre ``r``. A point ``p`` there is first tested for lying on
   an edge (exact: boundary points are covered); otherwise a ring's parity at ``p`` is its
   parity at ``r`` flipped by each crossing of the axis-parallel path ``r → (p.x, r.y) → p``
   (which stays inside the cell) with the ring's edges in the cell — with the straight
   segment ``r p`` instead in the rare case where the path's corner lies on an edge. The
   first part in key order that covers ``p`` wins: that is the tie rule. Polygons covering
   the whole cell (none of their edges in it) are folded into one "best key so far" per
   cell; a cell split by one shared chain of edges between two parts is stored once and
   decided with one ring test. All of this runs in compiled kernels (numba,
   :mod:`gis._grid_kernels`), one call per batch; the points of boundary cells are processed
   in block order (a counting sort) for cache locality.
4. **Exactness.** Every geometric decision is an orientation sign from a floating-point
   filter with an exact expansion fallback (Shewchuk's error bound, error-free two-sum and
   two-product), valid for non-zero coordinate magnitudes in ``[1e-100, 1e100]``. The rare
   points the kernel does not decide that way — such coordinates, cells whose centre lies
   exactly on an edge, rings nested as no valid polygon is — and non-point geometries among
   the points are answered by the shapely reference. The result is exact on every point.

Memory (float64 coordinates, int32 indices), measured with ``bench/assign.py`` at
1,000,000 points × 10,000 grids of ~29 vertices: a one-shot call grows the process by ~80
bytes per point in all — the index (~25 MB here, freed after the call), the points' x and
y (16 bytes per point), an int32 answer, 28 bytes per point of a boundary cell in the
kernel, and the output object array (8 bytes per point). A kept index of those grids
holds ~50 MB; a call on it then adds ~34 bytes per point (~22 with ``xy=``). Coordinates
can be passed as ``xy=(x, y)`` or an ``(n, 2)`` array instead of shapely points, which also
saves making (and reading) the points.

When numba cannot be imported or a kernel fails to compile, the index falls back to the
shapely reference (same answers, ~10× slower) with a logged warning. Few points (fewer than
``_BUCKET_MIN_POINTS`` or ``_BUCKET_POINTS_PER_POLYGON`` per polygon) go straight to the
reference, which is then faster than building a grid.

Keeping the index: grids change rarely. A caller assigning batches of points to the same
polygons can build a :class:`CoverageIndex` once, or pass ``cache_token=`` (e.g. a changeset
id or data version) to :func:`assign_points`, which keeps the last few indexes in a small
LRU cache by that token (:func:`coverage_index`); the caller guarantees that one token
always names the same polygons and keys.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from gis.errors import CRSError

__all__ = ["assign_points", "CoverageIndex", "coverage_index", "cached_index", "clear_index_cache"]

logger = logging.getLogger(__name__)

#: The grid index is used from this many points, and from this many points per polygon;
#: below that the plain STRtree query is faster (no grid to build).
_BUCKET_MIN_POINTS = 1_000
_BUCKET_POINTS_PER_POLYGON = 8
#: Cells of the grid: this many per polygon part, or this many / 32 per edge, whichever is
#: more. A kept index (:class:`CoverageIndex`, :func:`coverage_index`) is built finer than
#: the one :func:`assign_points` builds for a single call: more cells cost build time and
#: memory and spare boundary tests (measured at 1,000,000 points × 10,000 grids: 32 was the
#: fastest build + assign, 128 the fastest assign).
_CELLS_PER_POLYGON = 128
_CELLS_PER_POLYGON_ONE_SHOT = 32
#: Upper bound of the number of cells (int32 each) and of cells along one axis.
_MAX_CELLS = 1 << 26
_MAX_CELLS_PER_AXIS = 1 << 15
#: How many indexes :func:`coverage_index` keeps.
_INDEX_CACHE_SIZE = 4

_NO_CRS = object()


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------
def _geometry_array(values: Any) -> np.ndarray:
    if hasattr(values, "geometry") and hasattr(values, "columns"):
        values = values.geometry
    if hasattr(values, "array") and hasattr(values, "crs"):
        return np.asarray(values.array, dtype=object)
    return np.asarray(values, dtype=object)


def _crs_of(values: Any) -> Any:
    if hasattr(values, "geometry") and hasattr(values, "columns"):
        values = values.geometry
    return values.crs if hasattr(values, "crs") else _NO_CRS


def _check_crs(a: Any, b: Any) -> None:
    """Raise when both inputs carry a CRS and they differ, or only one of them has one."""
    if a is _NO_CRS or b is _NO_CRS:
        return
    if a is None or b is None:
        raise CRSError("both points and polygons need a CRS to be joined (one of them has none)")
    if CRS.from_user_input(a) != CRS.from_user_input(b):
        raise CRSError(
            f"points are in {CRS.from_user_input(a).to_string()} but polygons in "
            f"{CRS.from_user_input(b).to_string()}; reproject one of them first"
        )


def _check_same_crs(points: Any, polygons: Any) -> None:
    """Raise when both inputs carry a CRS and they differ, or only one of them has one."""
    _check_crs(_crs_of(points), _crs_of(polygons))


def _key_ranks(key_arr: np.ndarray) -> np.ndarray:
    """Rank of each key (0 = smallest ``str(key)``; equal strings by position)."""
    text = [str(k) for k in key_arr]
    if any(t.endswith("\x00") for t in text):  # NumPy's fixed-width strings drop trailing NULs
        order = np.argsort(np.array(text, dtype=object), kind="stable")
    else:
        order = np.argsort(np.array(text, dtype=str), kind="stable")  # code point order, like str
    rank = np.empty(len(key_arr), dtype=np.int64)
    rank[order] = np.arange(len(key_arr))
    return rank


def _keys_array(keys: Any, n_polygons: int) -> np.ndarray:
    key_list = list(keys)
    key_arr = np.empty(len(key_list), dtype=object)
    key_arr[:] = key_list
    if len(key_arr) != n_polygons:
        raise ValueError(f"keys has {len(key_arr)} entries but there are {n_polygons} polygons")
    return key_arr


def _points_xy(points: Any, xy: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """``(x, y, geometries or None, indices of non-point geometries)`` of the input points.

    Missing and empty points get NaN coordinates (so no polygon). Non-point geometries
    (possible in a plain array) also get NaN and are listed: the caller answers them with
    the STRtree ``covered_by`` query, as before.
    """
    if xy is not None:
        if points is not None:
            raise ValueError("give either points or xy=(x, y), not both")
        if isinstance(xy, np.ndarray) and xy.ndim == 2:
            if xy.shape[1] != 2:
                raise ValueError(f"xy has shape {xy.shape} but is expected to be (n, 2) or a pair (x, y)")
            x, y = xy[:, 0], xy[:, 1]
        else:
            x, y = xy
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape:
            raise ValueError(f"x and y have shapes {x.shape} and {y.shape} but are expected to be equal 1-d")
        return x, y, None, np.empty(0, dtype=np.intp)
    geoms = _geometry_array(points)
    if geoms.ndim != 1:
        geoms = geoms.ravel()
    try:
        x = shapely.get_x(geoms)
        y = shapely.get_y(geoms)
    except shapely.errors.GEOSException:  # an empty point: GEOS refuses getX
        empty = shapely.is_empty(geoms)
        x = np.full(len(geoms), np.nan)
        y = np.full(len(geoms), np.nan)
        keep = ~empty
        x[keep] = shapely.get_x(geoms[keep])
        y[keep] = shapely.get_y(geoms[keep])
    other = np.empty(0, dtype=np.intp)
    nan = np.flatnonzero(np.isnan(x))
    if len(nan):
        types = shapely.get_type_id(geoms[nan])  # -1 missing, 0 point
        other = nan[types > 0]
    return x, y, geoms, other


# --------------------------------------------------------------------------------------
# the reference: one STRtree query
# --------------------------------------------------------------------------------------
def _strtree_positions(tree: shapely.STRtree, geoms: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Index of the covering polygon with the smallest rank per geometry, -1 for none."""
    out = np.full(len(geoms), -1, dtype=np.int64)
    point_idx, poly_idx = tree.query(geoms, predicate="covered_by")
    if not len(point_idx):
        return out
    sort = np.lexsort((rank[poly_idx], point_idx))
    point_idx, poly_idx = point_idx[sort], poly_idx[sort]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    out[point_idx[first]] = poly_idx[first]
    return out


def _usable(polys: np.ndarray) -> np.ndarray:
    return np.where(shapely.is_missing(polys) | shapely.is_empty(polys), None, polys)


def _assign_points_strtree(points: Any, polygons: Any, *, keys: Any) -> np.ndarray:
    """The reference: ``STRtree.query(points, predicate="covered_by")``, smallest key wins.

    The implementation :func:`assign_points` had before the grid index; kept for tests and
    benchmarks (and used for few points). Same inputs, checks and output.
    """
    _check_same_crs(points, polygons)
    pts = _geometry_array(points)
    polys = _geometry_array(polygons)
    key_arr = _keys_array(keys, len(polys))
    out = np.full(len(pts), None, dtype=object)
    if not len(pts) or not len(polys):
        return out
    positions = _strtree_positions(shapely.STRtree(_usable(polys)), pts, _key_ranks(key_arr))
    hit = positions >= 0
    out[hit] = key_arr[positions[hit]]
    return out


# --------------------------------------------------------------------------------------
# the grid index
# --------------------------------------------------------------------------------------
_KERNELS: Any = None
_KERNELS_TRIED = False
_KERNELS_LOCK = threading.Lock()


def _kernels() -> Any:
    """The compiled kernels module, or ``None`` (logged once) when numba is unusable."""
    global _KERNELS, _KERNELS_TRIED
    if _KERNELS_TRIED:
        return _KERNELS
    with _KERNELS_LOCK:
        if not _KERNELS_TRIED:
            try:
                from gis import _grid_kernels
            except Exception as exc:  # ImportError, a broken llvmlite, …
                logger.warning("gis.join: numba is unavailable (%s: %s); using the exact shapely path, "
                               "which is slower", type(exc).__name__, exc)
                _grid_kernels = None
            _KERNELS = _grid_kernels
            _KERNELS_TRIED = True
    return _KERNELS


class _Grid:
    """The compiled index's arrays (see the module docstring)."""

    __slots__ = ("xmin", "ymin", "xmax", "ymax", "size", "inv", "nx", "ny", "cxs", "cys", "cell_value", "block_off", "blocks",
                 "rank_poly", "n_boundary", "n_slow", "n_edge_entries")


def _build_grid(kernels: Any, polys: np.ndarray, rank: np.ndarray, cells_per_polygon: float) -> _Grid | None:
    """Build the grid over the usable polygons, or ``None`` when the reference must be used.

    ``polys``: geometries with ``None`` for unusable ones; ``rank``: key rank per polygon.
    ``None`` is returned for inputs the kernels do not take — a non-polygonal geometry
    among the polygons, non-finite coordinates, magnitudes outside ``[TINY, HUGE]``, a
    degenerate extent — all of which the STRtree reference handles.
    """
    present = ~shapely.is_missing(polys)
    types = shapely.get_type_id(polys)
    if np.any(present & ~np.isin(types, (3, 6)) & ~shapely.is_empty(polys)):
        return None
    idx = np.flatnonzero(present & np.isin(types, (3, 6)) & ~shapely.is_empty(polys))
    if not len(idx):
        return None
    parts, part_of = shapely.get_parts(polys[idx], return_index=True)
    part_poly = idx[part_of]
    keep = ~shapely.is_empty(parts)
    parts, part_poly = parts[keep], part_poly[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)  # shell first, then holes
    first_of_part = np.searchsorted(ring_part, ring_part, side="left")
    ring_pos = np.arange(len(rings)) - first_of_part
    keep = shapely.get_num_coordinates(rings) > 0
    rings, ring_part, ring_pos = rings[keep], ring_part[keep], ring_pos[keep]
    coords, vert_ring = shapely.get_coordinates(rings, return_index=True)
    if not len(coords) or not np.isfinite(coords).all():
        return None
    mag = np.abs(coords)
    if mag.max() > kernels.HUGE or np.any((mag > 0) & (mag < kernels.TINY)):
        return None
    xs = np.ascontiguousarray(coords[:, 0])
    ys = np.ascontiguousarray(coords[:, 1])
    del coords, mag
    n_rings = len(rings)
    ring_start = np.searchsorted(vert_ring, np.arange(n_rings), side="left").astype(np.int64)
    ring_end = np.searchsorted(vert_ring, np.arange(n_rings), side="right").astype(np.int64)
    xmin, xmax, ymin, ymax = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    width, height = xmax - xmin, ymax - ymin
    if not (width > 0 and height > 0):
        return None
    n_edges = len(xs) - n_rings
    cells = int(min(_MAX_CELLS, max(cells_per_polygon * len(parts), cells_per_polygon / 32 * n_edges, 1)))
    size = float(np.sqrt(width * height / cells))
    size = max(size, width / _MAX_CELLS_PER_AXIS, height / _MAX_CELLS_PER_AXIS)
    nx = max(1, int(np.ceil(width / size)))
    ny = max(1, int(np.ceil(height / size)))
    while xmin + nx * size < xmax:  # the last column must reach xmax
        nx += 1
    while ymin + ny * size < ymax:
        ny += 1
    inv = 1.0 / size
    maxabs = max(abs(xmin), abs(xmax), abs(ymin), abs(ymax))
    margin = 1e-9 * size + 256 * np.finfo(float).eps * maxabs
    cxs = xmin + (np.arange(nx) + 0.5) * size
    cys = ymin + (np.arange(ny) + 0.5) * size
    for centres in (cxs, cys):
        m = np.abs(centres)
        if np.any((m > 0) & (m < kernels.TINY)) or m.max() > kernels.HUGE:
            return None

    ring_comp = ring_part.astype(np.int32)
    comp_poly = part_poly.astype(np.int32)
    poly_rank = rank.astype(np.int32)
    rank_poly = np.empty(len(rank), dtype=np.int32)
    rank_poly[poly_rank] = np.arange(len(rank), dtype=np.int32)
    ring_by_key = np.lexsort((ring_pos, ring_part, poly_rank[comp_poly[ring_comp]])).astype(np.int64)
    ring_is_hole = (ring_pos > 0).astype(np.uint8)
    vert_ring = vert_ring.astype(np.int32)

    cell_ptr, cell_edges = kernels.cover_edges(xs, ys, ring_by_key, ring_start, ring_end, xmin, ymin, size, inv,
                                               nx, ny, 2 * margin)
    if nx * ny + 2 >= 2**31 - 16:
        return None  # block ids would not fit int32
    row_ptr, row_list = kernels.row_edges(xs, ys, ring_start, ring_end, cys, inv)
    cell_value, block_off, blocks, n_boundary, n_slow = kernels.sweep(
        xs, ys, vert_ring, ring_comp, ring_is_hole, ring_pos.astype(np.int32), comp_poly, poly_rank, rank_poly,
        cxs, cys, xmin, inv, cell_ptr, cell_edges, row_ptr, row_list)
    n_edge_entries = len(cell_edges)
    del cell_ptr, cell_edges, row_ptr, row_list  # the build's temporaries
    grid = _Grid()
    grid.xmin, grid.ymin, grid.xmax, grid.ymax = xmin, ymin, xmax, ymax
    grid.size, grid.inv, grid.nx, grid.ny = size, inv, nx, ny
    grid.cxs, grid.cys = cxs, cys
    grid.cell_value, grid.block_off, grid.blocks = cell_value, block_off, blocks
    grid.rank_poly = rank_poly
    grid.n_boundary, grid.n_slow, grid.n_edge_entries = int(n_boundary), int(n_slow), n_edge_entries
    return grid


class CoverageIndex:
    """A reusable exact index of polygons for :func:`assign_points`' rule.

    Build it once from ``(polygons, keys)`` and call :meth:`assign` (keys) or
    :meth:`locate` (positions) for any number of point batches; the answers are exactly those
    of :func:`assign_points` (``covered_by``, smallest key on ties, ``None`` outside). The
    module docstring describes the method, its memory and its CRS handling.

    Parameters
    ----------
    polygons:
        GeoSeries or array of (Multi)Polygons (missing/empty ones never match). Other
        geometry types are accepted and answered with the STRtree reference.
    keys:
        One key per polygon.
    cells_per_polygon:
        Grid density (default ``_CELLS_PER_POLYGON``, 128; at least that many / 32 per
        edge). Finer: faster :meth:`assign`, slower build, more memory.
    """

    def __init__(self, polygons: Any, keys: Any, *, cells_per_polygon: float | None = None) -> None:
        self._crs = _crs_of(polygons)
        polys = _geometry_array(polygons)
        self.keys = _keys_array(keys, len(polys))
        self._keys_out = np.empty(len(self.keys) + 1, dtype=object)
        self._keys_out[:-1] = self.keys  # position -1 → None
        self._polys = _usable(polys) if len(polys) else polys
        self._rank = _key_ranks(self.keys)
        self._tree: shapely.STRtree | None = None
        self._grid: _Grid | None = None
        self.method = "strtree"
        kernels = _kernels() if len(polys) else None
        if kernels is not None:
            try:
                self._grid = _build_grid(kernels, self._polys, self._rank, cells_per_polygon or _CELLS_PER_POLYGON)
            except Exception as exc:  # a kernel that does not compile here: stay exact
                logger.warning("gis.join: the grid index could not be built (%s: %s); using the exact shapely "
                               "path", type(exc).__name__, exc)
                self._grid = None
            if self._grid is not None:
                self.method = "grid"

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def stats(self) -> dict[str, Any]:
        """Size of the index: method, cells, boundary cells, shapely-decided cells, bytes."""
        grid = self._grid
        if grid is None:
            return {"method": self.method, "polygons": len(self.keys)}
        return {
            "method": self.method,
            "polygons": len(self.keys),
            "cells": grid.nx * grid.ny,
            "cell_size": grid.size,
            "boundary_cells": grid.n_boundary,
            "shapely_cells": grid.n_slow,
            "edge_entries": grid.n_edge_entries,
            "bytes": int(grid.cell_value.nbytes + grid.block_off.nbytes + grid.blocks.nbytes + grid.cxs.nbytes
                         + grid.cys.nbytes + grid.rank_poly.nbytes),
        }

    def _strtree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self._polys)
        return self._tree

    def locate(self, points: Any = None, *, xy: Any = None) -> np.ndarray:
        """Position (into the polygons) of the covering polygon per point, -1 for none.

        ``points``: GeoSeries/array of shapely Points (same CRS as the polygons, checked for
        GeoSeries), or ``None`` with ``xy=(x, y)`` / an ``(n, 2)`` array of coordinates.
        Returns an int32 array.
        """
        if points is not None:
            _check_crs(_crs_of(points), self._crs)
        x, y, geoms, other = _points_xy(points, xy)
        n = len(x)
        if not n or not len(self.keys):
            return np.full(n, -1, dtype=np.int32)
        grid = self._grid
        if grid is None:
            if geoms is None:
                geoms = shapely.points(x, y)
            return _strtree_positions(self._strtree(), geoms, self._rank).astype(np.int32)
        out = np.empty(n, dtype=np.int32)
        n_slow = _grid_assign(x, y, grid, out)
        slow = np.flatnonzero(out == _kernels().SLOW) if n_slow else np.empty(0, dtype=np.intp)
        if len(other):
            slow = np.union1d(slow, other)
        if len(slow):
            sub = geoms[slow] if geoms is not None else shapely.points(x[slow], y[slow])
            out[slow] = _strtree_positions(self._strtree(), sub, self._rank)
        return out

    def assign(self, points: Any = None, *, xy: Any = None) -> np.ndarray:
        """Key of the covering polygon per point, ``None`` for none (object array)."""
        return self._keys_out[self.locate(points, xy=xy)]


def _grid_assign(x: np.ndarray, y: np.ndarray, grid: _Grid, out: np.ndarray) -> np.ndarray:
    """Run the compiled point kernel (one call for the whole batch)."""
    return _kernels().assign_xy(x, y, grid.xmin, grid.ymin, grid.xmax, grid.ymax, grid.inv, grid.nx, grid.ny,
                                grid.cxs, grid.cys, grid.cell_value, grid.block_off, grid.blocks, grid.rank_poly, out)


_INDEX_CACHE: OrderedDict[Hashable, CoverageIndex] = OrderedDict()
_INDEX_CACHE_LOCK = threading.Lock()


def coverage_index(polygons: Any, keys: Any, *, token: Hashable) -> CoverageIndex:
    """The :class:`CoverageIndex` of ``(polygons, keys)``, kept in a small LRU cache by ``token``.

    ``token`` names the polygon set, e.g. a changeset id or a data version: the caller
    guarantees that the same token always comes with the same polygons and keys (only the
    number of polygons is checked). The last ``_INDEX_CACHE_SIZE`` (4) indexes are kept.
    """
    with _INDEX_CACHE_LOCK:
        index = _INDEX_CACHE.get(token)
        if index is not None:
            _INDEX_CACHE.move_to_end(token)
    if index is None:
        index = CoverageIndex(polygons, keys)
        with _INDEX_CACHE_LOCK:
            _INDEX_CACHE[token] = index
            _INDEX_CACHE.move_to_end(token)
            while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
                _INDEX_CACHE.popitem(last=False)
    elif len(index) != len(_geometry_array(polygons)):
        raise ValueError(f"cache token {token!r} was used for {len(index)} polygons, now for "
                         f"{len(_geometry_array(polygons))}; use a new token when the polygons change")
    return index


def cached_index(token: Hashable) -> CoverageIndex | None:
    """The index kept under ``token`` by :func:`coverage_index`, or ``None`` (nothing is built).

    For callers that can tell from a cheap key whether their polygons changed (a changeset
    token read from the database) and only load the polygons when the index is not kept.
    """
    with _INDEX_CACHE_LOCK:
        index = _INDEX_CACHE.get(token)
        if index is not None:
            _INDEX_CACHE.move_to_end(token)
    return index


def clear_index_cache() -> None:
    """Forget the indexes kept by :func:`coverage_index`."""
    with _INDEX_CACHE_LOCK:
        _INDEX_CACHE.clear()


def assign_points(points: Any, polygons: Any, *, keys: Any, xy: Any = None,
                  cache_token: Hashable | None = None) -> np.ndarray:
    """Key of the polygon covering each point, ``None`` where no polygon covers it.

    Exact (``covered_by``: boundary points match) and vectorized; see the module docstring
    for the method. GeoSeries inputs must share their CRS (raises
    :class:`~gis.errors.CRSError` otherwise); plain arrays are taken to be in the same CRS.

    Parameters
    ----------
    points:
        GeoSeries or array of shapely Points (missing, empty, NaN or infinite points get
        ``None``), or ``None`` when ``xy`` is given.
    polygons:
        GeoSeries or array of (Multi)Polygons, same CRS as ``points``.
    keys:
        One key per polygon (e.g. grid codes). Ties (a point on a shared edge or vertex) go
        to the smallest key (compared as ``str``).
    xy:
        Instead of ``points``: the coordinates as a pair of float arrays ``(x, y)`` or an
        ``(n, 2)`` array, in the polygons' CRS (saves creating shapely points).
    cache_token:
        Keep the index built for these polygons under this token and reuse it on the next
        call with the same token (:func:`coverage_index`; the caller guarantees the same
        token means the same polygons and keys).

    Returns
    -------
    numpy.ndarray
        Object array of keys, one per point.
    """
    if points is not None:
        _check_same_crs(points, polygons)
    if cache_token is not None:
        return coverage_index(polygons, keys, token=cache_token).assign(points, xy=xy)
    polys = _geometry_array(polygons)
    key_arr = _keys_array(keys, len(polys))
    if xy is not None:
        n_points = len(xy) if isinstance(xy, np.ndarray) and xy.ndim == 2 else len(xy[0])
    else:
        points = _geometry_array(points)
        n_points = len(points)
    out = np.full(n_points, None, dtype=object)
    if not n_points or not len(polys):
        return out
    n_usable = int((~(shapely.is_missing(polys) | shapely.is_empty(polys))).sum())
    if n_points >= _BUCKET_MIN_POINTS and n_points >= _BUCKET_POINTS_PER_POLYGON * n_usable and n_usable:
        return CoverageIndex(polys, key_arr, cells_per_polygon=_CELLS_PER_POLYGON_ONE_SHOT).assign(points, xy=xy)
    if points is None:
        x, y, _, _ = _points_xy(None, xy)
        points = shapely.points(x, y)
    return _assign_points_strtree(points, polys, keys=key_arr)
