"""Governance workflows against the real PostGIS: the closed loop with optimistic locking,
concurrent transitions, visits and assessment read back from the tables, the monthly report
versus plain SQL counts, and the roster round trip.

The module loads the hand-made fixture of tests/unit/_governance_data.py (committed) into a
throwaway database of its own; tests that write use grid D and staff 5/6, which the
hand-computed figures never look at.
"""

from __future__ import annotations

from testdb import use_database

import datetime as dt
import importlib.util
import json
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from store.lookup import GridNotFoundAtPoint
from gis.errors import CoordinateRangeError, NotFoundError, StaleVersionError, ValidationError
from governance.workflow import TransitionError

pytestmark = pytest.mark.db

_spec = importlib.util.spec_from_file_location(
    "_governance_data", Path(__file__).resolve().parents[1] / "unit" / "_governance_data.py"
)
data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(data)  # type: ignore[union-attr]

SH = ZoneInfo("Asia/Shanghai")
D = data.L2 + "004"
L1 = data.L2[:12]
#: Micro-grids side by side along 39.90–39.91 N: A 116.40–116.41, B –116.42, C –116.43, D –116.44.
BOXES = {data.A: 116.40, data.B: 116.41, data.C: 116.42, D: 116.43}


def _box(x0: float, x1: float) -> str:
    return f"SRID=4490;MULTIPOLYGON((({x0} 39.90,{x1} 39.90,{x1} 39.91,{x0} 39.91,{x0} 39.90)))"


def _load_fixture(conn) -> None:
    grids = [(L1, 1, None, "测试社区", _box(116.40, 116.44)), (data.L2, 2, L1, "测试片区", _box(116.40, 116.44))]
    grids += [(code, 3, data.L2, name, _box(x, round(x + 0.01, 2)))
              for (code, x), name in zip(BOXES.items(), ["一网格", "二网格", "三网格", "四网格"])]
    for code, level, parent, name, wkt in grids:
        conn.execute(text("INSERT INTO grid_codes (code, level) VALUES (:c, :l)"), {"c": code, "l": level})
        params = {"c": code, "l": level, "p": parent, "n": name, "g": wkt}
        conn.execute(text("INSERT INTO grids (code, level, parent_code, name, geom) "
                          "VALUES (:c, :l, :p, :n, ST_GeomFromEWKT(:g))"), params)
        conn.execute(text("INSERT INTO grid_versions (code, version, level, parent_code, name, geom, valid_from) "
                          "VALUES (:c, 1, :l, :p, :n, ST_GeomFromEWKT(:g), '2020-01-01T00:00+08')"), params)
    staff = data.staff()
    extra = pd.DataFrame({"id": [5, 6], "staff_key": ["W5", "W6"], "name": ["周五", "吴六"],
                          "phone": ["13800000005", "13800000006"]})
    for r in pd.concat([staff, extra]).itertuples(index=False):
        conn.execute(text("INSERT INTO staff (id, staff_key, name, phone) VALUES (:i, :k, :n, :p)"),
                     {"i": r.id, "k": r.staff_key, "n": r.name, "p": r.phone})
    assignments = pd.concat([data.assignments(), pd.DataFrame(
        {"staff_id": [5], "grid_code": [D], "role": ["micro_worker"], "start_date": [dt.date(2026, 1, 1)],
         "end_date": [None]})])
    for r in assignments.itertuples(index=False):
        conn.execute(text("INSERT INTO staff_assignments (staff_id, grid_code, role, start_date, end_date) "
                          "VALUES (:s, :g, :r, :a, :b)"),
                     {"s": r.staff_id, "g": r.grid_code, "r": r.role, "a": r.start_date, "b": r.end_date})
    for r in data.households().itertuples(index=False):
        x = BOXES[r.grid_code] + 0.005
        conn.execute(text(
            "INSERT INTO households (id, household_key, address, geom, special_kinds, grid_code, refreshed_at) "
            "VALUES (:i, :k, :a, ST_SetSRID(ST_MakePoint(:x, 39.905), 4490), :s, :g, :t)"),
            {"i": r.id, "k": f"H{r.id}", "a": r.address, "x": x, "s": list(r.special_kinds), "g": r.grid_code,
             "t": None if pd.isna(r.refreshed_at) else r.refreshed_at.to_pydatetime()})
    for r in data.visits().itertuples(index=False):
        conn.execute(text("INSERT INTO visits (household_id, staff_id, visited_at, kind) VALUES (:h, :s, :t, :k)"),
                     {"h": r.household_id, "s": r.staff_id, "t": r.visited_at.to_pydatetime(), "k": r.kind})

    def py(v):
        return None if pd.isna(v) else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else int(v) if not isinstance(v, str) else v)

    for r in data.incidents().itertuples(index=False):
        conn.execute(text(
            "INSERT INTO incidents (id, geom, reported_at, category, status, disposition, grid_code, "
            "grid_code_at_report, reported_by, assigned_to, deadline, closed_at, version) VALUES "
            "(:i, ST_SetSRID(ST_MakePoint(:x, 39.905), 4490), :rep, :cat, :st, :disp, :g, :g, :by, :to, :dl, :cl, 1)"),
            {"i": r.id, "x": BOXES[r.grid_code] + 0.002, "rep": py(r.reported_at), "cat": r.category,
             "st": r.status, "disp": py(r.disposition), "g": r.grid_code, "by": py(r.reported_by),
             "to": py(r.assigned_to), "dl": py(r.deadline), "cl": py(r.closed_at)})
    for table in ("staff", "households", "incidents"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1000)"))


