#!/usr/bin/env python
"""Electronic-map load time in headless Debian Chromium, against the running project's database.

Starts ``streamlit run app.py`` on a free port (the database of ``DATABASE_URL`` or the local
cluster, with the demo loaded: ``make db``) and opens the map page:

* once right after the server started (the server imports, queries and renders the map);
* ``--visits`` times as a first visit: a new browser context each, so nothing is cached;
* after each of those, once more in the same context (a returning browser, assets cached).

For each it prints seconds from navigation to the load event and to all 133 micro-grids drawn
(SVG paths in the map), then the medians: first visits and returning visits from navigation,
and all of them from the page's load event. Every request
outside localhost is aborted (none happen). Timings are wall-clock on this machine: run it
with nothing else busy.

Usage::

    .venv/bin/python bench/map_load.py [--visits 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import CHROMIUM, CHROMIUM_ARGS, FOLIUM_IFRAME, offline_tab, running_app  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from store.engine import database_url  # noqa: E402

MICRO_GRIDS = "() => document.querySelectorAll('path.gg-level-3').length >= 133"


def _drawn(page: Page, navigate) -> tuple[float, float]:
    """(load event, all micro-grids drawn) in seconds from navigation."""
    start = time.perf_counter()
    navigate()
    loaded = time.perf_counter() - start
    page.wait_for_selector(FOLIUM_IFRAME, timeout=60_000)
    frame = page.locator(FOLIUM_IFRAME).first.element_handle().content_frame()
    frame.wait_for_function(MICRO_GRIDS, timeout=60_000)
    return loaded, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=7, help="first visits (new browser contexts) to time")
    args = parser.parse_args()
    first: list[float] = []
    returning: list[float] = []
    after_load: list[float] = []
    with running_app(database_url(), log_name="maptime.log") as base, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with offline_tab(chromium) as tab:
            loaded, drawn = _drawn(tab.page, lambda: tab.page.goto(base + "/"))
            print(f"server just started: load event {loaded:.2f} s, all drawn {drawn:.2f} s")
        for visit in range(args.visits):
            with offline_tab(chromium) as tab:
                loaded, drawn = _drawn(tab.page, lambda: tab.page.goto(base + "/"))
                again_loaded, again = _drawn(tab.page, tab.page.reload)
                assert not tab.external, tab.external
            first.append(drawn)
            returning.append(again)
            after_load += [drawn - loaded, again - again_loaded]
            print(
                f"visit {visit + 1}: first visit load event {loaded:.2f} s, all drawn {drawn:.2f} s; "
                f"returning load event {again_loaded:.2f} s, all drawn {again:.2f} s"
            )
        chromium.close()
    print(
        f"median of {args.visits}: first visit {statistics.median(first):.2f} s (max {max(first):.2f}), "
        f"returning browser {statistics.median(returning):.2f} s (max {max(returning):.2f}); "
        f"from the load event {statistics.median(after_load):.2f} s (max {max(after_load):.2f})"
    )


if __name__ == "__main__":
    main()
