"""Counts of special households reach a role without personal-data access only aggregated per grid, with
counts of 1–4 suppressed (issue 12, point 6): the planner's impact preview in the boundary editor and the
leader's per-grid layer on 街道总览; the grid's own grid head keeps exact figures on the same layer.

The grids used are picked from the database so that their exact count is between 1 and 4: a page that
showed it exactly would fail here.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import shapely
from apptest_support import map_components, run_page, session_for

pytestmark = pytest.mark.db

TIMEOUT = 120
SUPPRESSED = "少于5"
SMALL = {"1", "2", "3", "4"}


def _editor_page() -> None:
    from app_pages import editor

    editor.render()


def _overview_page() -> None:
    from app_pages import overview

    overview.render()


def _line_across(geom) -> shapely.LineString:  # noqa: ANN001
    minx, miny, maxx, maxy = geom.bounds
    c = geom.centroid
    if (maxx - minx) >= (maxy - miny):
        return shapely.LineString([(c.x, miny - 0.001), (c.x, maxy + 0.001)])
    return shapely.LineString([(minx - 0.001, c.y), (maxx + 0.001, c.y)])


def _special_cells(frame: pd.DataFrame) -> list[str]:
    """Every value of a special-household column of a page's table (as text), and the min and max of a
    balance table's special-household row."""
    def name(column) -> str:  # noqa: ANN001 - a column label, maybe a (before|after, metric) tuple
        return str(column[-1] if isinstance(column, tuple) else column)

    columns = [c for c in frame.columns if name(c) == "特殊户数" or name(c).startswith("special_households")]
    values = [str(v) for c in columns for v in frame[c].tolist()]
    for row in [i for i in frame.index if str(i) == "特殊人群户"]:
        values += [str(v) for c, v in frame.loc[row].items() if "最小" in str(c) or "最大" in str(c)]
    return values


def _exact_small(cells: list[str]) -> list[str]:
    """The cells that show an exact count of 1–4."""
    return [v for v in cells if v != SUPPRESSED and v not in ("-", "nan", "None", "<NA>") and 0 < float(v) < 5]


def test_the_planners_impact_preview_never_shows_a_small_count(app_db: str, sql) -> None:
    code, wkb, special = sql(
        "SELECT g.code, ST_AsBinary(g.geom), count(h.id) FILTER (WHERE cardinality(h.special_kinds) > 0) "
        "FROM grids g JOIN households h ON h.grid_code = g.code WHERE g.level = 3 GROUP BY g.code, g.geom "
        "HAVING count(h.id) FILTER (WHERE cardinality(h.special_kinds) > 0) BETWEEN 1 AND 4 "
        "ORDER BY count(h.id) DESC, g.code LIMIT 1")[0]
    at = run_page(_editor_page, timeout=TIMEOUT, token=session_for("planner"))
    at.selectbox(key="editor.operation").set_value("split").run()
    at.text_area(key="editor.wkt").input(_line_across(shapely.from_wkb(bytes(wkb))).wkt).run()
    at.button(key="editor.preview_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    preview = at.session_state["editor.preview"]
    assert preview is not None, [e.value for e in at.error]
    # the exact figure exists (a split moves every household of the grid) and is small …
    assert preview.impact.counts["special_households_moved"] == special
    # … and the planner sees it suppressed, in the metric and in every table
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["涉及特殊人群户"] == SUPPRESSED
    cells = [v for frame in at.dataframe for v in _special_cells(frame.value)]
    assert cells and not _exact_small(cells), cells
    assert SUPPRESSED in cells
    assert code not in {str(v) for v in preview.plan["code"]}  # the split grid is replaced


def _labels(at) -> list[str]:  # noqa: ANN001
    (args,) = [a for a in map_components(at) if "gg-special-households" in a["script"]]
    return [json.loads(raw) for raw in re.findall(r'"special_label": ("(?:[^"\\]|\\.)*")', args["script"])]


def _small_grids(sql, account: str) -> tuple[list[str], list[str]]:  # noqa: ANN001
    """Micro-grids in ``account``'s grants, and those of them with 1–4 special households."""
    prefixes = [r[0] for r in sql("SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id "
                                  "WHERE a.name = :n", n=account)] or [""]
    rows = sql("SELECT g.code, count(h.id) FILTER (WHERE cardinality(h.special_kinds) > 0) FROM grids g "
               "LEFT JOIN households h ON left(h.grid_code, length(g.code)) = g.code WHERE g.level = 3 "
               "AND g.code LIKE ANY(:p) GROUP BY g.code", p=[p + "%" for p in prefixes])
    return [r[0] for r in rows], [r[0] for r in rows if 1 <= r[1] <= 4]


def test_the_leaders_layer_is_per_grid_and_suppressed(app_db: str, sql) -> None:
    grids, small = _small_grids(sql, "leader")
    assert small, "the demo street has micro-grids with 1–4 special households (or this test proves nothing)"
    at = run_page(_overview_page, timeout=TIMEOUT, token=session_for("leader"))
    at.radio(key="ov.level").set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    labels = _labels(at)
    assert len(labels) == len(grids)  # one value per grid: an aggregate, never a point per household
    assert not SMALL & set(labels), labels
    assert labels.count(SUPPRESSED) == len(small)
    assert all(v == SUPPRESSED or int(v) == 0 or int(v) >= 5 for v in labels)
    assert any(f"其中 {len(small)} 个网格的特殊户少于5户" in c.value for c in at.caption)


def test_the_grid_head_sees_her_own_grids_exactly(app_db: str, sql) -> None:
    grids, small = _small_grids(sql, "head-001")
    at = run_page(_overview_page, timeout=TIMEOUT, token=session_for("head-001"))
    at.radio(key="ov.level").set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    labels = _labels(at)
    assert len(labels) == len(grids) and SUPPRESSED not in labels
    assert sum(lab in SMALL for lab in labels) == len(small)  # her small counts, exact


def _visits_page() -> None:
    from app_pages import visits

    visits.render()


@pytest.mark.parametrize(("account", "families"), [("leader", False), ("planner", False), ("head-001", True)])
def test_which_families_are_special_is_listed_only_for_the_grids_own_people(app_db: str, sql, account: str,
                                                                            families: bool) -> None:
    """The visits page of a worker: the grid's head sees which households are special (the families she
    visits); a leader or planner sees the counts only — no list of families, no special-kind column."""
    from i18n.catalogue import translate

    at = run_page(_visits_page, timeout=TIMEOUT, token=session_for(account))
    kind_column = translate("field.special", "zh")
    tables = [frame.value for frame in at.dataframe]
    lists_kinds = any(kind_column in frame.columns for frame in tables)
    hidden = translate("visit.special_hidden", "zh")
    captions = [c.value for c in at.caption]
    if families:
        assert hidden not in captions
    else:
        assert not lists_kinds, f"{account} sees which households are special"
        assert hidden in captions