@pytest.fixture(scope="module")
def gov_engine(throwaway_databases):
    from store.engine import make_engine

    engine = make_engine(throwaway_databases.create())
    with engine.begin() as conn:
        _load_fixture(conn)
    yield engine
    engine.dispose()


def _new_incident(engine, **kw) -> int:
    from store.governance import report_incident

    args = dict(lon=116.435, lat=39.905, category="环境卫生", description="垃圾堆积", actor="居民甲")
    args.update(kw)
    with engine.begin() as conn:
        return report_incident(conn, **args)


def _walk(engine, incident_id: int, actions: list[str]) -> None:
    from store.governance import transition_incident

    extra = {"classify": {"disposition": "solve_now"}, "dispatch": {"assignee": 5},
             "handle": {"note": "已清理"}, "reject": {"note": "不属实"}, "reopen": {"note": "又堆了"}}
    for action in actions:
        with engine.begin() as conn:
            transition_incident(conn, incident_id, action, actor="社区甲", **extra.get(action, {}))


# -- incidents ---------------------------------------------------------------------------------
def test_report_assigns_micro_grid_by_point_and_smallest_code_on_shared_edge(gov_engine):
    from store.governance import incident_detail

    inside = _new_incident(gov_engine)
    on_edge = _new_incident(gov_engine, lon=116.43, lat=39.905)  # C | D boundary
    with gov_engine.connect() as conn:
        detail = incident_detail(conn, inside)
        edge = incident_detail(conn, on_edge)
    assert detail["grid_code"] == D and detail["grid_code_at_report"] == D
    assert detail["status"] == "reported" and detail["version"] == 1
    assert [e["action"] for e in detail["events"]] == ["report"]
    assert detail["lon"] == pytest.approx(116.435) and detail["lat"] == pytest.approx(39.905)
    assert edge["grid_code"] == data.C  # C < D


def test_report_outside_every_grid_names_the_nearest(gov_engine):
    with pytest.raises(GridNotFoundAtPoint, match=rf"nearest is {D}"):
        _new_incident(gov_engine, lon=116.46, lat=39.905)
    with pytest.raises(CoordinateRangeError, match="swapped"):
        _new_incident(gov_engine, lon=39.9, lat=116.4)


