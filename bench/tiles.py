#!/usr/bin/env python
"""A synthetic city in PostGIS, served by ``gridgov app``: vector-tile latency, the electronic map's
first draw and the server's memory (issue #15 point 7).

The city (``--grids`` micro-grids, default 100,000; ``--households``, default 10,000,000;
``--incidents``, default 200,000) is made once into a database of its own on the local cluster
(``gridgov_city_<grids>``; kept, so a second run measures without loading again; ``--fresh``
rebuilds it) through the real commands: ``gridgov init``, an account, ``gridgov import grids``
(GeoParquet; the merged plan validated as a nested coverage), ``gridgov import households`` and
``gridgov import incidents`` (GeoParquet, chunked). The grids are a jittered lattice in EPSG:4490
around Yueyang, 30 km × 30 km: level-1 grids of 10 × 10 blocks, each 5 × 4 level-2 grids, each
10 × 5 micro-grids (≈ 60 m × 170 m); every edge carries shared, jittered intermediate vertices, so
neighbours share their edges exactly and a micro-grid has 16 coordinates. Level-2 and level-1
polygons are the exact unions of their children (``shapely.coverage_union_all``).

Then the app is started (``streamlit run serve.py``, as ``gridgov app``) against it and measured:

* **tiles while panning and zooming**: ``--viewports`` viewports (1280 × 800 px, 5 × 4 tiles of
  256 px) at random centres inside the city, at zooms 12 to 17 in turn; for each, every tile of the
  grid layers the map draws at that zoom and of incident density is fetched over HTTP as a browser
  would (6 at a time, bearer token). *Cold*: the first request of a tile since the server started
  (its cache empty); *warm*: the same viewport's tiles fetched again. p50/p95/max in ms, per kind.
* **first draw from navigation**: headless Debian Chromium, logged in, ``page.goto(/map)`` until
  MapLibre has loaded the style and every tile on screen and the micro-grids are rendered
  (``--visits`` first visits, each in a new browser context, median).
* **the API under load** (after the tiles): point lookups over HTTP from 50 closed-loop clients for
  ``--point-seconds`` (bench/api_point.py's generator: requests/s, p50/p99) and Open311 ``POST
  /requests.json`` from 8 clients for ``--open311-seconds`` (each files an incident in the city);
  the load generator runs on the same 2 CPUs as the server, so these are lower bounds;
* **memory**: the server process's resident memory (``VmRSS``) after start, after the first draws
  and after the tile sweep, and its peak (``VmHWM``).

Targets (issue #15): first draw < 2 s, tile p95 < 100 ms warm and < 500 ms cold. ``--write`` puts
the table into ``docs/performance.md`` (section "Vector tiles at city scale"); it refuses when the
1-minute load average was above 1.0 before the measurement, unless ``--force``.

Not a test; pytest never runs it. A check at small size (seconds)::

    .venv/bin/python bench/tiles.py --grids 1000 --households 10000 --incidents 1000 --viewports 6 --visits 1 \
        --tile-threshold 0

The measurement, on an otherwise idle machine (the first run loads the city: tens of minutes)::

    .venv/bin/python bench/tiles.py --write
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import random
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests" / "e2e", ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import numpy as np  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
SECTION = "## Vector tiles at city scale"
#: the city's south-west corner and size (degrees, EPSG:4490): about 30 km × 30 km at 29.3° N
ORIGIN = (113.00, 29.20)
SIZE = (0.30, 0.27)
#: level-1 blocks (columns, rows), level-2 grids per level-1 grid, micro-grids per level-2 grid
L1_SHAPE, L2_SHAPE, L3_SHAPE = (10, 10), (5, 4), (10, 5)
#: intermediate vertices per lattice edge (so 4 + 4 × 3 = 16 coordinates per micro-grid)
EDGE_VERTICES = 3
PASSWORD = "bench-city-password-2026"
ACCOUNT = "bench-admin"
TILE_PX, VIEW_W, VIEW_H = 256, 1280, 800
ZOOMS = (12, 13, 14, 15, 16, 17)
_TILES_IDLE = (
    "() => window.gridgovTiles && window.gridgovTiles.maplibre.isStyleLoaded()"
    " && window.gridgovTiles.maplibre.areTilesLoaded()"
    " && window.gridgovTiles.maplibre.queryRenderedFeatures({layers: ['grids-3-fill']}).length > 0"
)


# --------------------------------------------------------------------------------------
# the city
# --------------------------------------------------------------------------------------
def lattice_shape(n_grids: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(level-1 blocks, level-2 per level-1, micro-grids per level-2) for about ``n_grids`` micro-grids.

    The default 100,000 is exactly 10 × 10 × 5 × 4 × 10 × 5; smaller cities keep the per-parent
    shapes and take fewer level-1 blocks (at least 1 × 1)."""
    per_l1 = L2_SHAPE[0] * L2_SHAPE[1] * L3_SHAPE[0] * L3_SHAPE[1]
    blocks = max(1, round(n_grids / per_l1))
    cols = max(1, math.isqrt(blocks))
    rows = max(1, round(blocks / cols))
    return (cols, rows), L2_SHAPE, L3_SHAPE


