#!/usr/bin/env python
"""Electronic-map load time in headless Debian Chromium, against the running project's database.

Starts ``streamlit run app.py`` on a free port (the database of ``DATABASE_URL`` or the local
cluster, with the demo loaded: ``make db``), then opens the map page four times, each in a
new browser context (empty cache; the first visit also warms the server), and prints for
each: the load event, the Streamlit shell, the map iframe, and all 133 micro-grids drawn
(seconds from navigation). Every request outside localhost is aborted (none happen).

Usage::

    .venv/bin/python bench/map_load.py
"""
import sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from harness import running_app, offline_tab, CHROMIUM, CHROMIUM_ARGS, FOLIUM_IFRAME
from playwright.sync_api import sync_playwright
from gis.db.engine import database_url
url = database_url()
with running_app(url, log_name="maptime.log") as base, sync_playwright() as p:
    chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    for attempt in range(4):
        with offline_tab(chromium) as st:
            page = st.page
            t0 = time.perf_counter()
            page.goto(base + "/")
            t_dom = time.perf_counter()
            page.wait_for_selector("[data-testid=stApp]", timeout=60000)
            t_app = time.perf_counter()
            page.wait_for_selector(FOLIUM_IFRAME, timeout=60000)
            t_iframe = time.perf_counter()
            frame = page.locator(FOLIUM_IFRAME).first.element_handle().content_frame()
            frame.wait_for_function("() => document.querySelectorAll('path.gg-level-3').length >= 133", timeout=60000)
            t_drawn = time.perf_counter()
            print(f"run {attempt}: load event {t_dom-t0:.2f}s, stApp {t_app-t0:.2f}s, map iframe {t_iframe-t0:.2f}s, all drawn {t_drawn-t0:.2f}s (after load event: {t_drawn-t_dom:.2f}s)")
    chromium.close()
