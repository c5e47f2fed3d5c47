#!/usr/bin/env python
"""Point-to-grid assignment on a dask.distributed LocalCluster (``gridgov assign --engine dask``'s engine).

The data are those of ``bench/assign.py`` (same generator and seed: a densified Voronoi coverage,
1 % of the points on shared vertices, 4 % outside). One run of
:func:`gis.distributed.assign_distributed` on a new ``LocalCluster`` (``--workers`` processes, one
thread each), after one warm-up call on a small sample (kernels compiled or loaded from the numba
cache, coverage parsed on every worker); reported: wall-clock seconds of the timed call (spatial
partitioning, coverage broadcast, per-partition index builds, transfer and gather included),
points/s, the peak resident memory of each worker (``ru_maxrss``) and of this process, the
number of partitions and points per worker, and the mismatches against the single-process
``CoverageIndex`` (itself checked against the ``covered_by`` reference by ``bench/assign.py``;
``--reference`` compares with the STRtree reference instead — slow at large sizes).

Not a test. Usage (an idle machine; docs/scaling.md)::

    .venv/bin/python bench/assign_dask.py --points 200000 --grids 2000            # quick look
    .venv/bin/python bench/assign_dask.py --points 50000000 --grids 100000        # issue #16
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT, ROOT / "bench"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import numpy as np  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, help="default 4 per worker")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reference", action="store_true", help="compare with the STRtree covered_by reference")
    args = parser.parse_args(argv)

    import assign as data  # bench/assign.py: the generator

    from gis.distributed import assign_distributed, close_client, local_client
    from gis.join import CoverageIndex, _assign_points_strtree

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gridgov-dask-bench-") as tmp:
        data.generate(Path(tmp), args.points, args.grids, args.seed, lambda m: print(m, file=sys.stderr))
        polygons, keys, xy = data.load(Path(tmp))
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    del xy
    client = local_client(n_workers=args.workers)
    try:
        sample = slice(0, min(len(x), 10_000))
        assign_distributed(client, (x[sample], y[sample]), polygons, keys, n_partitions=args.workers)  # warm-up
        started = time.perf_counter()
        result = assign_distributed(client, (x, y), polygons, keys, n_partitions=args.partitions)
        seconds = time.perf_counter() - started
        worker_mb = client.run(_rss_mb)
    finally:
        close_client(client)
    if args.reference:
        import shapely

        expected = _assign_points_strtree(shapely.points(x, y), polygons, keys=keys)
        against = "STRtree covered_by reference"
    else:
        expected = CoverageIndex(polygons, keys).assign(xy=(x, y))
        against = "single-process CoverageIndex"
    mismatches = int((result.keys(keys) != expected).sum())
    print(f"| workers | size (points × grids) | seconds | points/s | partitions | points per worker | "
          f"peak MB per worker | client peak MB | mismatches vs {against} |")
    print("|---:|---|---:|---:|---:|---|---|---:|---:|")
    per_worker = ", ".join(f"{n:,}" for _, n in sorted(result.points_per_worker.items()))
    peaks = ", ".join(f"{mb:,.0f}" for _, mb in sorted(worker_mb.items()))
    print(f"| {args.workers} | {len(x):,} × {len(keys):,} | {seconds:.3f} | {len(x) / seconds:,.0f} | "
          f"{result.partitions} ({result.partitioned_by}) | {per_worker} | {peaks} | {_rss_mb():,.0f} | {mismatches:,} |")
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after", file=sys.stderr)
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