def make_city(n_grids: int, seed: int):
    """The grids of the synthetic city: a GeoDataFrame (code, name, level, parent_code, geometry, EPSG:4490)."""
    import geopandas as gpd
    import shapely

    (c1, r1), (c2, r2), (c3, r3) = lattice_shape(n_grids)
    nx, ny = c1 * c2 * c3, r1 * r2 * r3  # micro-grid columns and rows
    rng = np.random.default_rng(seed)
    dx, dy = SIZE[0] / nx, SIZE[1] / ny
    # lattice vertices, jittered by up to 20 % of a cell (the outer frame stays straight)
    vx = ORIGIN[0] + np.arange(nx + 1)[:, None] * dx + rng.uniform(-0.2, 0.2, (nx + 1, ny + 1)) * dx
    vy = ORIGIN[1] + np.arange(ny + 1)[None, :] * dy + rng.uniform(-0.2, 0.2, (nx + 1, ny + 1)) * dy
    vx[0, :], vx[-1, :] = ORIGIN[0], ORIGIN[0] + SIZE[0]
    vy[:, 0], vy[:, -1] = ORIGIN[1], ORIGIN[1] + SIZE[1]
    k = EDGE_VERTICES
    t = (np.arange(1, k + 1) / (k + 1))[None, None, :]

    def edge(x0, y0, x1, y1, normal_x, normal_y, size) -> tuple[np.ndarray, np.ndarray]:
        """Intermediate vertices of every edge from (x0, y0) to (x1, y1), displaced along the normal."""
        wobble = rng.uniform(-0.08, 0.08, x0.shape + (k,)) * size
        return (x0[..., None] + (x1 - x0)[..., None] * t + normal_x * wobble,
                y0[..., None] + (y1 - y0)[..., None] * t + normal_y * wobble)

    # horizontal edges (i, j) → (i+1, j): displaced in y; vertical (i, j) → (i, j+1): displaced in x
    hx, hy = edge(vx[:-1, :], vy[:-1, :], vx[1:, :], vy[1:, :], 0.0, 1.0, dy)
    wx, wy = edge(vx[:, :-1], vy[:, :-1], vx[:, 1:], vy[:, 1:], 1.0, 0.0, dx)
    hy[:, 0, :], hy[:, -1, :] = ORIGIN[1], ORIGIN[1] + SIZE[1]  # the frame stays straight
    wx[0, :, :], wx[-1, :, :] = ORIGIN[0], ORIGIN[0] + SIZE[0]
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel(), j.ravel()
    ring_x = np.concatenate([vx[i, j][:, None], hx[i, j], vx[i + 1, j][:, None], wx[i + 1, j],
                             vx[i + 1, j + 1][:, None], hx[i, j + 1][:, ::-1], vx[i, j + 1][:, None],
                             wx[i, j][:, ::-1], vx[i, j][:, None]], axis=1)
    ring_y = np.concatenate([vy[i, j][:, None], hy[i, j], vy[i + 1, j][:, None], wy[i + 1, j],
                             vy[i + 1, j + 1][:, None], hy[i, j + 1][:, ::-1], vy[i, j + 1][:, None],
                             wy[i, j][:, ::-1], vy[i, j][:, None]], axis=1)
    cells = shapely.polygons(np.stack([ring_x, ring_y], axis=-1))
    # codes: level-1 block (b1), level-2 grid in it (b2), micro-grid in that (b3), 1-based
    col1, in1x = np.divmod(i, c2 * c3)
    row1, in1y = np.divmod(j, r2 * r3)
    col2, col3 = np.divmod(in1x, c3)
    row2, row3 = np.divmod(in1y, r3)
    b1 = row1 * c1 + col1 + 1
    b2 = row2 * c2 + col2 + 1
    b3 = row3 * c3 + col3 + 1
    l1 = np.char.add("430603", np.char.zfill(b1.astype(str), 6))
    l2 = np.char.add(l1, np.char.zfill(b2.astype(str), 3))
    l3 = np.char.add(l2, np.char.zfill(b3.astype(str), 3))
    frames = [gpd.GeoDataFrame({"code": l3, "name": np.char.add("微网格", l3), "level": 3, "parent_code": l2},
                               geometry=cells, crs=4490)]
    for level, codes, parents in ((2, l2, l1), (1, l1, None)):
        order = np.argsort(codes, kind="stable")
        unique, starts = np.unique(codes[order], return_index=True)
        groups = np.split(cells[order], starts[1:])
        unions = np.array([shapely.coverage_union_all(g) for g in groups], dtype=object)
        parent = None if parents is None else np.array([u[:12] for u in unique])
        frames.append(gpd.GeoDataFrame({"code": unique, "name": np.char.add(f"{level}级网格", unique),
                                        "level": level, "parent_code": parent}, geometry=unions, crs=4490))
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat(frames[::-1], ignore_index=True), crs=4490)


