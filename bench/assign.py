#!/usr/bin/env python
"""Point-to-grid assignment benchmark: ``gis.join`` vs ``geopandas.sjoin`` and the STRtree reference.

Data (generated once per run from ``--seed``, saved to a temporary directory, loaded by every
method's process untimed):

* grids: a Voronoi coverage (``shapely.voronoi_polygons``) of ``grids`` random seeds in the
  rectangle lon 113.20–113.35, lat 29.42–29.55 (EPSG:4490), clipped to it; every Voronoi
  edge is densified with points computed from its two end points in a canonical order and
  displaced sideways by a deterministic wiggle, so both neighbours get bit-identical shared
  edges (``shapely.coverage_is_valid`` is checked) with ~29 vertices per grid on average;
  ``grids / 0.98`` seeds, of which 2 % of the cells are dropped (gaps inside the coverage),
  so that exactly ``grids`` remain; keys are grid codes in random
  order (not the input order).
* points, in random order: 95 % uniform inside the coverage, 1 % exactly on vertices
  shared by two or more grids (ties), 2 % inside the gaps and 2 % outside the rectangle
  (4 % outside the coverage).

Sizes: ``1m`` = 1,000,000 points × 10,000 grids (default), ``10m`` = 10,000,000 × 100,000
(``--size 10m``; or ``--points/--grids``).

Methods, each in its own process (``python bench/assign.py --child …``, one CPU via
``sched_setaffinity``, BLAS/OpenMP/numba threads = 1), each with one untimed warm-up call on a
small slice (imports, numba's on-disk cache) and then ``--runs`` timed calls on the whole data:

* ``sjoin``: ``geopandas.sjoin(points, grids, how="left", predicate="within")`` (duplicates
  dropped, keys read out) — ``within`` misses points on a grid boundary;
* ``strtree``: ``gis.join._assign_points_strtree`` — ``STRtree.query(predicate="covered_by")``
  plus the smallest-key rule: the reference every other method is checked against;
* ``assign_points``: ``gis.join.assign_points`` one-shot (the grid index is built inside the
  timed call);
* ``index``: ``CoverageIndex.assign(points)`` with an index built before (untimed; its build
  time and size are reported below the table);
* ``index_xy``: the same with coordinate arrays, ``CoverageIndex.assign(xy=(x, y))``.

Reported per method: median wall-clock seconds of the runs, points/s, the speed-up over
``sjoin`` measured in the same invocation, peak memory (growth of the child's resident set
during one more, untimed call made after ``gc.collect()`` and ``malloc_trim``: Linux
``VmHWM`` reset through ``/proc/self/clear_refs``), bytes per point, and the number of
points whose answer differs from the reference. Also the load average before and during
the run.

``--write`` puts the table, the machine, the load, the date and the command into
``docs/performance.md`` ("Point-to-grid assignment"); it refuses when the 1-minute load average
was above 1.0 before the run started, unless ``--force-load`` is given (the load then appears in
the table header).

Not a test: never run from pytest. Imports only ``gis.*`` and third-party packages. Usage::

    .venv/bin/python bench/assign.py                     # 1,000,000 × 10,000, ~1-2 minutes
    .venv/bin/python bench/assign.py --size 10m --write  # 10,000,000 × 100,000, idle machine
    .venv/bin/python bench/assign.py --points 200000 --grids 2000 --methods strtree,assign_points
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import numpy as np  # noqa: E402
import shapely  # noqa: E402

RECT = (113.20, 29.42, 113.35, 29.55)  # lon/lat, EPSG:4490
EPSG = 4490
SIZES = {"1m": (1_000_000, 10_000), "10m": (10_000_000, 100_000)}
METHODS = ("sjoin", "strtree", "assign_points", "index", "index_xy")
REFERENCE = "strtree"
VERTICES_PER_GRID = 29
GAP_SHARE = 0.02
DOC = PROJECT_ROOT / "docs" / "performance.md"
SECTION = "## Point-to-grid assignment"


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
def _hash01(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A number in [0, 1) from the bits of each segment's canonical end points."""
    h = np.ascontiguousarray(np.column_stack([lo, hi])).view(np.uint64).reshape(-1, 4)
    with np.errstate(over="ignore"):
        x = h[:, 0] * np.uint64(0x9E3779B97F4A7C15)
        x ^= h[:, 1] * np.uint64(0xBF58476D1CE4E5B9)
        x ^= h[:, 2] * np.uint64(0x94D049BB133111EB)
        x ^= h[:, 3] * np.uint64(0xD6E8FEB86659FD93)
        x ^= x >> np.uint64(31)
        x *= np.uint64(0x9E3779B97F4A7C15)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def densify(cells: np.ndarray, vertices_per_cell: float) -> np.ndarray:
    """Insert wiggling points on every edge so that the cells have ~``vertices_per_cell`` vertices.

    Each edge's points are computed from its end points in lexicographic order (and emitted
    in the ring's direction), so the two cells sharing an edge get the same coordinates bit
    for bit; edges on the outer rectangle stay straight.
    """
    coords, ring = shapely.get_coordinates(shapely.get_exterior_ring(cells), return_index=True)
    same = ring[1:] == ring[:-1]
    a, b, seg_ring = coords[:-1][same], coords[1:][same], ring[:-1][same]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo = np.where(swap[:, None], b, a)
    hi = np.where(swap[:, None], a, b)
    d = hi - lo
    length = np.hypot(d[:, 0], d[:, 1])
    step = length.sum() / (vertices_per_cell - 1) / len(cells)
    n = np.maximum(1, np.rint(length / step)).astype(np.int64)
    seg = np.repeat(np.arange(len(a)), n)
    j = np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)
    k = np.where(swap[seg], n[seg] - j, j)  # canonical index of the j-th emitted point
    t = k / n[seg]
    amp = 0.25 * np.sin(np.pi * t) * np.sin(2 * np.pi * (2 * t + _hash01(lo, hi)[seg])) / n[seg]
    x = lo[seg, 0] + t * d[seg, 0] - amp * d[seg, 1]
    y = lo[seg, 1] + t * d[seg, 1] + amp * d[seg, 0]
    xmin, ymin, xmax, ymax = RECT
    frame = (((lo[:, 0] == hi[:, 0]) & np.isin(lo[:, 0], (xmin, xmax)))
             | ((lo[:, 1] == hi[:, 1]) & np.isin(lo[:, 1], (ymin, ymax))))[seg]
    x = np.where(frame, lo[seg, 0] + t * d[seg, 0], x)
    y = np.where(frame, lo[seg, 1] + t * d[seg, 1], y)
    x = np.where(j == 0, a[seg, 0], x)
    y = np.where(j == 0, a[seg, 1], y)
    return shapely.polygons(shapely.linearrings(np.column_stack([x, y]), indices=seg_ring[seg]))