def test_full_loop_persists_state_and_event_log(gov_engine):
    from store.governance import incident_detail, proposed_assignee

    iid = _new_incident(gov_engine)
    with gov_engine.connect() as conn:
        assert proposed_assignee(conn, D, on=dt.date(2026, 11, 25)) == 5
    _walk(gov_engine, iid, ["accept", "classify", "dispatch", "handle", "close", "reopen"])
    with gov_engine.connect() as conn:
        detail = incident_detail(conn, iid)
    assert detail["status"] == "dispatched" and detail["version"] == 7
    assert detail["assigned_to"] == 5 and detail["assigned_to_name"] == "周五"
    assert detail["disposition"] == "solve_now" and detail["closed_at"] is None
    log = [(e["action"], e["from_status"], e["to_status"]) for e in detail["events"]]
    assert log == [
        ("report", None, "reported"), ("accept", "reported", "accepted"), ("classify", "accepted", "classified"),
        ("dispatch", "classified", "dispatched"), ("handle", "dispatched", "handled"),
        ("close", "handled", "closed"), ("reopen", "closed", "dispatched"),
    ]
    assert detail["events"][4]["note"] == "已清理" and detail["events"][-1]["note"] == "又堆了"
    # deadline stored aware: local midnight in Shanghai
    assert detail["deadline"].astimezone(SH).time() == dt.time(0, 0)


def test_refused_transition_changes_nothing(gov_engine):
    from store.governance import incident_detail, transition_incident

    iid = _new_incident(gov_engine)
    with pytest.raises(TransitionError, match=rf"cannot close incident {iid}: it is 'reported'"):
        with gov_engine.begin() as conn:
            transition_incident(conn, iid, "close", actor="x")
    with pytest.raises(NotFoundError, match="staff 999"):
        _walk(gov_engine, iid, ["accept", "classify"])
        with gov_engine.begin() as conn:
            transition_incident(conn, iid, "dispatch", actor="x", assignee=999)
    with pytest.raises(NotFoundError, match="incident 987654"):
        with gov_engine.begin() as conn:
            transition_incident(conn, 987654, "accept", actor="x")
    with gov_engine.connect() as conn:
        detail = incident_detail(conn, iid)
    assert detail["status"] == "classified" and len(detail["events"]) == 3 and detail["version"] == 3


def test_stale_expected_version_is_refused(gov_engine):
    from store.governance import transition_incident

    iid = _new_incident(gov_engine)
    _walk(gov_engine, iid, ["accept"])
    with pytest.raises(StaleVersionError, match=rf"incident {iid} .* version 1 \(now version 2\).*社区甲 did 'accept'"):
        with gov_engine.begin() as conn:
            transition_incident(conn, iid, "reject", actor="乙", note="重复", expected_version=1)