def _gridgov(env: dict[str, str], *args: str, stdin: str | None = None, quiet: bool = False) -> str:
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, input=stdin, text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"gridgov {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-3000:]}")
    if not quiet:
        sys.stderr.write(done.stderr[-2000:])
    return done.stdout


def build_city(cluster, name: str, args, log) -> dict[str, float]:
    """Load the city into database ``name`` through the real commands (created if missing); seconds per
    step. Resumable: a step whose rows are already there is skipped (a failed load keeps what it had)."""
    from import_rows import make_rows, write_file

    env = _env(cluster, name)
    seconds: dict[str, float] = {}
    if not _exists(cluster, name):
        cluster.create_database(name)
        _gridgov(env, "init", quiet=True)
        _gridgov(env, "user", "add", ACCOUNT, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n",
                 quiet=True)
    have = _counts(env)
    # a city's files are larger than the interactive default (GRIDGOV_MAX_FEATURES, 2,000,000 rows)
    act = {**env, "GRIDGOV_ACTOR": ACCOUNT, "GRIDGOV_MAX_FEATURES": str(max(args.households, args.incidents) + 1)}
    with tempfile.TemporaryDirectory(prefix="gridgov-city-") as tmp:
        started = time.perf_counter()
        grids = make_city(args.grids, args.seed)
        path = Path(tmp) / "grids.parquet"
        grids.to_parquet(path)
        log(f"city: {int((grids['level'] == 3).sum()):,} micro-grids, {len(grids):,} grids in all, "
            f"made in {time.perf_counter() - started:.1f} s")
        extent = tuple(float(v) for v in grids.total_bounds)
        n_grids = len(grids)
        del grids
        for kind, n, done in (("grids", None, sum(have["grids"].values()) >= n_grids),
                              ("households", args.households, have["households"] >= args.households),
                              ("incidents", args.incidents, have["incidents"] >= args.incidents)):
            if done:
                log(f"import {kind}: already loaded")
                continue
            if n is not None:
                path = write_file(make_rows(kind, n, extent, args.seed + len(kind)), "parquet",
                                  Path(tmp) / f"{kind}.parquet")
            started = time.perf_counter()
            _gridgov(act, "import", kind, str(path), "--json", quiet=True)
            seconds[kind] = time.perf_counter() - started
            log(f"import {kind}: {seconds[kind]:.0f} s")
    return seconds


def _env(cluster, name: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": cluster.url(name, role="owner"),
            "GRIDGOV_APP_DATABASE_URL": cluster.url(name, role="app"), "COLUMNS": "1000"}


def _counts(env: dict[str, str]) -> dict[str, int]:
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        grids = dict(conn.execute("SELECT level, count(*) FROM grids GROUP BY level").fetchall())
        households = conn.execute("SELECT count(*) FROM households").fetchone()[0]
        incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        box = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                           "FROM (SELECT ST_Extent(geom) AS e FROM grids) s").fetchone()
    return {"grids": grids, "households": int(households), "incidents": int(incidents),
            "extent": tuple(float(v) for v in box) if box[0] is not None else None}


