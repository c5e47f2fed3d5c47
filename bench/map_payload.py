#!/usr/bin/env python
"""Map payload benchmark: bytes sent and browser render time, before/after coverage simplification.

Builds a synthetic coverage of N micro-grids (Voronoi cells of random points in a
~10 km square near Yueyang, edges densified to --spacing metres (default 5 m) as surveyed
boundaries are; EPSG:4490), renders the electronic map (``app_pages.maps.grid_map``) once with the
full geometries and once with ``shapely.coverage_simplify`` at the given tolerance (m),
and reports for each:

* build: seconds to build and render the folium HTML in Python;
* payload: bytes of the HTML the browser receives (what st_folium sends);
* render: seconds from navigation until Leaflet has drawn all N micro-grid paths, in
  headless Debian Chromium (served by a local http.server; no external request).

Usage::

    .venv/bin/python bench/map_payload.py --cells 10000 --tolerance 5
    .venv/bin/python bench/map_payload.py --cells 164 --no-browser
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from app_pages import maps  # noqa: E402
from app_pages.i18n import translate  # noqa: E402
from gis.crs import transformer  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def synthetic_grids(n: int, *, seed: int = 42, size_m: float = 10_000.0, spacing_m: float = 1.0) -> gpd.GeoDataFrame:
    """``n`` micro-grid cells (codes under 10 level-1 grids) as a valid coverage in EPSG:4490."""
    rng = np.random.default_rng(seed)
    x0, y0 = 521_000.0, 3_257_000.0  # EPSG:4547 near 113.2°E 29.44°N
    frame = shapely.box(x0, y0, x0 + size_m, y0 + size_m)
    pts = shapely.multipoints(np.column_stack([rng.uniform(x0, x0 + size_m, n), rng.uniform(y0, y0 + size_m, n)]))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame)), frame)
    edges = shapely.segmentize(shapely.union_all(shapely.boundary(cells)), spacing_m)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    faces = shapely.transform(faces, lambda c: np.column_stack(transformer(4547, 4490).transform(c[:, 0], c[:, 1])))
    order = np.argsort(shapely.get_x(shapely.centroid(faces)))
    faces = faces[order]
    parents = [f"430603003{(i * 10 // len(faces)) + 1:03d}" for i in range(len(faces))]
    codes = [f"{p}{i + 1:04d}" for i, p in enumerate(parents)]
    return gpd.GeoDataFrame(
        {"code": codes, "name": [f"cell {i}" for i in range(len(faces))], "level": 2, "parent_code": parents},
        geometry=faces, crs=4490,
    )


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve(root: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def browser_render_seconds(pages: dict[str, str], expected_paths: int) -> dict[str, float]:
    """Seconds until ``expected_paths`` micro-grid paths exist, per page (local server, offline)."""
    from playwright.sync_api import sync_playwright

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app" / "static").mkdir(parents=True)
        (root / "app" / "static" / "vendor").symlink_to(PROJECT_ROOT / "static" / "vendor")
        for name, html in pages.items():
            (root / f"{name}.html").write_text(html, encoding="utf-8")
        with _serve(root) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name in pages:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                external: list[str] = []
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                           else (external.append(route.request.url), route.abort()))
                start = time.perf_counter()
                page.goto(f"{base}/{name}.html")
                page.wait_for_function(
                    f"document.querySelectorAll('path.gg-level-2').length >= {expected_paths}", timeout=120_000
                )
                results[name] = time.perf_counter() - start
                if external:
                    raise RuntimeError(f"the page requested external hosts: {external[:3]}")
                page.close()
            browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--tolerance", type=float, default=5.0, help="coverage_simplify tolerance in metres")
    parser.add_argument("--spacing", type=float, default=5.0, help="boundary vertex spacing of the input, metres")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium render timing")
    args = parser.parse_args(argv)

    def tr(key: str, /, **kw: object) -> str:
        return translate(key, "zh", **kw)

    t0 = time.perf_counter()
    grids = synthetic_grids(args.cells, spacing_m=args.spacing)
    print(f"synthetic coverage: {len(grids)} cells, {int(shapely.get_num_coordinates(grids.geometry.array).sum()):,} "
          f"vertices, valid coverage={bool(shapely.coverage_is_valid(np.asarray(grids.geometry.array)))} "
          f"({time.perf_counter() - t0:.1f} s)")
    pages: dict[str, str] = {}
    for name, tolerance in (("full", 0.0), ("simplified", args.tolerance)):
        t0 = time.perf_counter()
        fmap = maps.grid_map(grids, tr=tr, finest_level=2, labels=False, simplify_tolerance_m=tolerance)
        html = fmap.get_root().render()
        build = time.perf_counter() - t0
        pages[name] = html
        print(f"{name:>10}: tolerance {tolerance:g} m, build {build:.2f} s, payload {len(html.encode()):,} bytes")
    if not args.no_browser:
        for name, seconds in browser_render_seconds(pages, len(grids)).items():
            print(f"{name:>10}: browser render {seconds:.2f} s (all {len(grids)} paths drawn)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