def make_grids(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept cells, their keys, the dropped cells) of a densified Voronoi coverage."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = RECT
    frame = shapely.box(*RECT)
    total = int(round(n / (1 - GAP_SHARE)))  # n grids are kept, the rest become gaps
    seeds = shapely.multipoints(shapely.points(rng.uniform(xmin, xmax, total), rng.uniform(ymin, ymax, total)))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame)
    cells = densify(cells, VERTICES_PER_GRID)
    # A very acute cell can cross itself after the wiggle (one in 100,000 at the 10m size), and its
    # neighbours then overlap near the acute corner: such a cell and every cell touching it are among
    # the dropped ones (gaps), so the kept coverage stays valid and its shared edges identical.
    invalid = ~shapely.is_valid(cells)
    if invalid.any():
        _, near = shapely.STRtree(cells).query(cells[invalid], predicate="intersects")
        invalid[near] = True
    drop = invalid.copy()
    candidates = np.flatnonzero(~invalid)
    drop[candidates[rng.choice(len(candidates), size=max(0, len(cells) - n - int(invalid.sum())), replace=False)]] = True
    kept = cells[~drop]
    if not shapely.coverage_is_valid(kept):
        raise RuntimeError("the generated coverage is not valid (shared edges differ)")
    keys = np.array([f"430603003{i:09d}" for i in rng.permutation(len(kept))])
    return kept, keys, shapely.make_valid(cells[drop])


