#!/usr/bin/env python
"""Point-to-grid assignment benchmark: ``gis.join.assign_points`` vs ``geopandas.sjoin`` vs PostGIS.

Two cases, each timed ``--runs`` times (median reported) with the three methods on the same data:

* ``synthetic``: ``--grids`` (default 10,000) micro-grids — a Voronoi coverage
  (``shapely.voronoi_polygons``) of random seeds in the rectangle lon 113.20–113.35,
  lat 29.42–29.55 (EPSG:4490), clipped to it — and ``--points`` (default 1,000,000) points:
  half uniform, half in 200 Gaussian clusters (σ ≈ 200 m), 0.5 % outside the rectangle.
* ``demo``: the demo subdistrict (:func:`demo.generate.generate_demo`): its 133 micro-grids
  (level 3) and its ~6,300 households.

Methods:

* ``gis.join``: :func:`gis.join.assign_points` (``covered_by``; ties to the smallest key);
* ``geopandas.sjoin``: ``geopandas.sjoin(points, grids, how="left", predicate="within")``
  (boundary points do not match ``within``; the difference is reported);
* ``postgis``: the points and grids in a scratch database on the project's cluster
  (GiST on the grids), timed ``CREATE TEMP TABLE … AS SELECT p.id, (SELECT min(g.code) …
  WHERE ST_Covers(g.geom, p.geom))`` with parallel workers off (``min``: the same tie rule
  as ``gis.join``, and it lets the planner use the GiST index). Loading
  the tables is not timed. The scratch database is dropped at the end.

Time: wall-clock seconds (``perf_counter``) and CPU seconds of the process doing the work
(``process_time`` for the Python methods, the server backend's utime + stime for PostGIS);
on a shared machine the CPU time is the steadier figure.

Memory: peak resident set growth during a run (Linux ``VmHWM`` after resetting it through
``/proc/<pid>/clear_refs``), of this process for the Python methods and of the server
backend for PostGIS; the largest of the runs is reported.

"One core": the Python process is pinned to one CPU (``sched_setaffinity``), BLAS/OpenMP
threads are 1, shapely/GEOS is single-threaded; PostGIS runs with
``max_parallel_workers_per_gather = 0`` (one backend process).

Not a test: never run from pytest. Usage::

    .venv/bin/python bench/assign.py                 # both cases, 3 runs, ~2-4 minutes
    .venv/bin/python bench/assign.py --no-postgis --points 200000
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

RECT = (113.20, 29.42, 113.35, 29.55)  # lon/lat, EPSG:4490
EPSG = 4490


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
def synthetic_grids(n: int, *, seed: int = 1) -> gpd.GeoDataFrame:
    """A Voronoi coverage of ``n`` random seeds in :data:`RECT`, clipped to it (EPSG:4490)."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = RECT
    frame = shapely.box(*RECT)
    seeds = shapely.multipoints(shapely.points(rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame)
    codes = np.array([f"430603003{i:09d}" for i in range(len(cells))], dtype=object)
    order = rng.permutation(len(cells))  # keys not in spatial order
    return gpd.GeoDataFrame({"code": codes}, geometry=cells[order], crs=EPSG)


def synthetic_points(n: int, *, seed: int = 2, clusters: int = 200) -> gpd.GeoDataFrame:
    """``n`` points: 49.5 % uniform in :data:`RECT`, 50 % Gaussian clusters, 0.5 % outside."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = RECT
    n_out = n // 200
    n_uniform = (n - n_out) // 2
    n_cluster = n - n_out - n_uniform
    centres = np.column_stack([rng.uniform(xmin, xmax, clusters), rng.uniform(ymin, ymax, clusters)])
    which = rng.integers(0, clusters, n_cluster)
    sigma = 0.002  # degrees, ~200 m
    cx = np.clip(centres[which, 0] + rng.normal(0, sigma, n_cluster), xmin, xmax)
    cy = np.clip(centres[which, 1] + rng.normal(0, sigma, n_cluster), ymin, ymax)
    ux, uy = rng.uniform(xmin, xmax, n_uniform), rng.uniform(ymin, ymax, n_uniform)
    ox = rng.uniform(xmax + 0.001, xmax + 0.05, n_out)  # east of the rectangle: in no grid
    oy = rng.uniform(ymin, ymax, n_out)
    x, y = np.concatenate([ux, cx, ox]), np.concatenate([uy, cy, oy])
    shuffle = rng.permutation(n)
    return gpd.GeoDataFrame({"pid": np.arange(n)}, geometry=shapely.points(x[shuffle], y[shuffle]), crs=EPSG)


def demo_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from demo.generate import generate_demo

    demo = generate_demo()
    grids = demo.grids.loc[demo.grids["level"] == demo.grids["level"].max(), ["code", "geometry"]]
    points = gpd.GeoDataFrame({"pid": np.arange(len(demo.households))},
                              geometry=demo.households.geometry.to_numpy(), crs=demo.households.crs)
    return grids.reset_index(drop=True), points


# --------------------------------------------------------------------------------------
# memory: peak RSS growth (Linux)
# --------------------------------------------------------------------------------------
def _status_kb(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak(pid: int | str) -> int | None:
    """Reset VmHWM of ``pid`` to its current RSS; returns that RSS (kB) or None if impossible."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_kb(pid, "VmRSS")


def _cpu_seconds(pid: int | str) -> float:
    """User + system CPU seconds of ``pid`` so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_growth_mb(pid: int | str, baseline_kb: int | None) -> float | None:
    peak = _status_kb(pid, "VmHWM")
    if baseline_kb is None or peak is None:
        return None
    return max(0.0, (peak - baseline_kb) / 1024)


# --------------------------------------------------------------------------------------
# methods: each returns (per-point key array or None, seconds, peak MB)
# --------------------------------------------------------------------------------------
@dataclass
class Result:
    case: str
    method: str
    points: int
    grids: int
    seconds: list[float]
    cpu_seconds: list[float]
    peak_mb: float | None
    assigned: int
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu_seconds)


def _timed(func: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float, float | None]:
    gc.collect()
    baseline = _reset_peak("self")
    cpu = time.process_time()
    start = time.perf_counter()
    keys = func()
    seconds = time.perf_counter() - start
    return keys, seconds, time.process_time() - cpu, _peak_growth_mb("self", baseline)


def run_gis_join(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    from gis.join import assign_points

    return assign_points(points.geometry, grids.geometry, keys=grids["code"].to_numpy(dtype=object))


def run_sjoin(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    joined = gpd.sjoin(points, grids, how="left", predicate="within")
    # a point on a shared edge is within neither polygon; one inside two (never in a
    # coverage) would appear twice: keep the first, as a caller would have to
    joined = joined[~joined.index.duplicated(keep="first")]
    return np.where(joined["code"].isna().to_numpy(), None, joined["code"].to_numpy(dtype=object))


class PostGISCase:
    """The case's grids and points in a scratch database (created here, dropped by :meth:`close`)."""

    def __init__(self, grids: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from store.engine import database_url, local_cluster
        from gis.settings import Settings

        settings = Settings.from_env()
        if not settings.database_url:
            local_cluster(settings).start()
        base = make_url(database_url(settings))
        self.name = f"gridgov_bench_{uuid.uuid4().hex[:8]}"
        self._admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.engine = create_engine(base.set(database=self.name))
        self._text = text
        try:
            self._load(grids, points)
        except BaseException:
            self.close()  # never leave a scratch database behind
            raise

    def _load(self, grids: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> None:
        text = self._text
        with self.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(text(f"CREATE TABLE bench_grids (code text PRIMARY KEY, geom geometry(Geometry, {EPSG}) NOT NULL)"))
            conn.execute(text(f"CREATE TABLE bench_points (id integer PRIMARY KEY, geom geometry(Point, {EPSG}) NOT NULL)"))
            self._copy(conn, "bench_grids", ("code", "geom"),
                       zip(grids["code"].astype(str), self._ewkb(grids.geometry.values)))
            self._copy(conn, "bench_points", ("id", "geom"),
                       zip(range(len(points)), self._ewkb(points.geometry.values)))
            conn.execute(text("CREATE INDEX ON bench_grids USING gist (geom)"))
            conn.execute(text("ANALYZE bench_grids"))
            conn.execute(text("ANALYZE bench_points"))

    @staticmethod
    def _ewkb(geoms: object) -> list[str]:
        arr = shapely.set_srid(np.asarray(geoms, dtype=object), EPSG)
        return list(shapely.to_wkb(arr, hex=True, include_srid=True))

    @staticmethod
    def _copy(conn: object, table: str, columns: tuple[str, ...], rows: object) -> None:
        raw = conn.connection.driver_connection  # type: ignore[attr-defined]
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:  # type: ignore[attr-defined]
                copy.write_row(row)

    def run(self) -> tuple[np.ndarray, float, float, float | None]:
        text = self._text
        with self.engine.connect() as conn:
            conn.execute(text("SET max_parallel_workers_per_gather = 0"))
            conn.execute(text("SET jit = off"))
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            baseline = _reset_peak(backend)
            cpu = _cpu_seconds(backend)
            start = time.perf_counter()
            conn.execute(text(
                "CREATE TEMP TABLE assigned AS SELECT p.id, (SELECT min(g.code) FROM bench_grids g "
                "WHERE ST_Covers(g.geom, p.geom)) AS code FROM bench_points p"))
            seconds = time.perf_counter() - start
            cpu = _cpu_seconds(backend) - cpu
            peak = _peak_growth_mb(backend, baseline)
            rows = conn.execute(text("SELECT id, code FROM assigned ORDER BY id")).all()
            conn.rollback()
        keys = np.array([code for _, code in rows], dtype=object)
        return keys, seconds, cpu, peak

    def close(self) -> None:
        from sqlalchemy import text

        self.engine.dispose()
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


# --------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------
def bench_case(
    case: str, grids: gpd.GeoDataFrame, points: gpd.GeoDataFrame, *, runs: int, postgis: bool, log: Callable[[str], None]
) -> list[Result]:
    results: list[Result] = []
    answers: dict[str, np.ndarray] = {}
    methods: list[tuple[str, Callable[[], tuple[np.ndarray, float, float, float | None]]]] = [
        ("gis.join", lambda: _timed(lambda: run_gis_join(points, grids))),
        ("geopandas.sjoin", lambda: _timed(lambda: run_sjoin(points, grids))),
    ]
    scratch = None
    if postgis:
        log(f"[{case}] loading {len(grids):,} grids and {len(points):,} points into a scratch database …")
        started = time.perf_counter()
        scratch = PostGISCase(grids, points)
        log(f"[{case}] loaded in {time.perf_counter() - started:.1f} s")
        methods.append(("postgis", scratch.run))
    try:
        for method, run in methods:
            times: list[float] = []
            cpus: list[float] = []
            peaks: list[float] = []
            keys = None
            for i in range(runs):
                keys, seconds, cpu, peak = run()
                times.append(seconds)
                cpus.append(cpu)
                if peak is not None:
                    peaks.append(peak)
                log(f"[{case}] {method} run {i + 1}: {seconds:.3f} s wall, {cpu:.3f} s CPU, load {os.getloadavg()[0]:.1f}")
            answers[method] = keys
            results.append(Result(case, method, len(points), len(grids), times, cpus, max(peaks) if peaks else None,
                                  int(sum(k is not None for k in keys))))
    finally:
        if scratch is not None:
            scratch.close()
    reference = answers.get("postgis")
    if reference is not None:
        for result in results:
            differ = int(sum(a != b for a, b in zip(answers[result.method], reference)))
            result.note = "reference" if result.method == "postgis" else f"{differ:,} differ from PostGIS"
    return results


def markdown(results: list[Result], *, runs: int) -> str:
    lines = [
        f"| case | method | points | grids | median s (of {runs}) | points/s | median CPU s | points/CPU s "
        "| peak MB | assigned | check |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        peak = "n/a" if r.peak_mb is None else f"{r.peak_mb:,.0f}"
        lines.append(
            f"| {r.case} | {r.method} | {r.points:,} | {r.grids:,} | {r.median:.3f} | {r.points / r.median:,.0f} | "
            f"{r.median_cpu:.3f} | {r.points / max(r.median_cpu, 1e-9):,.0f} | {peak} | {r.assigned:,} | {r.note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="synthetic points (default 1,000,000)")
    parser.add_argument("--grids", type=int, default=10_000, help="synthetic micro-grids (default 10,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per method; the median is reported")
    parser.add_argument("--no-postgis", dest="postgis", action="store_false", help="skip the PostGIS method")
    parser.add_argument("--no-demo", dest="demo", action="store_false", help="skip the demo case")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    args = parser.parse_args(argv)

    allowed = sorted(os.sched_getaffinity(0))
    cpu = args.cpu if args.cpu is not None else allowed[0]
    os.sched_setaffinity(0, {cpu})

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(f"python {platform.python_version()}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"geopandas {gpd.__version__}, numpy {np.__version__}; pinned to CPU {cpu} of {len(allowed)}")
    results: list[Result] = []
    started = time.perf_counter()
    grids = synthetic_grids(args.grids)
    points = synthetic_points(args.points)
    results += bench_case("synthetic", grids, points, runs=args.runs, postgis=args.postgis, log=log)
    del grids, points
    if args.demo:
        grids, points = demo_case()
        results += bench_case("demo", grids, points, runs=args.runs, postgis=args.postgis, log=log)
    log(f"total {time.perf_counter() - started:.0f} s; load average {os.getloadavg()}")
    print(markdown(results, runs=args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
