"""Compiled kernels of :class:`gis.join.CoverageIndex` (numba, ``nopython`` mode).

Imported lazily by :mod:`gis.join` on the first use of the grid index, so that importing
``gis.join`` does not import numba. Import this module only through
:func:`gis.join._kernels`, which falls back to the exact shapely path (with a logged
warning) when numba cannot be imported or a kernel cannot be compiled.

Compiled code is cached on disk (``cache=True``) in ``<data_dir>/numba-cache`` — ``var/``
of the checkout unless ``GRIDGOV_DATA_DIR`` says otherwise — never next to the installed
sources; an explicit ``NUMBA_CACHE_DIR`` in the environment is respected. When no writable
cache directory exists the kernels are compiled in every process (a few seconds).

Exact arithmetic
----------------
Every decision that depends on where a point lies relative to an edge is an orientation
sign, ``orient(a, b, c)`` = sign of ``(a - c) × (b - c)`` (positive: ``c`` left of the line
``a → b``). :func:`orient` evaluates it in floating point with Shewchuk's static error bound
(*Adaptive Precision Floating-Point Arithmetic and Fast Robust Geometric Predicates*, 1997:
``|error| ≤ (3 + 16ε)ε · (|detleft| + |detright|)``) and, when the float result cannot be
trusted, recomputes the determinant exactly as a floating-point expansion (two-diff,
Dekker/Veltkamp two-product, grow-expansion; the sign of a non-overlapping expansion is
the sign of its largest non-zero component). Both are exact for IEEE doubles as long as
nothing overflows or underflows: :mod:`gis.join` only sends coordinates whose non-zero
magnitudes lie in ``[1e-100, 1e100]`` (:data:`TINY`, :data:`HUGE`) here and treats the
rest with shapely. The code must not be compiled with ``fastmath`` (it would fuse or
reorder the error-free transformations).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


def _cache_dir() -> Path | None:
    """The numba cache directory for GridGov (``var/numba-cache``, created), or ``None`` when it is not writable."""
    try:
        from gis.settings import get_settings

        path = get_settings().data_dir / "numba-cache"
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return path
    except Exception as exc:  # unreadable settings, read-only checkout: compile every time
        logger.warning("gis.join: no writable numba cache directory (%s); kernels are compiled per process", exc)
        return None


_CACHE_DIR = _cache_dir()

import numba  # noqa: E402

if _CACHE_DIR is not None:
    numba.config.CACHE_DIR = str(_CACHE_DIR)  # the JIT cache lives under var/, never in site-packages

_jit = numba.njit(cache=_CACHE_DIR is not None, nogil=True, error_model="numpy")

#: Coordinates (non-zero magnitudes) the exact predicates accept; others go to shapely.
TINY = 1e-100
HUGE = 1e100

_EPS = 2.0**-53
_SPLITTER = 134217729.0  # 2**27 + 1
_CCW_ERRBOUND_A = (3.0 + 16.0 * _EPS) * _EPS

#: ``cell_value`` codes: >= 0 polygon index, -1 no polygon, <= -2 a boundary cell's block
#: at offset ``-2 - value`` in ``blocks``. The block at offset 0 is shared by the cells
#: whose points go to shapely (reference point on an edge, invalid ring nesting).
NONE = -1
SLOW_BLOCK = -2
#: Returned by :func:`assign_xy` for points that must be decided by shapely.
SLOW = -3
_NO_RANK = np.iinfo(np.int32).max
_EXT, _BDY, _INT = 0, 1, 2


# --------------------------------------------------------------------------------------
# exact orientation
# --------------------------------------------------------------------------------------
@_jit
def _two_sum(a, b):
    x = a + b
    bv = x - a
    av = x - bv
    return x, (a - av) + (b - bv)


@_jit
def _two_diff(a, b):
    x = a - b
    bv = a - x
    av = x + bv
    return x, (a - av) + (bv - b)


@_jit
def _split(a):
    c = _SPLITTER * a
    big = c - a
    hi = c - big
    return hi, a - hi


@_jit
def _two_product(a, b):
    x = a * b
    ahi, alo = _split(a)
    bhi, blo = _split(b)
    err = x - ahi * bhi
    err = err - alo * bhi
    err = err - ahi * blo
    return x, alo * blo - err


@_jit
def _grow(e, m, b):
    """Add the double ``b`` to the expansion ``e[:m]`` in place (Shewchuk's GROW-EXPANSION)."""
    q = b
    for i in range(m):
        q, h = _two_sum(q, e[i])
        e[i] = h
    e[m] = q
    return m + 1


@_jit
def orient_exact(ax, ay, bx, by, cx, cy):
    """Exact sign of ``(a - c) × (b - c)``: 1, -1 or 0."""
    a1, a0 = _two_diff(ax, cx)
    b1, b0 = _two_diff(by, cy)
    c1, c0 = _two_diff(ay, cy)
    d1, d0 = _two_diff(bx, cx)
    e = np.empty(16)
    m = 0
    for u in (a1, a0):
        for v in (b1, b0):
            p, q = _two_product(u, v)
            m = _grow(e, m, q)
            m = _grow(e, m, p)
    for u in (c1, c0):
        for v in (d1, d0):
            p, q = _two_product(u, v)
            m = _grow(e, m, -q)
            m = _grow(e, m, -p)
    for i in range(m - 1, -1, -1):
        if e[i] > 0.0:
            return 1
        if e[i] < 0.0:
            return -1
    return 0


@_jit
def orient(ax, ay, bx, by, cx, cy):
    """Sign of ``(a - c) × (b - c)`` (1: ``c`` left of ``a → b``; 0: collinear), exact."""
    detleft = (ax - cx) * (by - cy)
    detright = (ay - cy) * (bx - cx)
    det = detleft - detright
    if detleft > 0.0:
        if detright <= 0.0:
            return 1 if det > 0.0 else (-1 if det < 0.0 else 0)
        detsum = detleft + detright
    elif detleft < 0.0:
        if detright >= 0.0:
            return 1 if det > 0.0 else (-1 if det < 0.0 else 0)
        detsum = -detleft - detright
    else:
        return 1 if det > 0.0 else (-1 if det < 0.0 else 0)
    bound = _CCW_ERRBOUND_A * detsum
    if det >= bound:
        return 1
    if -det >= bound:
        return -1
    return orient_exact(ax, ay, bx, by, cx, cy)


# --------------------------------------------------------------------------------------
# building the index
# --------------------------------------------------------------------------------------
@_jit
def _clamp(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


@_jit
def _cell_of(v, lo, inv, n):
    """Clamped cell index of a coordinate (``floor``), as the point binning does it."""
    return _clamp(int(np.floor((v - lo) * inv)), 0, n - 1)


@_jit
def _room(cells, verts, n, need):
    if n + need <= len(cells):
        return cells, verts
    size = max(2 * len(cells), n + need)
    c2 = np.empty(size, dtype=np.int32)
    v2 = np.empty(size, dtype=np.int32)
    c2[:n] = cells[:n]
    v2[:n] = verts[:n]
    return c2, v2


@_jit
def cover_edges(xs, ys, ring_by_key, ring_start, ring_end, xmin, ymin, size, inv, nx, ny, m):
    """Cell → edge lists (CSR): ``cell_ptr`` (int64, ``nx*ny + 1``) and ``cell_edges`` (int32).

    Every cell whose region widened by ``m`` may meet an edge lists it (a conservative
    superset: ``m`` dominates the rounding of this computation and of the point binning).
    An edge is named by the index of its first vertex (its second is the next one).
    Within a cell, edges come in the order of ``ring_by_key`` (polygon key rank, part,
    ring: shell first, then holes in order) and then along the ring.
    """
    n_edges = 0
    for r in range(len(ring_start)):
        n_edges += ring_end[r] - ring_start[r] - 1
    cells = np.empty(max(16, 3 * n_edges), dtype=np.int32)
    verts = np.empty(max(16, 3 * n_edges), dtype=np.int32)
    n = 0
    for rk in range(len(ring_by_key)):
        r = ring_by_key[rk]
        for v in range(ring_start[r], ring_end[r] - 1):
            ax = xs[v]
            ay = ys[v]
            bx = xs[v + 1]
            by = ys[v + 1]
            c0 = _cell_of(min(ax, bx) - m, xmin, inv, nx)
            c1 = _cell_of(max(ax, bx) + m, xmin, inv, nx)
            g0 = _cell_of(min(ay, by) - m, ymin, inv, ny)
            g1 = _cell_of(max(ay, by) + m, ymin, inv, ny)
            if c1 - c0 <= 1 or g1 - g0 <= 1:  # short or axis-parallel: the whole box
                cells, verts = _room(cells, verts, n, (c1 - c0 + 1) * (g1 - g0 + 1))
                for g in range(g0, g1 + 1):
                    for c in range(c0, c1 + 1):
                        cells[n] = g * nx + c
                        verts[n] = v
                        n += 1
                continue
            dx = bx - ax
            dy = by - ay
            if abs(dx) >= abs(dy):
                # x is the major axis: per column, the rows of the part of the edge in it
                lo_x = min(ax, bx)
                hi_x = max(ax, bx)
                slope = dy / dx
                for c in range(c0, c1 + 1):
                    sx0 = max(xmin + c * size - m, lo_x)
                    sx1 = min(xmin + (c + 1) * size + m, hi_x)
                    if sx0 > sx1:
                        sx0 = sx1
                    ya = ay + (sx0 - ax) * slope
                    yb = ay + (sx1 - ax) * slope
                    q0 = _cell_of(min(ya, yb) - m, ymin, inv, ny)
                    q1 = _cell_of(max(ya, yb) + m, ymin, inv, ny)
                    cells, verts = _room(cells, verts, n, q1 - q0 + 1)
                    for g in range(q0, q1 + 1):
                        cells[n] = g * nx + c
                        verts[n] = v
                        n += 1
            else:
                # y is the major axis: per row, the columns of the part of the edge in it
                lo_y = min(ay, by)
                hi_y = max(ay, by)
                slope = dx / dy
                for g in range(g0, g1 + 1):
                    sy0 = max(ymin + g * size - m, lo_y)
                    sy1 = min(ymin + (g + 1) * size + m, hi_y)
                    if sy0 > sy1:
                        sy0 = sy1
                    xa = ax + (sy0 - ay) * slope
                    xb = ax + (sy1 - ay) * slope
                    q0 = _cell_of(min(xa, xb) - m, xmin, inv, nx)
                    q1 = _cell_of(max(xa, xb) + m, xmin, inv, nx)
                    cells, verts = _room(cells, verts, n, q1 - q0 + 1)
                    for c in range(q0, q1 + 1):
                        cells[n] = g * nx + c
                        verts[n] = v
                        n += 1
    # stable counting sort by cell
    ncell = nx * ny
    cell_ptr = np.zeros(ncell + 1, dtype=np.int64)
    for k in range(n):
        cell_ptr[cells[k] + 1] += 1
    for c in range(ncell):
        cell_ptr[c + 1] += cell_ptr[c]
    cursor = cell_ptr[:-1].copy()
    cell_edges = np.empty(n, dtype=np.int32)
    for k in range(n):
        c = cells[k]
        cell_edges[cursor[c]] = verts[k]
        cursor[c] += 1
    return cell_ptr, cell_edges


@_jit
def _row_span(lo, hi, cys, inv):
    """Rows ``g0 <= g < g1`` with ``lo <= cys[g] < hi`` (``cys`` increasing by 1/inv)."""
    ny = len(cys)
    g0 = _clamp(int(np.floor((lo - cys[0]) * inv)), 0, ny)
    while g0 < ny and cys[g0] < lo:
        g0 += 1
    while g0 > 0 and cys[g0 - 1] >= lo:
        g0 -= 1
    g1 = _clamp(int(np.floor((hi - cys[0]) * inv)) + 1, g0, ny)
    while g1 < ny and cys[g1] < hi:
        g1 += 1
    while g1 > g0 and cys[g1 - 1] >= hi:
        g1 -= 1
    return g0, g1


@_jit
def row_edges(xs, ys, ring_start, ring_end, cys, inv):
    """Row → edges (CSR) that straddle the row's centre line ``y = cys[row]``.

    Straddle is half-open: ``min(ya, yb) <= y < max(ya, yb)`` (horizontal edges never),
    the rule of the ray-crossing test.
    """
    ny = len(cys)
    count = np.zeros(ny + 1, dtype=np.int64)
    for r in range(len(ring_start)):
        for v in range(ring_start[r], ring_end[r] - 1):
            g0, g1 = _row_span(min(ys[v], ys[v + 1]), max(ys[v], ys[v + 1]), cys, inv)
            for g in range(g0, g1):
                count[g + 1] += 1
    for g in range(ny):
        count[g + 1] += count[g]
    cursor = count[:-1].copy()
    out = np.empty(count[ny], dtype=np.int32)
    for r in range(len(ring_start)):
        for v in range(ring_start[r], ring_end[r] - 1):
            g0, g1 = _row_span(min(ys[v], ys[v + 1]), max(ys[v], ys[v + 1]), cys, inv)
            for g in range(g0, g1):
                out[cursor[g]] = v
                cursor[g] += 1
    return count, out


@_jit
def _covers(c, comp_shell, comp_holes_in):
    return comp_shell[c] == 1 and comp_holes_in[c] == 0


@_jit
def _toggle(r, ring_par, ring_comp, ring_is_hole, comp_shell, comp_holes_in, comp_poly, poly_cov, active, active_pos,
            n_active):
    """Cross ring ``r`` on the sweep: update the parities and the covering polygons."""
    c = ring_comp[r]
    before = _covers(c, comp_shell, comp_holes_in)
    ring_par[r] ^= 1
    if ring_is_hole[r]:
        comp_holes_in[c] += 1 if ring_par[r] else -1
    else:
        comp_shell[c] ^= 1
    after = _covers(c, comp_shell, comp_holes_in)
    if before != after:
        p = comp_poly[c]
        if after:
            poly_cov[p] += 1
            if poly_cov[p] == 1:
                active[n_active] = p
                active_pos[p] = n_active
                n_active += 1
        else:
            poly_cov[p] -= 1
            if poly_cov[p] == 0:
                k = active_pos[p]
                last = active[n_active - 1]
                active[k] = last
                active_pos[last] = k
                active_pos[p] = -1
                n_active -= 1
    return n_active


@_jit
def _segments(blocks, q, end, out):
    """The ring's edges in ``blocks[q:end]`` as rows ``(x0, y0, x1, y1)``, end points in
    lexicographic order, the rows sorted; returns their number."""
    n = 0
    while q < end:
        nv = int(blocks[q])
        q += 1
        for k in range(nv - 1):
            ax = blocks[q + 2 * k]
            ay = blocks[q + 2 * k + 1]
            bx = blocks[q + 2 * k + 2]
            by = blocks[q + 2 * k + 3]
            if bx < ax or (bx == ax and by < ay):
                ax, ay, bx, by = bx, by, ax, ay
            # insertion into the sorted rows
            i = n
            while i > 0 and _row_less(ax, ay, bx, by, out[i - 1, 0], out[i - 1, 1], out[i - 1, 2], out[i - 1, 3]):
                out[i, 0] = out[i - 1, 0]
                out[i, 1] = out[i - 1, 1]
                out[i, 2] = out[i - 1, 2]
                out[i, 3] = out[i - 1, 3]
                i -= 1
            out[i, 0] = ax
            out[i, 1] = ay
            out[i, 2] = bx
            out[i, 3] = by
            n += 1
        q += 2 * nv
    return n


@_jit
def _row_less(a0, a1, a2, a3, b0, b1, b2, b3):
    if a0 != b0:
        return a0 < b0
    if a1 != b1:
        return a1 < b1
    if a2 != b2:
        return a2 < b2
    return a3 < b3


@_jit
def _try_complement(blocks, off, end, seg_a, seg_b):
    """Compact a two-part block whose parts are complementary in the cell; returns its end.

    When each part has one ring here, both rings have exactly the same edges in the cell
    and exactly one of the parts covers the centre, then exactly one part covers every
    point of the cell off those edges (crossing an edge flips both) and both cover the
    points on them. The first part (smaller rank) alone then decides: covered → it,
    otherwise → the second. Layout: ``base, -1, rank_a, rank_b, flags_a, ring_len_a, runs``.
    """
    qa = off + 2
    qb = qa + 4 + int(blocks[qa + 3])
    if int(blocks[qa + 2]) != 1 or int(blocks[qb + 2]) != 1:
        return end
    ra = qa + 4
    rb = qb + 4
    ea = ra + 2 + int(blocks[ra + 1])
    eb = rb + 2 + int(blocks[rb + 1])
    na = _segments(blocks, ra + 2, ea, seg_a)
    nb = _segments(blocks, rb + 2, eb, seg_b)
    if na != nb:
        return end
    for i in range(na):
        for c in range(4):
            if seg_a[i, c] != seg_b[i, c]:
                return end
    fa = int(blocks[ra])
    fb = int(blocks[rb])
    # a part with its shell here covers the centre when the shell's parity is odd; a part
    # whose ring here is a hole (its shell contains the cell) when the hole's parity is even
    cov_a = ((fa >> 1) & 1) != (fa & 1)
    cov_b = ((fb >> 1) & 1) != (fb & 1)
    if cov_a == cov_b:
        return end
    rank_b = blocks[qb]
    blocks[off + 1] = -1
    blocks[off + 3] = rank_b  # off + 2 already holds rank_a
    blocks[off + 4] = blocks[ra]
    blocks[off + 5] = blocks[ra + 1]
    n = ea - (ra + 2)
    for k in range(n):
        blocks[off + 6 + k] = blocks[ra + 2 + k]
    return off + 6 + n


@_jit
def sweep(xs, ys, vert_ring, ring_comp, ring_is_hole, ring_pos, comp_poly, poly_rank, rank_poly,
          cxs, cys, xmin, inv, cell_ptr, cell_edges, row_ptr, row_list):
    """Location of every cell centre, row by row; builds ``cell_value`` and the blocks.

    Along the centre line of a row, the parity of each ring at a centre is the parity of
    the ring's crossings of the line to the left of it (half-open straddle rule; which
    interval between two centres a crossing falls in is decided with exact orientations).
    A cell without edges takes the covering polygon of smallest key rank at its centre.
    A boundary cell gets a block (float64, read by :func:`_in_block`)::

        base, n_parts,
        per part (key-rank order): rank, shell_state, n_rings, part_len,
            per ring (shell first, holes in order): flags, ring_len,
                per run of consecutive edges: n_vertices, x0, y0, x1, y1, …

    ``base``: the best rank among polygons covering the whole cell (no edge here);
    ``shell_state``: 1 the shell has no edge here (and contains the cell), 2 it is the
    part's first ring; ``flags``: bit 0 hole, bit 1 the ring's parity at the centre;
    ``*_len``: doubles that follow the header. Returns ``cell_value`` (int32: polygon
    index, -1, or ``-2 - block id``), ``block_off`` (int64 per block id; id 0 is the
    shared shapely block), ``blocks``, the number of boundary cells and of shapely cells.
    """
    nx = len(cxs)
    ny = len(cys)
    n_rings = len(ring_comp)
    n_comps = len(comp_poly)
    n_polys = len(poly_rank)
    cell_value = np.empty(nx * ny, dtype=np.int32)
    ring_par = np.zeros(n_rings, dtype=np.uint8)
    comp_shell = np.zeros(n_comps, dtype=np.uint8)
    comp_holes_in = np.zeros(n_comps, dtype=np.int32)
    poly_cov = np.zeros(n_polys, dtype=np.int32)
    active = np.empty(n_polys, dtype=np.int32)
    active_pos = np.full(n_polys, -1, dtype=np.int32)
    n_active = 0
    max_row = 0
    for g in range(ny):
        max_row = max(max_row, row_ptr[g + 1] - row_ptr[g])
    n_nonempty = 0
    max_cell = 0
    for c in range(nx * ny):
        ne = cell_ptr[c + 1] - cell_ptr[c]
        if ne > 0:
            n_nonempty += 1
            max_cell = max(max_cell, ne)
    seg_a = np.empty((max_cell, 4), dtype=np.float64)
    seg_b = np.empty((max_cell, 4), dtype=np.float64)
    sv = np.empty(max_cell, dtype=np.int64)
    sr = np.empty(max_cell, dtype=np.int64)
    sc = np.empty(max_cell, dtype=np.int64)
    cross_ring = np.empty(max_row, dtype=np.int32)
    cross_k = np.empty(max_row, dtype=np.int64)
    cross_sorted = np.empty(max_row, dtype=np.int32)
    bucket = np.zeros(nx + 2, dtype=np.int64)
    block_off = np.empty(n_nonempty + 1, dtype=np.int64)
    # an upper bound of the blocks' size: per cell 2 + per part 4 + per ring 2 + per run 1
    # + 2 per vertex (runs have one vertex more than edges) <= 2 + 11 per edge entry
    blocks = np.empty(1 + 2 * n_nonempty + 11 * len(cell_edges), dtype=np.float64)
    blocks[0] = SLOW_BLOCK
    block_off[0] = 0
    used = 1
    n_blocks = 1
    n_slow = 0
    n_boundary = 0
    for g in range(ny):
        y = cys[g]
        n = 0
        for t in range(row_ptr[g], row_ptr[g + 1]):
            v = row_list[t]
            if ys[v] < ys[v + 1]:
                lx, ly, hx, hy = xs[v], ys[v], xs[v + 1], ys[v + 1]
            else:
                lx, ly, hx, hy = xs[v + 1], ys[v + 1], xs[v], ys[v]
            xe = lx + (y - ly) * (hx - lx) / (hy - ly)
            k = _clamp(int(np.floor((xe - xmin) * inv - 0.5)), -1, nx - 1)
            # exact: centres 0..k are left of (or on) the upward edge, k+1.. right of it
            while k >= 0 and orient(lx, ly, hx, hy, cxs[k], y) < 0:
                k -= 1
            while k + 1 < nx and orient(lx, ly, hx, hy, cxs[k + 1], y) >= 0:
                k += 1
            cross_ring[n] = vert_ring[v]
            cross_k[n] = k + 1  # flips the parity of centres k+1 …
            n += 1
        bucket[:] = 0
        for t in range(n):
            bucket[cross_k[t] + 1] += 1
        for j in range(nx + 1):
            bucket[j + 1] += bucket[j]
        for t in range(n):
            cross_sorted[bucket[cross_k[t]]] = cross_ring[t]
            bucket[cross_k[t]] += 1
        # now bucket j holds entries bucket[j-1] .. bucket[j] (from 0 for j = 0)
        start = 0
        for j in range(nx + 1):
            stop = bucket[j]
            for t in range(start, stop):
                n_active = _toggle(cross_sorted[t], ring_par, ring_comp, ring_is_hole, comp_shell, comp_holes_in,
                                   comp_poly, poly_cov, active, active_pos, n_active)
            start = stop
            if j == nx:
                break
            cell = g * nx + j
            e0 = cell_ptr[cell]
            e1 = cell_ptr[cell + 1]
            if e0 == e1:
                best = _NO_RANK
                for a in range(n_active):
                    rk = poly_rank[active[a]]
                    if rk < best:
                        best = rk
                cell_value[cell] = NONE if best == _NO_RANK else rank_poly[best]
                continue
            n_boundary += 1
            rx = cxs[j]
            ry = y
            ne = e1 - e0
            slow = False
            for t in range(ne):
                v = cell_edges[e0 + t]
                rr = vert_ring[v]
                sv[t] = v
                sr[t] = rr
                sc[t] = ring_comp[rr]
                # the centre must not lie on an edge of the cell (its parity is the reference)
                ax, ay, bx, by = xs[v], ys[v], xs[v + 1], ys[v + 1]
                if min(ax, bx) <= rx <= max(ax, bx) and min(ay, by) <= ry <= max(ay, by):
                    if orient(ax, ay, bx, by, rx, ry) == 0:
                        slow = True
            if slow:
                n_slow += 1
                cell_value[cell] = -2
                continue
            # polygons covering the centre through parts without edges here cover the cell
            # (entries are grouped by part: ordered by rank, part, ring, along the ring)
            t = 0
            while t < ne:
                c = sc[t]
                if _covers(c, comp_shell, comp_holes_in):
                    poly_cov[comp_poly[c]] -= 1
                while t < ne and sc[t] == c:
                    t += 1
            base = _NO_RANK
            for a in range(n_active):
                p = active[a]
                if poly_cov[p] > 0 and poly_rank[p] < base:
                    base = poly_rank[p]
            t = 0
            while t < ne:
                c = sc[t]
                if _covers(c, comp_shell, comp_holes_in):
                    poly_cov[comp_poly[c]] += 1
                while t < ne and sc[t] == c:
                    t += 1
            off = used
            blocks[off] = base
            q = off + 2
            n_parts = 0
            t = 0
            while t < ne:
                c = sc[t]
                rank = poly_rank[comp_poly[c]]
                if rank >= base:
                    break  # this part and all after it (rank order) cannot beat the base
                u = t
                holes_here = 0
                while u < ne and sc[u] == c:
                    rr = sr[u]
                    if ring_is_hole[rr]:
                        holes_here += ring_par[rr]
                    while u < ne and sr[u] == rr:
                        u += 1
                shell_in = ring_pos[sr[t]] == 0
                if not shell_in and comp_shell[c] == 0:
                    t = u
                    continue  # the shell has no edge here and excludes the whole cell
                if comp_holes_in[c] - holes_here > 0:
                    slow = True  # a hole without edges here contains the cell: invalid nesting
                    break
                part_at = q
                blocks[q] = rank
                blocks[q + 1] = 2 if shell_in else 1
                q += 4
                n_rings_here = 0
                w = t
                while w < u:
                    rr = sr[w]
                    ring_at = q
                    blocks[q] = ring_is_hole[rr] | (ring_par[rr] << 1)
                    q += 2
                    while w < u and sr[w] == rr:
                        v0 = sv[w]
                        w2 = w + 1
                        while w2 < u and sv[w2] == sv[w2 - 1] + 1:
                            w2 += 1
                        nv = w2 - w + 1
                        blocks[q] = nv
                        q += 1
                        for k in range(nv):
                            blocks[q] = xs[v0 + k]
                            blocks[q + 1] = ys[v0 + k]
                            q += 2
                        w = w2
                    blocks[ring_at + 1] = q - ring_at - 2
                    n_rings_here += 1
                blocks[part_at + 2] = n_rings_here
                blocks[part_at + 3] = q - part_at - 4
                n_parts += 1
                t = u
            if slow:
                n_slow += 1
                cell_value[cell] = -2
                continue
            if n_parts == 0:
                cell_value[cell] = NONE if base == _NO_RANK else rank_poly[base]
                continue
            blocks[off + 1] = n_parts
            if n_parts == 2:
                q = _try_complement(blocks, off, q, seg_a, seg_b)
            used = q
            block_off[n_blocks] = off
            cell_value[cell] = -2 - n_blocks
            n_blocks += 1
    # views: the untouched tail of the over-allocated arrays never becomes resident
    return cell_value, block_off[:n_blocks], blocks[:used], n_boundary, n_slow


# --------------------------------------------------------------------------------------
# querying
# --------------------------------------------------------------------------------------
@_jit
def _ring_location_segment(blocks, q, end, parity, px, py, rx, ry):
    """Location of ``p`` relative to one ring (runs in ``blocks[q:end]``): ``_INT``/``_BDY``/``_EXT``.

    ``parity``: the ring's parity at the reference point ``r`` (the cell centre, not on the
    ring). The parity at ``p`` is that at ``r`` flipped by each crossing of the segment
    ``r p`` with the ring; every such edge lies in the cell. An edge counts when its end
    points are on different sides of the line ``r p`` (a vertex on the line counts as the
    non-positive side, i.e. the line is shifted infinitesimally to its positive side) and
    ``r`` and ``p`` are on different sides of the edge's line (neither is on it: ``r`` by
    construction, ``p`` because it would then be on the edge, tested first).
    """
    while q < end:
        nv = int(blocks[q])
        q += 1
        ax = blocks[q]
        ay = blocks[q + 1]
        sa = orient(rx, ry, px, py, ax, ay) > 0
        for k in range(1, nv):
            bx = blocks[q + 2 * k]
            by = blocks[q + 2 * k + 1]
            if min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by):
                if orient(ax, ay, bx, by, px, py) == 0:
                    return _BDY
            sb = orient(rx, ry, px, py, bx, by) > 0
            if sa != sb:
                if orient(ax, ay, bx, by, px, py) * orient(ax, ay, bx, by, rx, ry) < 0:
                    parity ^= 1
            ax = bx
            ay = by
            sa = sb
        q += 2 * nv
    return _INT if parity else _EXT


@_jit
def _ring_location(blocks, q, end, parity, px, py, rx, ry):
    """Location of ``p`` relative to one ring (runs in ``blocks[q:end]``): ``_INT``/``_BDY``/``_EXT``.

    ``parity``: the ring's parity at the reference point ``r`` (the cell centre, not on the
    ring). The parity at ``p`` is that at ``r`` flipped by each crossing of the ring with the
    axis-parallel path ``r → q → p``, ``q = (p.x, r.y)``, which stays inside the cell, so
    every edge it can cross is listed here. The path is taken shifted infinitesimally up
    (its horizontal leg, ``y = r.y + δ``) and right (its vertical leg, ``x = p.x + ε``):
    that is the half-open straddle rule of the two tests below (a vertex on ``y = r.y``
    counts as below, one on ``x = p.x`` as left), the shifted path meets no vertex, and its
    end points have the parities of ``r`` and ``p`` as long as neither is on the ring (``r``
    by construction; ``p`` is tested first: on an edge → ``_BDY``). Which side of a crossing
    the path's corners and ends lie on is an exact orientation; a zero there means ``q``
    itself is on an edge, and the ring is decided with the straight segment ``r p`` instead
    (:func:`_ring_location_segment`).
    """
    start = q
    par = parity
    lx = min(rx, px)
    hx = max(rx, px)
    ly = min(ry, py)
    hy = max(ry, py)
    while q < end:
        nv = int(blocks[q])
        q += 1
        ax = blocks[q]
        ay = blocks[q + 1]
        for k in range(1, nv):
            bx = blocks[q + 2 * k]
            by = blocks[q + 2 * k + 1]
            xlo = min(ax, bx)
            xhi = max(ax, bx)
            ylo = min(ay, by)
            yhi = max(ay, by)
            # (non-short-circuit tests: fewer mispredicted branches on random points)
            if (xlo <= px) & (px <= xhi) & (ylo <= py) & (py <= yhi):
                if orient(ax, ay, bx, by, px, py) == 0:
                    return _BDY
            # horizontal leg: y = ry (+δ), x from rx to px (+ε). Swapping a and b flips the
            # sign of both orientations, so "different signs" needs no upward orientation.
            if ((ay > ry) != (by > ry)) & (xhi >= lx) & (xlo <= hx):
                s_q = orient(ax, ay, bx, by, px, ry)
                if s_q == 0:
                    return _ring_location_segment(blocks, start, end, parity, px, py, rx, ry)
                if orient(ax, ay, bx, by, rx, ry) != s_q:
                    par ^= 1
            # vertical leg: x = px (+ε), y from ry (+δ) to py
            if ((ax > px) != (bx > px)) & (yhi >= ly) & (ylo <= hy):
                t_q = orient(ax, ay, bx, by, px, ry)
                if t_q == 0:
                    return _ring_location_segment(blocks, start, end, parity, px, py, rx, ry)
                if orient(ax, ay, bx, by, px, py) != t_q:
                    par ^= 1
            ax = bx
            ay = by
        q += 2 * nv
    return _INT if par else _EXT


@_jit
def _in_block(blocks, off, px, py, rx, ry):
    """Smallest key rank covering ``p`` in a boundary cell, ``_NO_RANK`` for none."""
    best = blocks[off]
    n_parts = int(blocks[off + 1])
    if n_parts == -1:  # two complementary parts (see _try_complement)
        flags = int(blocks[off + 4])
        loc = _ring_location(blocks, off + 6, off + 6 + int(blocks[off + 5]), (flags >> 1) & 1, px, py, rx, ry)
        if flags & 1:  # a hole of the first part: covered unless inside it
            return blocks[off + 3] if loc == _INT else blocks[off + 2]
        return blocks[off + 3] if loc == _EXT else blocks[off + 2]
    q = off + 2
    for _ in range(n_parts):
        rank = blocks[q]
        if rank >= best:
            break
        shell_in = blocks[q + 1] == 2
        n_rings = int(blocks[q + 2])
        part_end = q + 4 + int(blocks[q + 3])
        q += 4
        # GEOS's rule for one polygon: outside the shell → not covered; on it → covered;
        # inside it, the first hole (in order) that p is not outside of decides: on its
        # ring → covered, inside it → not covered; no such hole → covered.
        covered = True
        for i in range(n_rings):
            flags = int(blocks[q])
            ring_end = q + 2 + int(blocks[q + 1])
            loc = _ring_location(blocks, q + 2, ring_end, (flags >> 1) & 1, px, py, rx, ry)
            q = ring_end
            if i == 0 and shell_in:
                if loc == _EXT:
                    covered = False
                    break
                if loc == _BDY:
                    break
            elif loc == _BDY:
                break
            elif loc == _INT:
                covered = False
                break
        if covered:
            return rank  # parts are in rank order: none after this one does better
        q = part_end
    return best


@_jit
def assign_xy(x, y, xmin, ymin, xmax, ymax, inv, nx, ny, cxs, cys, cell_value, block_off, blocks, rank_poly, out):
    """Polygon index per point into ``out`` (int32): -1 none, :data:`SLOW` for shapely.

    Points in cells without edges are answered in one pass; the others are collected (index and
    block id), sorted by block with their coordinates (counting sort; 28 bytes per such
    point in all) and tested block by block, so the blocks are read in memory order rather
    than at random. Returns the number of :data:`SLOW` points.
    """
    n = len(x)
    n_blocks = len(block_off)
    pend = np.empty(n, dtype=np.int32)  # only the first m entries are ever touched
    pblock = np.empty(n, dtype=np.int32)
    m = 0
    n_slow = 0
    for i in range(n):
        px = x[i]
        py = y[i]
        if not (px >= xmin and px <= xmax and py >= ymin and py <= ymax):  # NaN: False
            out[i] = NONE
            continue
        j = int((px - xmin) * inv)
        if j >= nx:
            j = nx - 1
        g = int((py - ymin) * inv)
        if g >= ny:
            g = ny - 1
        value = cell_value[g * nx + j]
        if value >= NONE:
            out[i] = value
            continue
        bid = -2 - value
        if bid == 0 or (px != 0.0 and abs(px) < TINY) or (py != 0.0 and abs(py) < TINY):
            out[i] = SLOW
            n_slow += 1
            continue
        pend[m] = i
        pblock[m] = bid
        m += 1
    if m == 0:
        return n_slow
    if m * 4 < n_blocks:  # few: not worth a sort
        for k in range(m):
            i = pend[k]
            _assign_one(x[i], y[i], i, xmin, ymin, inv, nx, ny, cxs, cys, blocks, block_off[pblock[k]], rank_poly, out)
        return n_slow
    start = np.zeros(n_blocks + 1, dtype=np.int64)
    for k in range(m):
        start[pblock[k] + 1] += 1
    for b in range(n_blocks):
        start[b + 1] += start[b]
    # scatter index and coordinates into block order; x[pend[k]] is read in increasing
    # index order (cache friendly), the later loop reads sx/sy sequentially
    order = np.empty(m, dtype=np.int32)
    sx = np.empty(m, dtype=np.float64)
    sy = np.empty(m, dtype=np.float64)
    for k in range(m):
        b = pblock[k]
        p = start[b]
        i = pend[k]
        order[p] = i
        sx[p] = x[i]
        sy[p] = y[i]
        start[b] = p + 1
        pblock[k] = p  # from now on: where point k went
    # start[b] is now the end of block b's points
    sb = np.empty(m, dtype=np.int32)
    k = 0
    for b in range(1, n_blocks):
        while k < start[b]:
            sb[k] = b
            k += 1
    # answers in block order into `order` (sequential stores), then out[] in point order
    # (sequential stores again; random stores into `out` would stall on cache misses)
    for k in range(m):
        off = block_off[sb[k]]
        px = sx[k]
        py = sy[k]
        j = min(int((px - xmin) * inv), nx - 1)
        g = min(int((py - ymin) * inv), ny - 1)
        best = _in_block(blocks, off, px, py, cxs[j], cys[g])
        order[k] = NONE if best == _NO_RANK else rank_poly[int(best)]
    for k in range(m):
        out[pend[k]] = order[pblock[k]]
    return n_slow


@_jit
def _assign_one(px, py, i, xmin, ymin, inv, nx, ny, cxs, cys, blocks, off, rank_poly, out):
    j = min(int((px - xmin) * inv), nx - 1)
    g = min(int((py - ymin) * inv), ny - 1)
    best = _in_block(blocks, off, px, py, cxs[j], cys[g])
    out[i] = NONE if best == _NO_RANK else rank_poly[int(best)]