def make_points(kept: np.ndarray, gaps: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``(n, 2)`` coordinates: 95 % in the coverage, 1 % on shared vertices, 2 % in gaps, 2 % outside."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = RECT
    n_vertex, n_gap, n_far = n // 100, n // 50, n // 50
    n_in = n - n_vertex - n_gap - n_far
    gap = shapely.union_all(gaps)
    shapely.prepare(gap)
    parts: list[np.ndarray] = []
    got = 0
    while got < n_in:
        c = rng.uniform((xmin, ymin), (xmax, ymax), (int((n_in - got) * 1.05) + 16, 2))
        c = c[~shapely.contains_xy(gap, c[:, 0], c[:, 1])][: n_in - got]
        parts.append(c)
        got += len(c)
    got = 0
    gx0, gy0, gx1, gy1 = shapely.bounds(gap)
    while got < n_gap:
        c = rng.uniform((gx0, gy0), (gx1, gy1), (4 * n_gap + 16, 2))
        c = c[shapely.contains_xy(gap, c[:, 0], c[:, 1])][: n_gap - got]
        parts.append(c)
        got += len(c)
    w, h = xmax - xmin, ymax - ymin
    far = rng.uniform((xmin - 0.05 * w, ymin - 0.05 * h), (xmax + 0.05 * w, ymax + 0.05 * h), (8 * n_far + 16, 2))
    far = far[~((far[:, 0] >= xmin) & (far[:, 0] <= xmax) & (far[:, 1] >= ymin) & (far[:, 1] <= ymax))][:n_far]
    parts.append(far)
    v, ring = shapely.get_coordinates(kept, return_index=True)
    last = np.r_[ring[1:] != ring[:-1], True]
    unique, count = np.unique(v[~last], axis=0, return_counts=True)  # without the closing vertex
    shared = unique[count >= 2]
    parts.append(shared[rng.integers(0, len(shared), n_vertex)])
    xy = np.concatenate(parts)
    return np.ascontiguousarray(xy[rng.permutation(len(xy))])


def generate(directory: Path, n_points: int, n_grids: int, seed: int, log) -> dict:
    started = time.perf_counter()
    kept, keys, gaps = make_grids(n_grids, seed)
    xy = make_points(kept, gaps, n_points, seed + 1)
    _, coords, offsets = shapely.to_ragged_array(kept)
    np.save(directory / "coords.npy", coords)
    np.save(directory / "ring_offsets.npy", offsets[0])
    np.save(directory / "polygon_offsets.npy", offsets[1])
    np.save(directory / "keys.npy", keys)
    np.save(directory / "xy.npy", xy)
    meta = {
        "points": int(len(xy)), "grids": int(len(kept)), "seed": seed,
        "vertices_per_grid": float(shapely.get_num_coordinates(kept).mean()),
        "seconds": time.perf_counter() - started,
    }
    (directory / "meta.json").write_text(json.dumps(meta))
    log(f"data: {meta['points']:,} points, {meta['grids']:,} grids ({meta['vertices_per_grid']:.1f} coordinates "
        f"per grid), coverage valid, generated in {meta['seconds']:.1f} s")
    return meta


def load(directory: Path):
    from shapely import GeometryType

    coords = np.load(directory / "coords.npy")
    offsets = (np.load(directory / "ring_offsets.npy"), np.load(directory / "polygon_offsets.npy"))
    polygons = shapely.from_ragged_array(GeometryType.POLYGON, coords, offsets)
    keys = np.load(directory / "keys.npy").astype(object)
    xy = np.load(directory / "xy.npy")
    return polygons, keys, xy


# --------------------------------------------------------------------------------------
# the child: one method, timed
# --------------------------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> int | None:
    """Reset VmHWM to the current RSS; returns that RSS (kB), or None where impossible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_kb("VmRSS")


def _trim() -> None:
    """Return freed heap memory to the system, so the next call's growth is measured from it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def child(method: str, directory: Path, runs: int) -> dict:
    import geopandas as gpd
    import pandas as pd

    import gis.join as join

    polygons, keys, xy = load(directory)
    points = shapely.points(xy)
    grid_series = gpd.GeoSeries(polygons, crs=EPSG)
    point_series = gpd.GeoSeries(points, crs=EPSG)
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    extra: dict = {}

    if method == "sjoin":
        grids_frame = gpd.GeoDataFrame({"code": keys}, geometry=grid_series)
        points_frame = gpd.GeoDataFrame({"pid": np.arange(len(points))}, geometry=point_series)

        def run(p=points_frame):
            joined = gpd.sjoin(p, grids_frame, how="left", predicate="within")
            joined = joined[~joined.index.duplicated(keep="first")]
            return np.where(joined["code"].isna().to_numpy(), None, joined["code"].to_numpy(dtype=object))

        warm = lambda: run(points_frame.iloc[:10_000])  # noqa: E731
    elif method == "strtree":
        def run(p=point_series):
            return join._assign_points_strtree(p, grid_series, keys=keys)

        warm = lambda: run(point_series.iloc[:10_000])  # noqa: E731
    elif method == "assign_points":
        def run(p=point_series):
            return join.assign_points(p, grid_series, keys=keys)

        warm = lambda: join.CoverageIndex(grid_series.iloc[:500], keys[:500]).assign(point_series.iloc[:10_000])  # noqa: E731
    elif method in ("index", "index_xy"):
        join.CoverageIndex(grid_series.iloc[:500], keys[:500]).assign(point_series.iloc[:10_000])  # load kernels
        started = time.perf_counter()
        index = join.CoverageIndex(grid_series, keys)
        extra["index_build_s"] = time.perf_counter() - started
        extra["index"] = index.stats
        if method == "index":
            def run(p=point_series):
                return index.assign(p)

            warm = lambda: run(point_series.iloc[:10_000])  # noqa: E731
        else:
            def run():
                return index.assign(xy=(x, y))

            warm = lambda: index.assign(xy=(x[:10_000], y[:10_000]))  # noqa: E731
    else:
        raise SystemExit(f"unknown method {method!r}")

    warm()
    seconds, cpu, loads = [], [], []
    result = None
    for _ in range(runs):
        result = None
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        loads.append(os.getloadavg()[0])
    # memory: one more call, after handing freed memory back to the system, so that the
    # growth of the resident set is this call's own (not timed: the fresh pages cost time)
    result = None
    gc.collect()
    _trim()
    baseline = _reset_peak()
    result = run()
    peak = _status_kb("VmHWM")
    peak_bytes = max(0, peak - baseline) * 1024 if baseline is not None and peak is not None else None
    positions = pd.Index(keys).get_indexer(pd.Index(result, dtype=object)).astype(np.int32)
    np.save(directory / f"result_{method}.npy", positions)
    return {"method": method, "seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak_bytes,
            "loads": loads, "assigned": int((positions >= 0).sum()), **extra}


# --------------------------------------------------------------------------------------
# the parent
# --------------------------------------------------------------------------------------
def machine() -> dict:
    import geopandas
    import numba

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cpu": cpu, "cores": os.cpu_count(), "ram_gib": mem_kb / 2**20,
        "os": platform.platform(terse=True),
        "python": platform.python_version(), "shapely": shapely.__version__, "geos": shapely.geos_version_string,
        "numpy": np.__version__, "numba": numba.__version__, "geopandas": geopandas.__version__,
    }


