"""End-to-end: one server's caches never carry one person's rows to the next (issue 12, point 5).

At one desk, in one browser: the community leader ``leader-001`` logs in, opens every page of the
navigation (the map with its household and incident layers, their community's grid card, the
incident map, the work pages, the monthly report with its downloads), logs out; then
``worker-131`` of another community logs in in the same browser and does the same. Everything each
received is collected — the page, every map's features (what tooltips and popups show) and every
downloaded file — and the second collection must hold none of the first person's rows (addresses,
incident texts, grid codes of their community that the worker may not see). The first collection
must hold many of them, so the check cannot pass by collecting nothing. Both runs go through the
same server process, so its ``st.cache_data`` is shared as it is in production.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from harness import artifacts, log_in, offline_tab, running_app, settle, visible_map_frames
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.e2e, pytest.mark.db]

FIRST, SECOND = "leader-001", "worker-131"
MAP_FEATURES = """() => { const out = [];
  map.eachLayer(l => {
    if (l.feature) out.push(JSON.stringify(l.feature.properties));
    for (const g of [l.getTooltip && l.getTooltip(), l.getPopup && l.getPopup()]) {
      if (g && typeof g.getContent() === 'string') out.push(g.getContent());
    }
  });
  return out.join('\\n'); }"""


@pytest.fixture(scope="module")
def scope_db(throwaway_databases, database_url) -> Iterator[str]:
    yield throwaway_databases.copy(database_url)


@pytest.fixture(scope="module")
def sql(scope_db: str):
    engine = create_engine(scope_db)

    def run(query: str, **params):
        with engine.connect() as conn:
            return conn.execute(text(query), params).all()

    yield run
    engine.dispose()


def _grants(sql, account: str) -> list[str]:
    return [r[0] for r in sql("SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id "
                              "WHERE a.name = :n", n=account)]


def private_strings(sql, first: list[str], second: list[str]) -> dict[str, set[str]]:
    """Rows of the first person's grids outside the second's, leaving out any string that occurs in
    something the second may see (their own rows, the street-wide roster, the UI's words)."""
    from i18n.catalogue import CATALOGUE

    mine, theirs = [p + "%" for p in first], [p + "%" for p in second]
    where = "grid_code LIKE ANY(:mine) AND NOT grid_code LIKE ANY(:theirs)"
    kinds = {
        "address": f"SELECT address FROM households WHERE {where}",
        "resident": f"SELECT name FROM residents WHERE {where} AND char_length(name) >= 3",
        "incident": f"SELECT description FROM incidents WHERE {where} AND char_length(description) >= 6",
        "grid": "SELECT code FROM grids WHERE level >= 2 AND code LIKE ANY(:mine) AND NOT code LIKE ANY(:theirs) "
                "AND NOT EXISTS (SELECT 1 FROM unnest(CAST(:raw AS text[])) q WHERE q LIKE code || '%')",
    }
    visible = [r[0] or "" for q in (
        "SELECT address FROM households WHERE grid_code LIKE ANY(:theirs)",
        "SELECT name FROM residents WHERE grid_code LIKE ANY(:theirs)",
        "SELECT description || ' ' || address FROM incidents WHERE grid_code LIKE ANY(:theirs)",
        "SELECT name || ' ' || coalesce(phone, '') FROM staff",
        "SELECT code || ' ' || name FROM grids WHERE code LIKE ANY(:theirs) "
        "OR EXISTS (SELECT 1 FROM unnest(CAST(:theirs AS text[])) q WHERE q LIKE code || '%')",
    ) for r in sql(q, theirs=theirs)]
    allowed = "\n".join(visible) + "\n".join(v["zh"] + v["en"] for v in CATALOGUE.values())
    return {kind: {r[0] for r in sql(query, mine=mine, theirs=theirs, raw=list(second))
                   if r[0] and r[0] not in allowed}
            for kind, query in kinds.items()}


def _file_text(data: bytes) -> str:
    if data[:2] == b"PK":  # xlsx: its strings
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def _download(page, button, *, attempts: int = 3) -> bytes:
    """The file a download button gives, as a person clicking it gets it: after the run has settled;
    clicked again if no file came (a rerun that started just then replaces the button and its file)."""
    for attempt in range(attempts):
        settle(page)
        try:
            with page.expect_download(timeout=60_000) as download:
                button.click()
            with open(download.value.path(), "rb") as handle:
                return handle.read()
        except Exception:  # playwright's TimeoutError
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def render_everything(page, base: str, own_code: str) -> tuple[str, list[str]]:
    """Open every page of the navigation as the person would; everything received, and the pages."""
    got: list[str] = []
    links = page.locator("[data-testid=stSidebarNav] a")
    paths = sorted({links.nth(i).get_attribute("href").rsplit("/", 1)[-1] for i in range(links.count())})

    def maps() -> None:
        """The features of every map now on screen (a map in a tab not shown has no size yet)."""
        for frame in visible_map_frames(page):
            got.append(frame.evaluate(MAP_FEATURES))

    def collect() -> None:
        settle(page)
        got.append(page.content())
        maps()
        tabs = page.get_by_role("tab")
        for j in range(tabs.count()):  # each tab of the page, as a person would open it
            tabs.nth(j).click()
            page.wait_for_timeout(500)
            maps()

    for path in paths:
        page.goto(f"{base}/{path}")
        collect()
        if path == "map":  # "" is the role's home
            for layer in ("住户", "事件"):
                page.get_by_text(layer, exact=True).first.click()
                collect()
        elif path == "my_grid":
            page.get_by_role("textbox", name="网格编码").fill(own_code)
            page.get_by_role("button", name="查找").click()
            collect()
        elif path == "assessment" and page.get_by_role("button", name="生成报告").count():
            page.get_by_role("button", name="生成报告").click()
            collect()
        buttons = page.locator("[data-testid=stDownloadButton] button")
        for i in range(buttons.count()):
            got.append(_file_text(_download(page, buttons.nth(i))))
    return "\n".join(got), paths


def test_the_next_person_at_the_same_browser_gets_none_of_the_first_persons_rows(browser, scope_db, sql) -> None:
    first, second = _grants(sql, FIRST), _grants(sql, SECOND)
    strings = private_strings(sql, first, second)
    with running_app(scope_db, log_name="e2e-scope-streamlit.log") as base, offline_tab(browser) as tab:
        page = tab.page
        log_in(page, base, FIRST)
        a, a_pages = render_everything(page, base, first[0])
        seen = {kind: {s for s in values if s in a} for kind, values in strings.items()}
        for kind, minimum in {"address": 20, "incident": 3, "grid": 5}.items():
            assert len(seen[kind]) >= minimum, (kind, len(seen[kind]), len(strings[kind]), a_pages)
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_url(f"{base}/login**", timeout=30_000)
        log_in(page, base, SECOND)
        b, b_pages = render_everything(page, base, second[0])
        page.screenshot(path=str(artifacts() / "scope-second-person.png"))
        assert b_pages and second[0] in b
        leaked = {kind: sorted(s for s in values if s in b)[:5] for kind, values in seen.items()}
        assert not any(leaked.values()), f"{SECOND} received rows of {FIRST}: {leaked}"
        assert not tab.external and not tab.dialogs
