"""Shared machinery of the browser tests: start the real app, drive Debian's Chromium offline.

Imported by the e2e test modules (pytest puts this folder on ``sys.path``) and by
``conftest.py``, which turns it into fixtures.
"""

from __future__ import annotations

from testdb import database_env

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
FOLIUM_IFRAME = "iframe[title='streamlit_folium.st_folium']"
#: A phone (390×844, touch) as ``offline_tab`` options; the desk is offline_tab's default.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def artifacts() -> Path:
    """``var/artifacts`` (settings.artifacts_dir), created if needed."""
    from gis.settings import Settings

    path = Settings.from_env().artifacts_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def running_app(database_url: str, *, log_name: str, env: dict[str, str] | None = None,
                port: int | None = None) -> Iterator[str]:
    """``streamlit run serve.py`` (as ``gridgov app`` does) on a free port against ``database_url``.

    ``env``: more settings (``GRIDGOV_SESSION_IDLE_HOURS``, ``GRIDGOV_OIDC_*`` …); ``port``: a
    given port (a restart on the same address). Yields the base URL once the server answers its
    health check (after the warm-up).
    """
    port = port or free_port()
    env = {**os.environ, **database_env(database_url), "GRIDGOV_BASEMAP": "none", "GRIDGOV_LANG": "zh",
           **(env or {})}
    log = (artifacts() / log_name).open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@dataclass
class Browser:
    """A page whose requests outside localhost are aborted and recorded, with dialogs and JS errors."""

    page: object
    external: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@contextlib.contextmanager
def offline_tab(chromium, **context_options: object) -> Iterator[Browser]:
    """A new context + page in ``chromium`` with the network to the outside blocked.

    ``context_options`` go to ``new_context`` (e.g. :data:`PHONE`, ``geolocation``, ``permissions``).
    """
    options = {"viewport": {"width": 1440, "height": 1000}, "locale": "zh-CN", **context_options}
    context = chromium.new_context(**options)
    state = Browser(page=None)

    def route(r) -> None:
        url = r.request.url
        host = url.split("/")[2] if "://" in url else ""
        if url.startswith(("data:", "blob:", "about:")) or host.split(":")[0] in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            state.external.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("dialog", lambda d: (state.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: state.console_errors.append(str(e)))
    state.page = page
    try:
        yield state
    finally:
        context.close()


def settle(page) -> None:
    """Wait until the script run is over and no element of the previous run is left (stale)."""
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=stApp]');"
        " return a && a.getAttribute('data-test-script-state') === 'notRunning'"
        " && document.querySelectorAll('[data-stale=true]').length === 0; }",
        timeout=60_000,
    )
    page.wait_for_timeout(300)


def map_frame(page, index: int = 0, *, timeout_s: float = 60.0):
    """The ``index``-th folium map iframe, once its Leaflet map has loaded.

    A rerun can replace an iframe (the page's elements are re-created while the first map is
    still loading, most often on a busy machine), leaving a handle on a frame that never loads;
    so the iframe is looked up again, after the run has settled, until its map has loaded.
    """
    deadline = time.monotonic() + timeout_s
    page.wait_for_selector(FOLIUM_IFRAME, timeout=60_000)
    while True:
        settle(page)
        frame = page.locator(FOLIUM_IFRAME).nth(index).element_handle(timeout=60_000).content_frame()
        try:
            frame.wait_for_function("() => window.map !== undefined && window.map._loaded", timeout=5_000)
            return frame
        except Exception:  # playwright's TimeoutError, or "frame was detached"
            if time.monotonic() > deadline:
                raise


def visible_map_frames(page, *, timeout_s: float = 90.0) -> list:
    """Every folium map iframe now shown (a map in a tab not shown has no size: left out), loaded.

    As :func:`map_frame`: a rerun can replace an iframe between looking it up and reading it (its
    frame is then gone, or never loads), so the whole lookup is repeated after the run settles.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        settle(page)
        try:
            frames = page.locator(FOLIUM_IFRAME)
            loaded = []
            for i in range(frames.count()):
                if not frames.nth(i).is_visible():
                    continue
                frame = frames.nth(i).element_handle(timeout=10_000).content_frame()
                if frame is None:
                    raise RuntimeError("the map iframe was replaced while it was read")
                frame.wait_for_function("() => window.map !== undefined && window.map._loaded", timeout=10_000)
                loaded.append(frame)
            return loaded
        except Exception:  # playwright's TimeoutError, "frame was detached", or the replaced iframe
            if time.monotonic() > deadline:
                raise


def screen_xy(page, frame, iframe_index: int, lat: float, lon: float) -> tuple[float, float]:
    """Page coordinates (px) of (lat, lon) on the map in the ``iframe_index``-th map iframe."""
    box = page.locator(FOLIUM_IFRAME).nth(iframe_index).bounding_box()
    pt = frame.evaluate(
        "([lat, lon]) => { const p = map.latLngToContainerPoint([lat, lon]); const r = map.getContainer().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [lat, lon],
    )
    return box["x"] + pt[0], box["y"] + pt[1]


def log_in(page, base: str, name: str = "admin", password: str | None = None, *, lang: str = "zh") -> None:
    """Log in through the login page as a person would: type the name and password, press 登录."""
    from demo.generate import DEMO_PASSWORD

    page.goto(f"{base}/login?lang={lang}")
    page.fill("#name", name)
    page.fill("#password", password or DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/", timeout=30_000)
    settle(page)


# -- a phone (390×844): what does not fit ---------------------------------------------------------
_PHONE_PROBLEMS_JS = """
(minHeight) => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    problems.push(`scrolls sideways: scrollWidth ${doc.scrollWidth} > innerWidth ${window.innerWidth}`);
  }
  const controls = document.querySelectorAll(
    'input:not([type=hidden]):not([type=radio]):not([type=checkbox]), button, select, textarea, [role=button]');
  for (const el of controls) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if ((r.width === 0 && r.height === 0) || style.visibility === 'hidden' || style.display === 'none') continue;
    if (r.height < minHeight) {
      const text = (el.innerText || el.getAttribute('aria-label') || el.name || el.id || '').trim().slice(0, 30);
      problems.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${text}" is ${r.height.toFixed(0)} px high`);
    }
    if (r.right > window.innerWidth + 0.5) {
      problems.push(`${el.tagName.toLowerCase()} "${(el.innerText || '').trim().slice(0, 30)}" ends at ${r.right.toFixed(0)} px`);
    }
  }
  return problems;
}
"""


def phone_problems(page, *, min_height: int = 44) -> list[str]:
    """What a phone user would hit on ``page`` as shown: sideways scrolling (``scrollWidth > innerWidth``),
    visible inputs and buttons lower than ``min_height`` px (tap targets) or running past the right edge."""
    return list(page.evaluate(_PHONE_PROBLEMS_JS, min_height))