def table(rows: list[dict], *, runs: int, load_note: str | None) -> str:
    first = "method" if load_note is None else f"method ({load_note})"
    lines = [
        f"| {first} | size (points × grids) | median s (of {runs}) | points/s | × sjoin | peak MB | bytes/point "
        f"| mismatches vs {REFERENCE} (covered_by) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = {r["size"]: r["median"] for r in rows if r["method"] == "sjoin"}
    for r in rows:
        ratio = f"{base[r['size']] / r['median']:.2f}" if r["size"] in base else "n/a"
        peak = "n/a" if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**20:,.0f}"
        per_point = "n/a" if r["peak_bytes"] is None else f"{r['peak_bytes'] / r['points']:.0f}"
        mismatch = "reference" if r["method"] == REFERENCE else (
            "n/a" if r["mismatches"] is None else f"{r['mismatches']:,}")
        lines.append(f"| {r['label']} | {r['points']:,} × {r['grids']:,} | {r['median']:.3f} | "
                     f"{r['points'] / r['median']:,.0f} | {ratio} | {peak} | {per_point} | {mismatch} |")
    return "\n".join(lines)


LABELS = {
    "sjoin": '`geopandas.sjoin(predicate="within")`',
    "strtree": "`_assign_points_strtree` (STRtree `covered_by`)",
    "assign_points": "`assign_points` (one-shot)",
    "index": "`CoverageIndex.assign(points)` (kept index)",
    "index_xy": "`CoverageIndex.assign(xy=…)` (kept index)",
}