def test_concurrent_transitions_one_wins(gov_engine):
    """Two real connections read the same version; the second UPDATE waits, then loses."""
    from store.governance import incident_detail, load_incident_state, transition_incident

    iid = _new_incident(gov_engine)
    both_read = threading.Barrier(2, timeout=20)
    outcomes: dict[str, object] = {}

    def first() -> None:
        try:
            with gov_engine.begin() as conn:
                state = load_incident_state(conn, iid)
                both_read.wait()  # both have read version 1 before either writes
                transition_incident(conn, iid, "accept", actor="first", note="属实", expected_version=state.version)
                both_read.wait()  # written, row locked, not committed yet
                time.sleep(0.5)  # the other UPDATE is now waiting on the row lock
            outcomes["first"] = "ok"
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            outcomes["first"] = exc

    def second() -> None:
        try:
            with gov_engine.begin() as conn:
                state = load_incident_state(conn, iid)
                both_read.wait()
                both_read.wait()  # the first has written (row locked, not committed)
                transition_incident(conn, iid, "reject", actor="second", note="不属实",
                                    expected_version=state.version)
            outcomes["second"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes["second"] = exc

    t1 = threading.Thread(target=first)
    t2 = threading.Thread(target=second)
    t1.start(), t2.start()
    t1.join(30), t2.join(30)
    assert outcomes["first"] == "ok"
    assert isinstance(outcomes["second"], StaleVersionError), outcomes["second"]
    assert "first did 'accept'" in str(outcomes["second"])
    with gov_engine.connect() as conn:
        detail = incident_detail(conn, iid)
        state = load_incident_state(conn, iid)
    assert state.status == "accepted" and state.version == 2
    assert [(e["action"], e["actor"]) for e in detail["events"]] == [("report", "居民甲"), ("accept", "first")]


def test_many_threads_race_without_expected_version(gov_engine):
    """Four threads try to accept/reject the same new incident at once: exactly one succeeds."""
    from store.governance import incident_detail, transition_incident

    iid = _new_incident(gov_engine)
    start = threading.Barrier(4, timeout=20)
    results: list[object] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        action = "accept" if i % 2 else "reject"
        try:
            start.wait()
            with gov_engine.begin() as conn:
                transition_incident(conn, iid, action, actor=f"t{i}", note="并发")
            out: object = "ok"
        except Exception as exc:  # noqa: BLE001
            out = exc
        with lock:
            results.append(out)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count("ok") == 1
    assert all(isinstance(r, (StaleVersionError, TransitionError)) for r in results if r != "ok")
    with gov_engine.connect() as conn:
        detail = incident_detail(conn, iid)
    assert len(detail["events"]) == 2 and detail["version"] == 2


# -- visits and assessment ---------------------------------------------------------------------
def test_visit_plan_and_assessment_from_the_database_match_the_hand_values(gov_engine):
    from governance.assessment import assess_month
    from store.governance import load_frames
    from governance.visits import visit_plan

    with gov_engine.connect() as conn:
        frames = load_frames(conn, month=data.MONTH)
    plan = visit_plan(frames["households"], frames["visits"], frames["assignments"], month=data.MONTH,
                      as_of=data.AS_OF)
    w = plan.workers.set_index("staff_id")
    assert w.loc[1, ["households", "visited", "remaining", "special_pending", "due_for_update"]].tolist() == [12, 4, 6, 1, 2]
    assert w.loc[2, ["households", "visited", "remaining", "special_pending", "due_for_update"]].tolist() == [3, 1, 2, 1, 1]
    result = assess_month(
        households=frames["households"], visits=frames["visits"], assignments=frames["assignments"],
        incidents=frames["incidents"], grids=frames["grids"], staff=frames["staff"], month=data.MONTH,
        as_of=data.AS_OF,
    )
    cols = ["visits_made", "visits_required", "special_covered", "incidents_discovered", "incidents_closed",
            "closure_rate", "median_hours_to_close", "overdue", "score"]
    workers = result.workers.set_index("staff_id")
    assert workers.loc[1, cols].tolist() == [4, 10, 2, 3, 2, 0.5, 168.0, 1, 9.0]
    assert workers.loc[2, cols].tolist() == [1, 3, 0, 1, 1, 0.5, 192.0, 1, -1.0]
    grids = result.grids.set_index("grid_code")
    assert grids.loc[data.A, cols].tolist() == [5, 10, 2, 4, 2, 0.25, 168.0, 1, 13.0]
    assert grids.loc[data.B, cols].tolist() == [1, 3, 0, 2, 1, 1.0, 192.0, 1, 1.0]


def test_record_visit(gov_engine):
    from store.governance import record_visit
    from governance.visits import VisitRecord

    with gov_engine.connect() as conn:
        trans = conn.begin()
        vid = record_visit(conn, VisitRecord(household_id=14, staff_id=2, visited_at=dt.datetime.now(SH) - dt.timedelta(hours=1), kind="routine",
                                             note="入户", lon=116.415, lat=39.905))
        row = conn.execute(text("SELECT grid_code, ST_SRID(geom) FROM visits WHERE id = :i"), {"i": vid}).one()
        assert tuple(row) == (data.B, 4490)
        with pytest.raises(NotFoundError, match="household 99999"):
            record_visit(conn, VisitRecord(household_id=99999, staff_id=2, visited_at=dt.datetime(2026, 1, 5, tzinfo=SH)))
        trans.rollback()


# -- monthly report ----------------------------------------------------------------------------
def test_monthly_report_numbers_equal_sql_counts_and_files_open(gov_engine, tmp_path):
    from etl.reports import write_monthly_html, write_monthly_xlsx
    from services.report import monthly_report

    month = "2026-11"
    start, end = dt.datetime(2026, 11, 1, tzinfo=SH), dt.datetime(2026, 12, 1, tzinfo=SH)
    with gov_engine.connect() as conn:
        report = monthly_report(conn, month=month, as_of=data.AS_OF)
        sql = dict(conn.execute(text(
            "SELECT category, count(*) FROM incidents WHERE reported_at >= :s AND reported_at < :e GROUP BY category"),
            {"s": start, "e": end}).all())
        by_disp = dict(conn.execute(text(
            "SELECT coalesce(disposition, 'unclassified'), count(*) FROM incidents "
            "WHERE reported_at >= :s AND reported_at < :e GROUP BY 1"), {"s": start, "e": end}).all())
        closed = conn.execute(text(
            "SELECT count(*) FROM incidents WHERE status = 'closed' AND closed_at >= :s AND closed_at < :e"),
            {"s": start, "e": end}).scalar()
        hard = {r[0] for r in conn.execute(text(
            "SELECT id FROM incidents WHERE status NOT IN ('closed', 'rejected') AND "
            "(disposition = 'research_assign' OR deadline < :now)"), {"now": data.AS_OF}).all()}
    table = report.by_category
    assert table.loc[table.index != "total", "total"].to_dict() == sql
    assert table.loc["total"].drop("total").to_dict() == {k: by_disp.get(k, 0) for k in table.columns if k != "total"}
    assert set(by_disp) <= set(table.columns)
    assert report.totals["reported"] == sum(sql.values())
    assert report.totals["closed"] == closed
    assert set(report.hard_cases["id"]) == hard
    # every incident of the month lies in a micro-grid, so the per-grid counts add up to the total
    assert report.per_grid["incidents_discovered"].sum() == report.totals["reported"]

    from i18n import label

    xlsx = write_monthly_xlsx(report, tmp_path / "monthly.xlsx", lang="en")
    wb = openpyxl.load_workbook(xlsx)
    assert {"Summary", "By category", "Hard cases", "Per grid"} <= set(wb.sheetnames)
    ws = wb["By category"]
    header = [c.value for c in ws[1]]
    total_col = header.index("Total") + 1
    values = {ws.cell(r, 1).value: ws.cell(r, total_col).value for r in range(2, ws.max_row + 1)}
    assert {k: v for k, v in values.items() if k != "Total"} == {label("category", k, "en"): v for k, v in sql.items()}

    page = write_monthly_html(report, tmp_path / "monthly.html")
    html_text = Path(page).read_text(encoding="utf-8")

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.images, self.cells = [], []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.images.append(dict(attrs)["src"])

        def handle_data(self, d):
            self.cells.append(d.strip())

    parser = Collect()
    parser.feed(html_text)
    assert len(parser.images) >= 2 and all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert str(sum(sql.values())) in parser.cells


def _visible_text(page: str) -> str:
    """The text of an HTML page a person reads (not its style sheet), one cell or heading a line."""

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.hidden = [], 0

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("style", "script")
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

        def handle_endtag(self, tag):
            self.hidden -= tag in ("style", "script")

        def handle_data(self, d):
            if not self.hidden and d.strip():
                self.parts.append(d.strip())

    parser = Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def test_monthly_report_files_follow_the_language(gov_engine, tmp_path):
    """Sheet names, headers, headings and coded values in zh (default) and en; overdue in days and hours;
    formula-like text still written as text (issue #13.6)."""
    import dataclasses

    from zh_scan import problems_in

    from etl.reports import write_monthly_html, write_monthly_xlsx
    from i18n import duration, label, translate
    from services.report import monthly_report

    with gov_engine.connect() as conn:
        report = monthly_report(conn, month="2026-11", as_of=data.AS_OF)
    assert len(report.hard_cases) and report.hard_cases["overdue_hours"].notna().any()
    hard = report.hard_cases.copy()
    hard.loc[0, "description"] = "=HYPERLINK(\"http://evil\",\"x\")"
    report = dataclasses.replace(report, hard_cases=hard)
    sheets = {"zh": ["概况", "分类统计", "疑难及超期事项", "各网格情况", "网格员排名", "地图"],
              "en": ["Summary", "By category", "Hard cases", "Per grid", "Workers", "Maps"]}
    for lang, names in sheets.items():
        wb = openpyxl.load_workbook(write_monthly_xlsx(report, tmp_path / f"{lang}.xlsx", lang=lang))
        assert wb.sheetnames == names
        summary, by_cat, cases, grids, workers = (wb[n] for n in names[:5])
        assert [c.value for c in summary[1]] == [translate("report.item.item", lang), translate("report.item.value", lang)]
        assert summary["A2"].value == translate("report.item.month", lang) and summary["B2"].value == "2026-11"
        header = [c.value for c in by_cat[1]]
        assert header[0] == translate("report.category", lang) and header[-1] == translate("report.total", lang)
        assert label("disposition", "solve_now", lang) in header and translate("report.unclassified", lang) in header
        rows = [by_cat.cell(r, 1).value for r in range(2, by_cat.max_row + 1)]
        assert set(rows) == {label("category", c, lang) for c in report.by_category.index if c != "total"} | {
            translate("report.total", lang)}
        case_header = [c.value for c in cases[1]]
        assert case_header == [translate(f"report.col.{c}", lang) for c in report.hard_cases.columns]
        column = {name: i + 1 for i, name in enumerate(case_header)}
        first = report.hard_cases.iloc[0]
        assert cases.cell(2, column[translate("report.col.status", lang)]).value == label("status", first["status"], lang)
        assert cases.cell(2, column[translate("report.col.category", lang)]).value == label("category", first["category"], lang)
        overdue = cases.cell(2, column[translate("report.col.overdue_hours", lang)]).value
        assert overdue == duration(first["overdue_hours"], lang) and (lang == "en" or "天" in overdue)
        described = cases.cell(2, column[translate("report.col.description", lang)])
        assert described.data_type == "s" and described.value.startswith("=HYPERLINK")  # text, not a formula
        for sheet in (grids, workers):
            heads = [c.value for c in sheet[1]]
            assert translate("report.col.closure_rate", lang) in heads and translate("report.col.score", lang) in heads
            assert not any(isinstance(h, str) and "_" in h for h in heads), heads
        if lang == "zh":
            texts = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                     if isinstance(c.value, str) and c.coordinate != described.coordinate]
            assert sorted({p for t in texts for p in problems_in(t)}) == []

        page = write_monthly_html(report, tmp_path / f"{lang}.html", lang=lang).read_text(encoding="utf-8")
        shown = _visible_text(page)
        for key in ("summary", "by_category", "maps", "hard_cases", "per_grid", "workers"):
            assert f">{translate(f'report.head.{key}', lang)}</h2>" in page
        assert translate("report.title", lang, month="2026-11") in shown
        assert duration(first["overdue_hours"], lang) in shown
        if lang == "zh":
            assert '<html lang="zh-CN">' in page
            lines = [line for line in shown.splitlines() if not line.startswith("=HYPERLINK")]
            assert sorted({p for line in lines for p in problems_in(line)}) == [], shown[:2000]
        else:
            assert "Monthly joint-meeting report 2026-11" in shown and "概况" not in shown


