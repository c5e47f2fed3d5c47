"""Point → polygon assignment on a ``dask.distributed`` cluster, with the rule of :mod:`gis.join`.

The same answers as :func:`gis.join.assign_points` (``covered_by``; a point on shared edges or
vertices goes to the smallest key; outside, missing or NaN → ``None``), for batches larger than
one process should hold, on a ``LocalCluster`` or an existing scheduler.

How it works
------------
1. **Spatial partitions.** Points that carry an administrative code (``prefixes=``, e.g. the
   first 6 or 9 digits of a 12-digit code) are grouped by that prefix, the groups packed in
   order into ``n_partitions`` partitions of similar size. Points without one are ordered along
   a Z-order (Morton) curve over the coverage's extent (16 bits per axis) and cut into
   ``n_partitions`` runs of equal length. Either way a partition is a compact piece of the
   coverage, so it needs only the polygons near it.
2. **Coverage broadcast.** The polygons (WKB) and keys are sent once to every worker
   (``client.scatter(..., broadcast=True)``); each task takes the polygons whose bounding box
   meets its partition's bounding box (an STRtree query) and builds a
   :class:`gis.join.CoverageIndex` of them. A point can only be covered by a polygon whose box
   meets the partition's box, so the subset gives the same answer as the whole coverage.
   Keys keep their global order, so ties go to the same smallest key.
3. **Gather.** Each task returns the positions (into the full polygon list) of its points'
   polygons and the worker it ran on; the caller gets one int32 array in the input order, and
   :class:`DistributedResult` says how many partitions there were and how many points each
   worker assigned.

CRS: coordinates are in the polygons' CRS (GridGov: EPSG:4490 degrees); nothing is
reprojected. The planar rule is the one of :mod:`gis.join`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

__all__ = ["DistributedResult", "spatial_partitions", "morton_keys", "assign_distributed", "local_client", "close_client"]

#: Bits per axis of the Z-order key (a 65,536 × 65,536 lattice over the coverage's extent).
_MORTON_BITS = 16


@dataclass
class DistributedResult:
    """Positions per point (int32, -1 = none) and what ran where."""

    positions: np.ndarray
    partitions: int
    points_per_partition: list[int] = field(default_factory=list)
    points_per_worker: dict[str, int] = field(default_factory=dict)
    partitioned_by: str = "morton"

    def keys(self, keys: Any) -> np.ndarray:
        """The keys of ``positions`` (``None`` for -1), an object array."""
        key_arr = np.empty(len(keys) + 1, dtype=object)
        key_arr[:-1] = list(keys)
        return key_arr[self.positions]


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Interleave zeros between the low 16 bits of ``v`` (uint64)."""
    v = v & np.uint64(0xFFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
    return v


def morton_keys(x: np.ndarray, y: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    """Z-order key (uint64) of each point on a 2^16 × 2^16 lattice over ``extent``
    ``(xmin, ymin, xmax, ymax)``; points outside are clamped to its edge, NaN go to key 0."""
    xmin, ymin, xmax, ymax = extent
    scale = float((1 << _MORTON_BITS) - 1)
    width = max(xmax - xmin, 1e-300)
    height = max(ymax - ymin, 1e-300)
    with np.errstate(invalid="ignore"):
        gx = np.clip(np.nan_to_num((x - xmin) / width, nan=0.0), 0.0, 1.0) * scale
        gy = np.clip(np.nan_to_num((y - ymin) / height, nan=0.0), 0.0, 1.0) * scale
    return _spread_bits(gx.astype(np.uint64)) | (_spread_bits(gy.astype(np.uint64)) << np.uint64(1))


def spatial_partitions(x: np.ndarray, y: np.ndarray, n_partitions: int, *, extent: tuple[float, float, float, float],
                       prefixes: np.ndarray | None = None) -> tuple[list[np.ndarray], str]:
    """Split points into ``n_partitions`` compact groups: ``(list of index arrays, how)``.

    With ``prefixes`` (one admin-code prefix per point, ``None`` where unknown) whole prefix
    groups are packed in prefix order (points without a prefix follow in Z order); otherwise the
    points are sorted along a Z-order curve over ``extent`` and cut into equal runs. Every point
    is in exactly one group; empty groups are dropped.
    """
    n = len(x)
    n_partitions = max(1, int(n_partitions))
    if prefixes is not None:
        labels = np.asarray(prefixes, dtype=object)
        known = np.array([p is not None and p == p and str(p) != "" for p in labels], dtype=bool)
        text = np.where(known, labels, "").astype(str)
        z = morton_keys(x, y, extent)
        # prefix groups first (by prefix), the rest along the curve
        order = np.lexsort((z, text, ~known))
        sorted_text = text[order]
        # boundaries between prefix groups, packed greedily to ~n / n_partitions points each
        target = max(1, -(-n // n_partitions))
        groups: list[np.ndarray] = []
        change = np.flatnonzero(sorted_text[1:] != sorted_text[:-1]) + 1
        edges = [*change.tolist(), n]
        current = 0
        for edge in edges:
            if edge - current >= target or edge == n:
                groups.append(order[current:edge])
                current = edge
        return [g for g in groups if len(g)], "admin_code_prefix"
    order = np.argsort(morton_keys(x, y, extent), kind="stable")
    return [g for g in np.array_split(order, n_partitions) if len(g)], "morton"


def _assign_partition(x: np.ndarray, y: np.ndarray, coverage: tuple[str, np.ndarray, np.ndarray]
                      ) -> tuple[np.ndarray, str, int]:
    """Worker task: positions (into the full coverage) of the partition's points, the worker, count."""
    from gis.join import CoverageIndex

    token, wkb, keys = coverage
    polygons, tree = _worker_coverage(token, wkb)
    out = np.full(len(x), -1, dtype=np.int32)
    finite = np.isfinite(x) & np.isfinite(y)
    worker = _worker_address()
    if finite.any():
        box = shapely.box(float(x[finite].min()), float(y[finite].min()), float(x[finite].max()), float(y[finite].max()))
        near = np.sort(tree.query(box))
        if len(near):
            index = CoverageIndex(polygons[near], keys[near])
            local = index.locate(xy=(x, y))
            hit = local >= 0
            out[hit] = near[local[hit]].astype(np.int32)
    return out, worker, len(x)


_WORKER_CACHE: dict[str, tuple[np.ndarray, shapely.STRtree]] = {}


def _worker_coverage(token: str, wkb: np.ndarray) -> tuple[np.ndarray, shapely.STRtree]:
    """The coverage's geometries and their STRtree, built once per worker process per ``token``
    (a digest of the broadcast WKB and keys, so a new coverage never reuses an old one)."""
    if token not in _WORKER_CACHE:
        _WORKER_CACHE.clear()
        polygons = shapely.from_wkb(wkb)
        _WORKER_CACHE[token] = (polygons, shapely.STRtree(polygons))
    return _WORKER_CACHE[token]


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def assign_distributed(
    client: Any,
    xy: tuple[np.ndarray, np.ndarray],
    polygons: Any,
    keys: Any,
    *,
    n_partitions: int | None = None,
    prefixes: np.ndarray | None = None,
) -> DistributedResult:
    """Assign points ``xy`` (in the polygons' CRS) to ``polygons`` on the cluster of ``client``.

    Same rule and answers as :func:`gis.join.assign_points` (positions instead of keys: use
    :meth:`DistributedResult.keys`). ``n_partitions`` defaults to 4 per worker thread;
    ``prefixes`` (one admin-code prefix per point) partitions by prefix instead of the Z-order
    curve. Raises :class:`ValueError` when ``keys`` and ``polygons`` differ in length.
    """
    x = np.ascontiguousarray(xy[0], dtype=np.float64)
    y = np.ascontiguousarray(xy[1], dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y have shapes {x.shape} and {y.shape} but are expected to be equal 1-d")
    geoms = np.asarray(getattr(polygons, "array", polygons), dtype=object)
    key_list = list(keys)
    key_arr = np.empty(len(key_list), dtype=object)
    key_arr[:] = key_list
    if len(key_arr) != len(geoms):
        raise ValueError(f"keys has {len(key_arr)} entries but there are {len(geoms)} polygons")
    out = np.full(len(x), -1, dtype=np.int32)
    if not len(x) or not len(geoms):
        return DistributedResult(out, 0)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not usable.any():
        return DistributedResult(out, 0)
    bounds = shapely.total_bounds(geoms[usable])
    if n_partitions is None:
        threads = sum(client.nthreads().values()) or 1
        n_partitions = 4 * threads
    groups, how = spatial_partitions(x, y, n_partitions, extent=tuple(float(b) for b in bounds), prefixes=prefixes)
    wkb = shapely.to_wkb(np.where(usable, geoms, None))
    digest = hashlib.sha256()
    for blob, key in zip(wkb, key_arr):
        digest.update(blob or b"")
        digest.update(b"\x00" + str(key).encode() + b"\x01")
    # a fresh key per call (hash=False): a key derived from the data would be shared with an earlier
    # call's coverage whose release may still be under way on the scheduler ("lost dependencies")
    coverage = client.scatter((digest.hexdigest(), wkb, key_arr), broadcast=True, hash=False)
    futures = [client.submit(_assign_partition, x[g], y[g], coverage, pure=False) for g in groups]
    per_worker: Counter[str] = Counter()
    for g, future in zip(groups, futures):
        positions, worker, count = future.result()
        out[g] = positions
        per_worker[worker] += count
    return DistributedResult(out, len(groups), [len(g) for g in groups], dict(per_worker), how)


def local_client(scheduler: str | None = None, *, n_workers: int = 2, threads_per_worker: int = 1) -> Any:
    """A ``distributed.Client``: connected to ``scheduler`` (``tcp://HOST:PORT``) when given,
    else to a new ``LocalCluster`` of ``n_workers`` processes (closed with the client)."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    client._gridgov_cluster = cluster  # closed by close_client
    return client


def close_client(client: Any) -> None:
    """Close ``client`` and the ``LocalCluster`` :func:`local_client` started for it."""
    cluster = getattr(client, "_gridgov_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()