def write_doc(text_table: str, notes: list[str], info: dict, meta_by_size: dict, load: dict, command: str) -> None:
    doc = DOC.read_text()
    start = doc.index(SECTION)
    nxt = doc.find("\n## ", start + len(SECTION))
    end = len(doc) if nxt < 0 else nxt + 1
    sizes = ", ".join(f"{m['points']:,} points × {m['grids']:,} grids ({m['vertices_per_grid']:.1f} coordinates "
                      f"per grid)" for m in meta_by_size.values())
    section = f"""{SECTION}

Assigning points (households, incidents) to the micro-grid that covers them:
`gis.join.assign_points(points, polygons, *, keys)` — `covered_by`, so boundary points match; a
point on a shared edge or vertex goes to the smallest code; outside every grid → `None`.
`store.grids.reassign_points` (imports, `gridgov assign`, boundary edits) assigns with it.
How it works (cells, interior lookup, exact boundary kernel) is in the module docstring of
`gis/join.py`.

Command (from the project root; generated data, no database):

```sh
{command}
```

Data ({sizes}; seed {next(iter(meta_by_size.values()))['seed']}): a Voronoi coverage of random
seeds in lon 113.20–113.35, lat 29.42–29.55 (EPSG:4490), its edges densified identically for
both neighbours (`shapely.coverage_is_valid` checked), 2 % more cells generated and dropped as gaps, keys
in random order; points in random order, 95 % inside the coverage, 1 % exactly on shared
vertices, 4 % outside the coverage (half in the gaps, half outside the rectangle). Every
method runs in its own process on one CPU on the same data, one untimed warm-up call, then
{load['runs']} timed calls: median wall-clock seconds; peak MB is the growth of that process's
resident set (Linux `VmHWM`) during one more, untimed call made after `gc.collect()` and
`malloc_trim`, i.e. everything the call allocates; "× sjoin" is `geopandas.sjoin`'s median
divided by the method's, in the same run; mismatches are counted on every point against the
`covered_by` reference (`sjoin`'s `within` misses the points on grid boundaries, so it differs
there by design). The one-shot `assign_points` builds its grid index inside the timed call;
the kept-index rows reuse one index built before (see below the table).

Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']:.0f} GiB RAM, {info['os']};
Python {info['python']}, shapely {info['shapely']} (GEOS {info['geos']}), NumPy {info['numpy']},
numba {info['numba']}, geopandas {info['geopandas']}. Run on {load['date']}; load average
{load['before']:.2f} (1 min) before the run, at most {load['during']:.2f} during it.

<!-- bench/assign.py output -->
{text_table}

{chr(10).join(notes)}

What was tried while building it (1,000,000 × 10,000, on this shared machine; relative
figures): cell density — one-shot build + assign was flat between 24 and 64 cells per grid
and slower above (the build grows with the number of boundary cells), a kept index's assign
flat between 128 and 256 and slower at 512 (its cell table no longer stays in cache); 4 × 4
sub-cells with precomputed answers inside boundary cells saved boundary tests but their
table lookups cost more than that, so they were dropped; answering the boundary points in
block order (a counting sort, coordinates sorted along) and writing the answers back in
point order was worth ~25 % of the assign time; a cell split by one shared chain of edges
between two grids (about 80 % of the boundary cells here) is stored once and decided with
one ring test instead of two (the blocks shrank from 57 to 35 MB at 64 cells per grid).

The PostGIS `ST_Covers` comparison that used to be in this section was removed: it was
measured on a machine loaded to 4–5 on 2 cores, and the benchmark no longer uses a database.

"""
    DOC.write_text(doc[:start] + section + doc[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=[*SIZES, "all"], default="1m",
                        help="1m = 1,000,000 points × 10,000 grids (default), 10m = 10,000,000 × 100,000")
    parser.add_argument("--points", type=int, help="custom size: points (with --grids)")
    parser.add_argument("--grids", type=int, help="custom size: grids (with --points)")
    parser.add_argument("--runs", type=int, default=3, help="timed calls per method; the median is reported")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--cpu", type=int, help="CPU the method processes are pinned to (default: the first allowed)")
    parser.add_argument("--data-dir", type=Path, help="keep the generated data here (default: a temporary directory)")
    parser.add_argument("--write", action="store_true", help="write the results into docs/performance.md")
    parser.add_argument("--force-load", action="store_true", help="--write even if the load average was above 1.0")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else sorted(os.sched_getaffinity(0))[0]})
        print(json.dumps(child(args.child, args.data, args.runs)))
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    load_before = os.getloadavg()[0]
    if args.write and load_before > 1.0 and not args.force_load:
        log(f"refusing to --write: the 1-minute load average is {load_before:.2f} (> 1.0); wait for an idle "
            "machine or add --force-load (the load is then shown in the table header)")
        return 2
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    if args.points or args.grids:
        if not (args.points and args.grids):
            parser.error("--points and --grids go together")
        sizes = {f"{args.points}x{args.grids}": (args.points, args.grids)}
    else:
        sizes = SIZES if args.size == "all" else {args.size: SIZES[args.size]}
    cpu = args.cpu if args.cpu is not None else sorted(os.sched_getaffinity(0))[0]
    info = machine()
    log(f"{info['cpu']}, {info['cores']} cores; python {info['python']}, shapely {info['shapely']} "
        f"(GEOS {info['geos']}), numpy {info['numpy']}, numba {info['numba']}; load {load_before:.2f}; CPU {cpu}")

    rows: list[dict] = []
    notes: list[str] = []
    meta_by_size: dict = {}
    loads = [load_before]
    started = time.perf_counter()
    for name, (n_points, n_grids) in sizes.items():
        own_dir = args.data_dir is None
        directory = Path(tempfile.mkdtemp(prefix="gridgov-bench-assign-")) if own_dir else args.data_dir / name
        try:
            directory.mkdir(parents=True, exist_ok=True)
            meta_file = directory / "meta.json"
            if meta_file.exists() and json.loads(meta_file.read_text()).get("seed") == args.seed:
                meta = json.loads(meta_file.read_text())
                log(f"data: reusing {directory}")
            else:
                meta = generate(directory, n_points, n_grids, args.seed, log)
            meta_by_size[name] = meta
            results = {}
            for method in methods:
                command = [sys.executable, str(Path(__file__).resolve()), "--child", method, "--data", str(directory),
                           "--runs", str(args.runs), "--cpu", str(cpu)]
                done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results[method] = result
                loads += result["loads"]
                log(f"[{name}] {method}: " + ", ".join(f"{s:.3f}" for s in result["seconds"]) + " s; load "
                    + ", ".join(f"{v:.2f}" for v in result["loads"]))
            reference = np.load(directory / f"result_{REFERENCE}.npy") if REFERENCE in results else None
            for method, result in results.items():
                mismatches = None
                if reference is not None:
                    mismatches = int((np.load(directory / f"result_{method}.npy") != reference).sum())
                rows.append({"method": method, "label": LABELS[method], "size": name, "points": meta["points"],
                             "grids": meta["grids"], "median": statistics.median(result["seconds"]),
                             "peak_bytes": result["peak_bytes"], "mismatches": mismatches})
                if "index_build_s" in result and method == "index":
                    stats = result["index"]
                    notes.append(
                        f"* {meta['points']:,} × {meta['grids']:,}: the kept index took {result['index_build_s']:.3f} s "
                        f"to build (untimed above) and holds {stats.get('bytes', 0) / 2**20:.1f} MB: "
                        f"{stats.get('cells', 0):,} cells of {stats.get('cell_size', 0):.6f}°, "
                        f"{stats.get('boundary_cells', 0):,} with edges, {stats.get('shapely_cells', 0):,} "
                        "left to shapely.")
        finally:
            if own_dir:
                shutil.rmtree(directory, ignore_errors=True)
    for name, (n_points, n_grids) in sizes.items():
        by = {r["method"]: r for r in rows if r["size"] == name}
        if name not in SIZES:
            continue  # the targets are for the two sizes
        if "sjoin" in by and "assign_points" in by:
            need = 5 if n_points <= 1_000_000 else 4
            ratio = by["sjoin"]["median"] / by["assign_points"]["median"]
            notes.append(f"* {name}: one-shot `assign_points` is {ratio:.2f}× `sjoin` (issue #16 asks ≥ {need}×: "
                         f"{'met' if ratio >= need else 'not met'} in this run).")
        for method in ("index", "index_xy"):
            if method in by and name == "1m":
                rate = by[method]["points"] / by[method]["median"]
                notes.append(f"* {name}: {LABELS[method]}: {rate / 1e6:.1f} M points/s (issue #16 asks "
                             f"≥ 20 M/s at 10,000 grids{': met' if rate >= 20e6 else ': not met'} in this run).")
    load = {"before": load_before, "during": max(loads), "runs": args.runs,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    log(f"total {time.perf_counter() - started:.0f} s; load average before {load_before:.2f}, max during "
        f"{load['during']:.2f}")
    load_note = None
    if load_before > 1.0 or load["during"] > 1.0:
        load_note = f"load {load_before:.2f} before, ≤ {load['during']:.2f} during"
    text = table(rows, runs=args.runs, load_note=load_note)
    print(text)
    for note in notes:
        print(note)
    if args.write:
        shown = ["bench/assign.py", *[a for a in (argv if argv is not None else sys.argv[1:])]]
        command = ".venv/bin/python " + " ".join(shlex.quote(part) for part in shown)
        write_doc(text, notes, info, meta_by_size, load, command)
        log(f"wrote {DOC.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