def _exists(cluster, name: str) -> bool:
    import psycopg

    url = cluster.url("postgres", role="owner").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


# --------------------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------------------
class Server:
    """``streamlit run serve.py`` against the city, on a free port; its pid for memory."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        from harness import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GRIDGOV_BASEMAP": "none", "GRIDGOV_LANG": "zh"}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        import urllib.request

        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(self.port),
             "--server.headless", "true", "--server.address", "127.0.0.1"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while True:
            try:
                with urllib.request.urlopen(self.base + "/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the app did not start; see {self.log_path}")
            time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()

    def memory_mb(self) -> tuple[float, float]:
        """(resident, peak resident) MB of the server process."""
        fields = {}
        assert self.proc is not None
        for line in open(f"/proc/{self.proc.pid}/status", encoding="ascii"):
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]


# --------------------------------------------------------------------------------------
# tiles
# --------------------------------------------------------------------------------------
def _tile_of(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Web-Mercator tile coordinates (fractional) of a WGS 84 point."""
    n = 2 ** z
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def viewports(extent: tuple[float, float, float, float], count: int, seed: int) -> list[tuple[int, list[tuple[int, int]]]]:
    """``count`` viewports (zoom, tiles) at random centres inside ``extent``, zooms taken in turn."""
    rng = random.Random(seed)
    x0, y0, x1, y1 = extent
    out = []
    for k in range(count):
        z = ZOOMS[k % len(ZOOMS)]
        cx, cy = _tile_of(rng.uniform(x0, x1), rng.uniform(y0, y1), z)
        half_w, half_h = VIEW_W / TILE_PX / 2, VIEW_H / TILE_PX / 2
        tiles = [(x, y) for x in range(math.floor(cx - half_w), math.floor(cx + half_w) + 1)
                 for y in range(math.floor(cy - half_h), math.floor(cy + half_h) + 1)]
        out.append((z, tiles))
    return out


#: what the tile map requests at every zoom (gis/tilemap.py: each grid level is a source from zoom 0
#: to 18) plus the incident density layer
LAYERS = ("grids-1", "grids-2", "grids-3", "incidents")


async def _sweep(base: str, token: str, ports: list[tuple[int, list[tuple[int, int]]]]) -> dict[str, list[float]]:
    import httpx

    seen: set[str] = set()
    out: dict[str, list[float]] = {"cold": [], "warm": []}
    sizes: list[int] = []
    limits = httpx.Limits(max_connections=6, max_keepalive_connections=6)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=120) as http:
        gate = asyncio.Semaphore(6)

        async def fetch(path: str) -> float:
            async with gate:
                started = time.perf_counter()
                answer = await http.get(path)
                took = (time.perf_counter() - started) * 1000
            if answer.status_code not in (200, 204):
                raise SystemExit(f"GET {path}: {answer.status_code} {answer.text[:300]}")
            sizes.append(len(answer.content))
            return took

        for z, tiles in ports:
            paths = [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for layer in LAYERS for x, y in tiles]
            for _fetch in ("first", "again"):  # the viewport drawn, then drawn again (panning back)
                took = await asyncio.gather(*(fetch(p) for p in paths))
                for path, ms in zip(paths, took, strict=True):
                    out["warm" if path in seen else "cold"].append(ms)
                    seen.add(path)
    out["bytes"] = sizes  # type: ignore[assignment]
    return out


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return (float("nan"),) * 3
    array = np.asarray(values)
    return float(np.percentile(array, 50)), float(np.percentile(array, 95)), float(array.max())


# --------------------------------------------------------------------------------------
# the API under load: point lookups (bench/api_point.py) and Open311 POSTs
# --------------------------------------------------------------------------------------
def point_load(base: str, token: str, extent: tuple[float, float, float, float], clients: int,
               seconds: float) -> dict:
    """``GET /api/point/4490/{lon},{lat}`` from ``clients`` closed-loop clients (bench/api_point.py)."""
    from api_point import run

    return asyncio.run(run(base, token, clients, seconds, extent))