@pytest.fixture()
def cli_env(gov_engine, monkeypatch):
    """Point the CLI at this module's database."""
    from gis.settings import get_settings

    use_database(monkeypatch, gov_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_assessment_cli_json(cli_env, capsys):
    from tests.db._cli import main

    code = main(["report", "assessment", "--month", "2026-11", "--as-of", "2026-11-30T20:00:00+08:00", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    payload = json.loads(out)
    w1 = next(w for w in payload["workers"] if w["staff_id"] == 1)
    assert w1["score"] == 9.0 and w1["overdue"] == 1 and w1["visits_made"] == 4


def test_cli_incident_loop_and_one_line_errors(cli_env, capsys):
    from tests.db._cli import main

    assert main(["incident", "report", "--lon", "116.435", "--lat", "39.905", "--category", "环境卫生",
                 "--description", "垃圾堆积", "--json"]) == 0
    reported = json.loads(capsys.readouterr().out)
    iid = str(reported["id"])
    assert reported["grid_code"] == D and reported["status"] == "reported"
    assert main(["incident", "accept", iid]) == 0
    capsys.readouterr()
    assert main(["incident", "close", iid]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: cannot close incident {iid}: it is 'accepted'; allowed now: classify"
    assert main(["incident", "classify", iid, "--disposition", "explain_respond"]) == 0
    assert main(["incident", "dispatch", iid]) == 0  # default: the grid's worker (staff 5)
    assert main(["incident", "handle", iid]) == 1  # feedback missing
    assert "needs a note" in capsys.readouterr().err
    assert main(["incident", "handle", iid, "--note", "已清理"]) == 0
    assert main(["incident", "dispatch", iid, "--to", "W6"]) == 1  # handled: too late
    capsys.readouterr()
    assert main(["incident", "show", iid, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["assigned_to"] == 5 and shown["status"] == "handled" and shown["version"] == 5
    assert [e["action"] for e in shown["events"]] == ["report", "accept", "classify", "dispatch", "handle"]
    assert main(["incident", "show", "99999999"]) == 1
    assert capsys.readouterr().err.strip() == "error: incident 99999999 does not exist"


# -- roster ------------------------------------------------------------------------------------
def test_roster_round_trip_through_the_database(gov_engine, tmp_path):
    from etl.export import write_staff
    from etl.readers import read_staff
    from governance.roster import roster_gaps
    from store.bulk import load_staff
    from store.governance import load_roster

    with gov_engine.connect() as conn:
        trans = conn.begin()
        roster = load_roster(conn)
        path = write_staff(roster, tmp_path / "roster.xlsx")
        back, problems = read_staff(path)
        assert problems == []
        report = load_staff(conn, back, problems=problems)
        assert report.assignments == {"inserted": 0, "updated": 0, "unchanged": len(roster), "deleted": 0}
        assert (report.inserted, report.updated, report.changeset_id) == (0, 0, None)  # nothing new
        added = back.iloc[[0]].assign(staff_key="W9", name="新人", grid_code=D, role="grid_police")
        assert load_staff(conn, added).assignments["inserted"] == 1
        with pytest.raises(ValidationError, match="does not exist"):
            load_staff(conn, back.iloc[[0]].assign(grid_code=data.L2 + "099"))
        from store.governance import load_grids

        gaps = roster_gaps(load_grids(conn), load_roster(conn), on=dt.date(2026, 11, 25))
        d_gaps = set(gaps.loc[gaps["grid_code"] == D, "role"])
        assert d_gaps == {"family_doctor", "supervisor", "coordinator"}
        trans.rollback()


def test_scope_limits_every_frame(gov_engine):
    from store.governance import load_frames, load_roster

    with gov_engine.connect() as conn:
        frames = load_frames(conn, month=data.MONTH, scope=[data.A])
        roster = load_roster(conn, scope=[data.B])
        with pytest.raises(ValidationError, match="digits"):
            load_frames(conn, scope=["11' OR 1=1 --"])
        nothing = load_frames(conn, scope=[])
    assert frames["households"]["id"].tolist() == list(range(1, 13))
    assert set(frames["incidents"]["grid_code"]) == {data.A}
    assert set(frames["visits"]["household_id"]) == {1, 2, 4, 5, 8}  # November visits in A
    assert frames["grids"]["code"].tolist() == [data.A]
    assert set(roster["grid_code"]) == {data.B}
    assert all(len(f) == 0 for f in nothing.values() if f is not nothing["staff"])


def test_cli_report_roster_and_visit_commands(cli_env, capsys, tmp_path):
    from tests.db._cli import main

    assert main(["report", "monthly", "--month", "2026-11", "--as-of", "2026-11-30T20:00:00+08:00",
                 "--out", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m.xlsx").is_file() and (tmp_path / "m.html").is_file()
    assert openpyxl.load_workbook(tmp_path / "m.xlsx")["概况"]["B2"].value == "2026-11"  # zh by default
    assert main(["report", "monthly", "--month", "2026-11", "--as-of", "2026-11-30T20:00:00+08:00",
                 "--out", str(tmp_path / "en"), "--lang", "en"]) == 0
    assert openpyxl.load_workbook(tmp_path / "en.xlsx")["Summary"]["A2"].value == "Month"
    assert '<html lang="en">' in (tmp_path / "en.html").read_text(encoding="utf-8")
    capsys.readouterr()  # the reports' lines
    assert main(["report", "monthly", "--month", "2026-11", "--out", str(tmp_path / "x"), "--lang", "fr"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --lang was 'fr'") and "zh" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.xlsx").exists()
    assert main(["visit", "plan", "--month", "2026-11", "--as-of", "2026-11-30T20:00:00+08:00", "--staff", "W1",
                 "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [w["staff_id"] for w in plan["workers"]] == [1] and plan["workers"][0]["remaining"] == 6
    assert [h["household_id"] for h in plan["special_pending"]] == [3]
    assert main(["roster", "export", "--out", str(tmp_path / "r.xlsx")]) == 0
    assert main(["roster", "import", str(tmp_path / "r.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "written 0" in out and "assignments 0 inserted, 0 updated" in out and "0 deleted" in out
    assert main(["roster", "gaps", "--as-of", "2026-11-25", "--json"]) == 0
    gaps = json.loads(capsys.readouterr().out)
    assert {(g["grid_code"], g["role"]) for g in gaps} >= {(D, "family_doctor"), (data.A, "supervisor")}
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    assert main(["roster", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: bad.xlsx: cannot be read as an Excel workbook") and "Traceback" not in err


def test_imported_incidents_get_their_grid_and_an_event_log(gov_engine, cli_env, capsys, tmp_path):
    """Incidents come in through the one importer (`gridgov import incidents`): located by
    point, each with an 'import' event so the closed loop's event log stays consistent."""
    from tests.db._cli import main
    from store.governance import incident_detail

    frame = pd.DataFrame({
        "incident_key": ["IMP-1", "IMP-2", "IMP-3"],
        "lon": [116.405, 116.43, 116.50],  # A; C|D edge → C; outside every grid
        "lat": [39.905, 39.905, 39.905],
        "category": ["sanitation", "public_order", "sanitation"],
        "reported_at": ["2026-11-03 08:00", "2026-11-04T01:00:00Z", "2026-11-05 09:30"],
        "description": ["<b>x</b>", "", "far away"],
    })
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    assert main(["import", "incidents", str(path), "--crs", "4490", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"inserted": 3' in out and '"unassigned": 1' in out
    with gov_engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT incident_key, id FROM incidents WHERE incident_key LIKE 'IMP-%'")).all())
        first = incident_detail(conn, ids["IMP-1"])
        assert first["grid_code"] == data.A and first["grid_code_at_report"] == data.A
        assert first["reported_at"] == dt.datetime(2026, 11, 3, 8, tzinfo=SH)
        assert [(e["action"], e["actor"], e["to_status"]) for e in first["events"]] == [("import", "admin", "reported")]
        assert incident_detail(conn, ids["IMP-2"])["grid_code"] == data.C
        assert incident_detail(conn, ids["IMP-3"])["grid_code"] is None
    assert main(["import", "incidents", str(path), "--crs", "4490", "--json"]) == 0
    assert '"unchanged": 3' in capsys.readouterr().out
    with gov_engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM incident_events e JOIN incidents i ON i.id = e.incident_id "
            "WHERE i.incident_key LIKE 'IMP-%'")).scalar() == 3
        conn.execute(text("DELETE FROM incidents WHERE incident_key LIKE 'IMP-%'"))
        conn.commit()


def test_monthly_report_of_an_empty_month(gov_engine, tmp_path):
    from etl.reports import write_monthly_html, write_monthly_xlsx
    from services.report import monthly_report

    with gov_engine.connect() as conn:
        report = monthly_report(conn, month="2020-01", as_of=dt.datetime(2020, 1, 31, tzinfo=SH))
    assert report.totals["reported"] == 0 and report.totals["closed"] == 0
    assert report.by_category.loc["total"].sum() == 0 and list(report.by_category.index) == ["total"]
    assert report.meeting_date == dt.date(2020, 1, 25)
    write_monthly_xlsx(report, tmp_path / "e.xlsx")
    assert "2020-01" in write_monthly_html(report, tmp_path / "e.html").read_text(encoding="utf-8")
