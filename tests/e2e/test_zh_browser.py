"""Every page in Chinese, as a person sees it in Chromium, for one demo account of every role (issue #13.6).

For each role one account logs in once (the login page, as a person would) in one shared headless
Chromium; every page that role's navigation offers (``app.pages_for``) is opened and, once its run
is over and its maps have loaded, the text a person can read is collected:

* the page's visible text (``innerText`` of the document: sidebar, titles, widgets, alerts,
  dialogs and toasts), with each of its tabs opened in turn;
* every map iframe (folium / streamlit-folium): its document's visible text (layer control,
  legends, buttons) and the content of every tooltip and popup bound on its layers (GeoJSON
  tooltips are functions of the feature: they are called for each feature, as hovering would).

The text is scanned line by line with :func:`zh_scan.problems_in` (the one home of the rule, shared
with the AppTest scan): an English sentence (three or more English words in a row), a raw key or
domain code, ``None``/``nan``, ``Traceback``, a command-line flag. A screenshot of every page goes to
var/artifacts/zh-<role>-<page>.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from harness import FOLIUM_IFRAME, artifacts, log_in, offline_tab, running_app, settle, visible_map_frames
from zh_scan import DEMO_ACCOUNTS, problems_in

pytestmark = [pytest.mark.e2e, pytest.mark.db]

#: The document's visible text: the sidebar, the page, and what Streamlit shows outside the app's
#: element (dialogs, toasts, popovers are portals on the body).
PAGE_TEXT = "() => document.body.innerText"

#: In a map iframe: its visible text, then the text of every tooltip and popup of its layers — a
#: group's function tooltip (GeoJSON) called for each feature, a cluster's markers' popups (DOM
#: elements) read too; at most ``limit`` features per group.
MAP_TEXT = """(limit) => {
  const out = [document.body ? document.body.innerText : ''];
  const text = (html) => {
    if (html === null || html === undefined) return '';
    if (typeof html !== 'string') return html.innerText || html.textContent || '';
    const box = document.createElement('textarea');
    box.innerHTML = html.replace(/<[^>]+>/g, '\\n');
    return box.value;
  };
  const read = (bound, layer) => {
    try {
      const c = bound._content;
      out.push(text(typeof c === 'function' ? c(layer) : c));
    } catch (e) { out.push('tooltip failed: ' + e); }
  };
  const seen = new Set();
  const visit = (l, inherited) => {
    if (seen.has(l)) return;
    seen.add(l);
    const own = [l.getTooltip && l.getTooltip(), l.getPopup && l.getPopup()].filter(Boolean);
    for (const b of inherited) read(b, l);
    if (l.getLayers) {
      const functions = own.filter(b => typeof b._content === 'function');
      for (const b of own) if (typeof b._content !== 'function') read(b, l);
      l.getLayers().slice(0, limit).forEach(c => visit(c, functions));
    } else {
      for (const b of own) read(b, l);
    }
  };
  const layers = [];
  if (window.map) window.map.eachLayer(l => layers.push(l));
  layers.filter(l => l.getLayers).forEach(l => visit(l, []));  // groups first: their features inherit
  layers.forEach(l => visit(l, []));
  return out.join('\\n');
}"""

#: Features read per layer group (a households layer has hundreds; their wording is the same for each).
PER_MAP = 150


@pytest.fixture(scope="module")
def zh_app(throwaway_databases, database_url) -> Iterator[str]:
    """The app on a private copy of the demo (logins write sessions and audit entries)."""
    url = throwaway_databases.copy(database_url)
    with running_app(url, log_name="e2e-zh-streamlit.log") as base:
        yield base


def _maps(page) -> list[str]:
    """The text of every map iframe on screen (a map in a tab not shown has no size: skipped)."""
    return [frame.evaluate(MAP_TEXT, PER_MAP) for frame in visible_map_frames(page)]


def _collect(page) -> list[str]:
    """Everything readable on the page now, then with each of its tabs opened."""
    settle(page)
    texts = [page.evaluate(PAGE_TEXT), *_maps(page)]
    tabs = page.locator("[data-testid=stMain] [role=tab]")
    for j in range(tabs.count()):
        tabs.nth(j).click()
        page.wait_for_timeout(300)
        texts += [page.evaluate(PAGE_TEXT), *_maps(page)]
    return texts


def _problems(texts: list[str]) -> list[str]:
    return sorted({f"{p} in {line.strip()[:120]!r}" for text in texts for line in text.splitlines()
                   for p in problems_in(line)})


@pytest.mark.parametrize("role", list(DEMO_ACCOUNTS))
def test_every_page_of_every_role_reads_chinese_in_chromium(browser, zh_app: str, role: str) -> None:
    from app import home_path, pages_for

    paths = [path for section in pages_for(role).values() for _, _, path in section]
    landing = home_path(role)  # the default page: served at /, not at its url path
    assert paths, role
    found: dict[str, list[str]] = {}
    with offline_tab(browser) as state:
        page = state.page
        log_in(page, zh_app, DEMO_ACCOUNTS[role])
        for path in paths:
            page.goto(f"{zh_app}/{'' if path == landing else path}")
            page.wait_for_selector("[data-testid=stMain] h1", timeout=60_000)
            texts = _collect(page)
            page.screenshot(path=str(artifacts() / f"zh-{role}-{path}.png"))
            assert any(len(t.strip()) > 20 for t in texts), f"{path} as {role} shows nothing"
            bad = _problems(texts)
            if bad:
                found[path] = bad
    assert found == {}, f"{role} ({DEMO_ACCOUNTS[role]}):\n" + "\n".join(
        f"  /{path}: {p}" for path, bad in found.items() for p in bad)


def test_the_browser_scan_sees_map_tooltips_and_planted_english(browser, zh_app: str) -> None:
    """The scan can fail: a tooltip's words reach it, and English planted on a page is found."""
    with offline_tab(browser) as state:
        page = state.page
        log_in(page, zh_app, "planner")
        page.goto(f"{zh_app}/map")
        page.wait_for_selector(FOLIUM_IFRAME, timeout=60_000)
        settle(page)
        maps = _maps(page)
        frame = page.locator(FOLIUM_IFRAME).first.element_handle().content_frame()
        body = frame.evaluate("() => document.body.innerText")
        bound = maps[0].removeprefix(body)
        assert re.search(r"\d{9,}", bound), "the grid tooltips' codes were read"
        page.evaluate("() => { const p = document.createElement('p'); p.innerText = 'status: reported by None';"
                      " document.querySelector('[data-testid=stMain] h1').after(p); }")
        frame.evaluate("() => window.map.eachLayer(l => { if (l.feature && !window.__planted) {"
                       " l.bindTooltip('Click here to open the grid'); window.__planted = true; } })")
        bad = _problems([page.evaluate(PAGE_TEXT), *_maps(page)])
        assert any("None" in p for p in bad) and any("raw code: 'reported'" in p for p in bad), bad
        assert any("Click here to open" in p for p in bad), bad