async def _open311(base: str, token: str, extent: tuple[float, float, float, float], clients: int,
                   seconds: float) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
        services = (await http.get("/api/open311/v2/services.json")).json()
        codes = [s["service_code"] for s in services]
        x0, y0, x1, y1 = extent
        until = time.perf_counter() + seconds

        async def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < until:
                form = {"service_code": rng.choice(codes), "lat": f"{rng.uniform(y0, y1):.7f}",
                        "long": f"{rng.uniform(x0, x1):.7f}", "description": "路灯不亮，夜间行人看不清（压测）"}
                started = time.perf_counter()
                answer = await http.post("/api/open311/v2/requests.json", data=form)
                latencies.append(time.perf_counter() - started)
                if answer.status_code not in (200, 201):
                    errors.append(f"{answer.status_code} {answer.text[:120]}")

        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99)), "errors": len(errors), "error_kinds": sorted(set(errors))[:3]}


# --------------------------------------------------------------------------------------
# first draw
# --------------------------------------------------------------------------------------
def first_draws(base: str, visits: int) -> list[float]:
    """Seconds from ``page.goto(/map)`` to the tile map drawn, each visit in a new browser context."""
    from harness import CHROMIUM, CHROMIUM_ARGS, FOLIUM_IFRAME, log_in, offline_tab
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(visits):
            with offline_tab(chromium) as tab:
                page = tab.page
                log_in(page, base, ACCOUNT, PASSWORD)
                started = time.perf_counter()
                page.goto(f"{base}/map")
                page.wait_for_selector(FOLIUM_IFRAME, timeout=120_000)
                frame = page.locator(FOLIUM_IFRAME).first.element_handle(timeout=120_000).content_frame()
                frame.wait_for_function(_TILES_IDLE, timeout=120_000, polling=50)
                out.append(time.perf_counter() - started)
                if tab.external:
                    raise SystemExit(f"requests left localhost: {tab.external}")
        chromium.close()
    return out


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------
def report(counts: dict, load_seconds: dict[str, float] | None, sweep: dict[str, list[float]], draws: list[float],
           memory: dict[str, tuple[float, float]], load: tuple[float, float, float], command: str,
           api: dict[str, dict]) -> str:
    grids = counts["grids"]
    lines = [
        f"City: {grids.get(3, 0):,} micro-grids ({grids.get(2, 0):,} level-2, {grids.get(1, 0):,} level-1), "
        f"{counts['households']:,} households, {counts['incidents']:,} incidents; {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load {load[0]:.2f} before the measurement; {dt.date.today()}; `{command}`",
        "",
        "| measurement | p50 | p95 | max | n | target |",
        "|---|---|---|---|---|---|",
    ]
    for kind, target in (("cold", "p95 < 500 ms"), ("warm", "p95 < 100 ms")):
        p50, p95, top = _percentiles(sweep[kind])
        lines.append(f"| tile latency, {kind} cache (ms) | {p50:.0f} | {p95:.0f} | {top:.0f} | {len(sweep[kind]):,} "
                     f"| {target} |")
    if draws:
        lines.append(f"| electronic map first draw from navigation (s) | {statistics.median(draws):.2f} | "
                     f"{np.percentile(draws, 95):.2f} | {max(draws):.2f} | {len(draws)} | < 2 s |")
    sizes = sweep.get("bytes") or [0]
    lines.append(f"| tile size (KB) | {np.percentile(sizes, 50) / 1024:.1f} | {np.percentile(sizes, 95) / 1024:.1f} "
                 f"| {max(sizes) / 1024:.1f} | {len(sizes):,} | |")
    if api:
        lines += ["", "| API under load (127.0.0.1, load generator on the same 2 CPUs) | clients | seconds | requests "
                  "| requests/s | p50 ms | p99 ms | errors | target |", "|---|---|---|---|---|---|---|---|---|"]
        for what, r in api.items():
            lines.append(f"| {what} | {r['clients']} | {r['seconds']:g} | {r['requests']:,} | {r['rps']:.0f} "
                         f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} | {r['target']} |")
    lines += ["", "| server memory | resident MB | peak resident MB |", "|---|---|---|"]
    for moment, (rss, hwm) in memory.items():
        lines.append(f"| {moment} | {rss:.0f} | {hwm:.0f} |")
    if load_seconds:
        lines += ["", "Loading the city (once; through `gridgov import`): "
                  + ", ".join(f"{k} {v:.0f} s" for k, v in load_seconds.items()) + "."]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    body = (f"{SECTION}\n\nMeasured by `bench/tiles.py` (see its docstring for what each figure is):\n\n"
            f"{text}\n\n")
    if SECTION in doc:
        start = doc.index(SECTION)
        end = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + body + (doc[end + 1:] if end != -1 else "")
    else:
        marker = "## Not measured yet (round 2)"
        doc = doc.replace(marker, body + marker, 1) if marker in doc else doc + "\n" + body
    DOC.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grids", type=int, default=100_000, help="micro-grids (about; a lattice)")
    parser.add_argument("--households", type=int, default=10_000_000)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--viewports", type=int, default=60, help="viewports to fetch (zooms 12-17 in turn)")
    parser.add_argument("--visits", type=int, default=7, help="first draws in Chromium (0: none)")
    parser.add_argument("--tile-threshold", type=int, default=None,
                        help="GRIDGOV_TILE_THRESHOLD for the server (default: the setting, 2,000 grids; a city "
                             "smaller than that needs 0 for the map to draw from tiles)")
    parser.add_argument("--point-seconds", type=float, default=60.0,
                        help="point lookups over HTTP for this long, 50 clients (0: none)")
    parser.add_argument("--open311-seconds", type=float, default=20.0,
                        help="Open311 POST /requests.json for this long, 8 clients (0: none; files incidents)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--fresh", action="store_true", help="rebuild the city's database")
    parser.add_argument("--build-only", action="store_true", help="load the city (if needed) and stop")
    parser.add_argument("--write", action="store_true", help="record the result in docs/performance.md")
    parser.add_argument("--force", action="store_true", help="write even if the machine was busy")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    from store.engine import local_cluster

    cluster = local_cluster()
    cluster.start()
    name = f"gridgov_city_{args.grids}_{args.households}"
    load_seconds = None
    if args.fresh and _exists(cluster, name):
        cluster.drop_database(name)
    load_seconds = build_city(cluster, name, args, log)
    if args.build_only:
        log(f"database {name} is loaded" + (f" ({load_seconds})" if load_seconds else " (already)"))
        return 0
    env = _env(cluster, name)
    if args.tile_threshold is not None:
        env["GRIDGOV_TILE_THRESHOLD"] = str(args.tile_threshold)
    counts = _counts(env)
    log(f"database {name}: {counts['grids']} grids per level, {counts['households']:,} households, "
        f"{counts['incidents']:,} incidents")
    token = json.loads(_gridgov(env, "token", "create", "--user", ACCOUNT, "--rate", "100000000", "--expires", "1",
                                "--label", "bench/tiles.py", "--json", quiet=True))["token"]
    load = os.getloadavg()
    busy = load[0] > 1.0
    log_path = Path(tempfile.gettempdir()) / f"bench-tiles-{secrets.token_hex(4)}.log"
    memory: dict[str, tuple[float, float]] = {}
    with Server(env, log_path) as server:
        memory["after start (warm-up done)"] = server.memory_mb()
        draws = first_draws(server.base, args.visits) if args.visits else []
        memory[f"after {len(draws)} first draws"] = server.memory_mb()
        ports = viewports(counts["extent"], args.viewports, args.seed)
        sweep = asyncio.run(_sweep(server.base, token, ports))
        memory[f"after {args.viewports} viewports of tiles"] = server.memory_mb()
        api: dict[str, dict] = {}
        if args.point_seconds:
            r = point_load(server.base, token, counts["extent"], 50, args.point_seconds)
            api["point lookup GET /api/point/4490/{lon},{lat}"] = {
                **r, "clients": 50, "seconds": args.point_seconds, "target": "≥ 1,000 /s, p99 < 20 ms"}
            memory["after the point lookups"] = server.memory_mb()
        if args.open311_seconds:
            r = asyncio.run(_open311(server.base, token, counts["extent"], 8, args.open311_seconds))
            api["Open311 POST /api/open311/v2/requests.json"] = {
                **r, "clients": 8, "seconds": args.open311_seconds, "target": "(none given)"}
            memory["after the Open311 POSTs"] = server.memory_mb()
        for what, r in api.items():
            if r["errors"]:
                log(f"{what}: {r['errors']} errors, e.g. {r['error_kinds']}")
    command = "python bench/tiles.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    text = report(counts, load_seconds, sweep, draws, memory, load, command, api)
    print(text)
    if args.write:
        if busy and not args.force:
            log(f"not written: the load average was {load[0]:.2f} before the measurement (--force to write anyway)")
            return 1
        write_doc(text)
        log(f"written to {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
