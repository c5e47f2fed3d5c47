"""The one staff import through the CLI: `gridgov import staff` (= `gridgov roster import`).

* `gridgov export staff --out F` then `gridgov import staff F` leaves the database identical
  (XLSX and CSV), on the demo subdistrict;
* `--dry-run` does the whole load and changes nothing;
* an unknown role refuses the file (exit 1) naming the row and the accepted labels in both
  languages; 网格监督员, 包联领导 and the English labels are accepted;
* an open assignment on a retired grid is refused, an ended one is kept.

"Identical" is an md5 over every row of ``staff``, ``staff_assignments`` and ``changesets``.
"""

from __future__ import annotations

from testdb import demo_copy, use_database

import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, text

from tests.db._cli import main

pytestmark = pytest.mark.db

TABLES = ("staff", "staff_assignments", "changesets")


@pytest.fixture(scope="module")
def demo_database(throwaway_databases, demo_data) -> str:
    """A committed copy of the demo in its own database (shared by this module's tests that write nothing)."""
    return demo_copy(throwaway_databases, demo_data)


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from gis.settings import get_settings

    use_database(monkeypatch, url)
    get_settings.cache_clear()


@pytest.fixture()
def demo_url(demo_database: str, monkeypatch) -> Iterator[str]:
    from gis.settings import get_settings

    _use(demo_database, monkeypatch)
    yield demo_database
    get_settings.cache_clear()


def _checksums(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        sums = {t: conn.execute(text(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {t} t")).scalar_one()
            for t in TABLES}
        sums["rows"] = ",".join(str(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES)
    engine.dispose()
    return sums


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_changes_nothing(demo_url, tmp_path, suffix, capsys) -> None:
    before = _checksums(demo_url)
    out = tmp_path / f"staff{suffix}"
    assert main(["export", "staff", "--out", str(out), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    engine = create_engine(demo_url)
    with engine.connect() as conn:
        assignments = conn.execute(text("SELECT count(*) FROM staff_assignments")).scalar_one()
        people = conn.execute(text("SELECT count(*) FROM staff")).scalar_one()
    engine.dispose()
    assert exported["rows"] >= assignments > 100

    assert main(["import", "staff", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, people)
    assert summary["assignments"] == {"inserted": 0, "updated": 0, "unchanged": assignments, "deleted": 0}
    assert summary["changeset_id"] is None and summary["rejected"] == 0
    assert _checksums(demo_url) == before

    # the alias is the same command, and --replace has nothing to delete when the file is the whole roster
    assert main(["roster", "import", str(out), "--replace", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["assignments"]["deleted"] == 0
    assert _checksums(demo_url) == before


def test_roster_export_reads_back_unchanged(demo_url, tmp_path, capsys) -> None:
    before = _checksums(demo_url)
    out = tmp_path / "roster.csv"
    assert main(["roster", "export", "--out", str(out)]) == 0
    assert main(["import", "staff", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert summary["written"] == 0 and summary["assignments"]["inserted"] == 0 and summary["changeset_id"] is None
    assert _checksums(demo_url) == before


def _a_grid(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        code = conn.execute(text("SELECT min(code) FROM grids WHERE level = 3")).scalar_one()
    engine.dispose()
    return code


def test_dry_run_changes_nothing(demo_url, tmp_path, capsys) -> None:
    code = _a_grid(demo_url)
    path = tmp_path / "new.csv"
    path.write_text(f"工号,姓名,电话,网格编码,角色,开始日期\nNEW1,新网格员,13712345678,{code},微网格员,2026-12-01\n"
                    f"NEW2,新督导,13712345679,{code},网格监督员,\n", encoding="utf-8")
    before = _checksums(demo_url)
    assert main(["import", "staff", str(path), "--dry-run", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["inserted"] == 2 and summary["assignments"]["inserted"] == 2  # the load ran …
    assert summary["changeset_id"] is None
    assert _checksums(demo_url) == before  # … and was rolled back


def test_unknown_role_exits_1_naming_the_row_and_the_labels(demo_url, tmp_path, capsys) -> None:
    code = _a_grid(demo_url)
    path = tmp_path / "bad.csv"
    path.write_text(f"工号,姓名,网格编码,角色\nOK1,张三,{code},网格长\nBAD9,李四,{code},扫地僧\n", encoding="utf-8")
    before = _checksums(demo_url)
    report = tmp_path / "problems.json"
    assert main(["import", "staff", str(path), "--report", str(report)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown_role" in err and "BAD9" in err
    problems = json.loads(report.read_text(encoding="utf-8"))
    assert [(p["row"], p["id"], p["rule"], p["severity"]) for p in problems] == [(1, "BAD9", "unknown_role", "error")]
    for label in ("扫地僧", "包联领导", "Liaison leader", "微网格员", "Micro-grid worker", "网格督导员", "Supervisor"):
        assert label in problems[0]["message"], label
    assert _checksums(demo_url) == before
    assert main(["import", "staff", str(path), "--dry-run"]) == 1  # a dry run finds the same error
    capsys.readouterr()
    assert _checksums(demo_url) == before


# -- a small plan of our own, for tests that write ----------------------------------------------
L1 = "430104001001"
L2 = L1 + "001"
MICRO = [L2 + "001", L2 + "002"]


@pytest.fixture()
def small_url(empty_database_url: str, tmp_path: Path, monkeypatch, capsys) -> Iterator[str]:
    """A fresh database holding one community, one level-2 grid and two micro-grids (imported)."""
    from gis.settings import get_settings

    _use(empty_database_url, monkeypatch)
    community = shapely.box(112.90, 28.20, 112.92, 28.22)
    plan = gpd.GeoDataFrame(
        {"网格编码": [L1, L2, *MICRO], "网格名称": ["桃子湖社区", "第一网格", "西网格", "东网格"]},
        geometry=[community, community, shapely.box(112.90, 28.20, 112.91, 28.22),
                  shapely.box(112.91, 28.20, 112.92, 28.22)], crs=4490,
    )
    plan.to_file(tmp_path / "plan.gpkg", driver="GPKG")
    assert main(["import", "grids", str(tmp_path / "plan.gpkg")]) == 0
    capsys.readouterr()
    yield empty_database_url
    get_settings.cache_clear()


def _roles(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT s.staff_key, a.role, a.grid_code FROM staff_assignments a "
                                 "JOIN staff s ON s.id = a.staff_id ORDER BY s.staff_key, a.role")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_chinese_english_labels_and_aliases_are_accepted(small_url, tmp_path, capsys) -> None:
    path = tmp_path / "team.xlsx"
    pd.DataFrame({
        "工号": ["S1", "S2", "S3", "S4", "S5", "S6"],
        "姓名": ["刘书记", "赵督导", "钱协调", "孙网格", "李医生", "周警官"],
        "联系电话": ["13900000001", "13900000002", "13900000003", "13900000004", "13900000005", "13900000006"],
        "网格编码": [L1, MICRO[0], MICRO[0], MICRO[0], MICRO[0], MICRO[0]],
        "角色": ["包联领导", "网格监督员", "Coordinator", "Micro-grid worker", "family_doctor", "Grid police officer"],
        "开始日期": ["2026-01-01"] * 6,
    }).to_excel(path, index=False)
    assert main(["import", "staff", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["inserted"] == 6 and summary["assignments"]["inserted"] == 6
    assert _roles(small_url) == [
        ("S1", "liaison_leader", L1), ("S2", "supervisor", MICRO[0]), ("S3", "coordinator", MICRO[0]),
        ("S4", "micro_worker", MICRO[0]), ("S5", "family_doctor", MICRO[0]), ("S6", "grid_police", MICRO[0])]
    engine = create_engine(small_url)
    with engine.connect() as conn:
        changeset = conn.execute(text("SELECT kind, author FROM changesets WHERE id = :i"),
                                 {"i": summary["changeset_id"]}).one()
    engine.dispose()
    assert tuple(changeset) == ("import", "admin")
    # the same file again: nothing changes, no changeset
    assert main(["import", "staff", str(path), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["written"] == 0 and again["assignments"]["unchanged"] == 6 and again["changeset_id"] is None


def test_open_assignment_on_a_retired_grid_is_refused(small_url, tmp_path, capsys) -> None:
    assert main(["edit", "merge", *MICRO, "--reason", "one grid is enough", "--json"]) == 0
    merged = json.loads(capsys.readouterr().out)
    (retired,) = merged["retired"]
    kept = next(c for c in MICRO if c != retired)
    before = _checksums(small_url)

    open_row = tmp_path / "open.csv"
    open_row.write_text(f"工号,姓名,网格编码,角色,开始日期\nW1,王一,{retired},微网格员,2026-01-01\n", encoding="utf-8")
    assert main(["import", "staff", str(open_row)]) == 1
    err = capsys.readouterr().err
    assert "inactive_grid" in err and retired in err and "retired" in err and "Traceback" not in err
    assert _checksums(small_url) == before

    unknown = tmp_path / "unknown.csv"
    unknown.write_text(f"工号,姓名,网格编码,角色,开始日期,结束日期\nW1,王一,{L2}009,微网格员,2025-01-01,2025-12-31\n",
                       encoding="utf-8")
    assert main(["import", "staff", str(unknown)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert _checksums(small_url) == before

    ended = tmp_path / "ended.csv"  # an assignment that ended is history: its (retired) code is known
    ended.write_text(f"工号,姓名,网格编码,角色,开始日期,结束日期\nW1,王一,{retired},微网格员,2025-01-01,2025-12-31\n"
                     f"W1,王一,{kept},微网格员,2026-01-01,\n", encoding="utf-8")
    assert main(["import", "staff", str(ended), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["assignments"]["inserted"] == 2
    assert sorted(_roles(small_url)) == sorted([("W1", "micro_worker", kept), ("W1", "micro_worker", retired)])


def test_a_staff_key_with_two_names_is_refused(small_url, tmp_path, capsys) -> None:
    before = _checksums(small_url)
    path = tmp_path / "twice.csv"
    path.write_text(f"staff_key,name,grid_code,role\nW1,王一,{MICRO[0]},micro_worker\nW1,王二,{MICRO[1]},micro_worker\n",
                    encoding="utf-8")
    assert main(["import", "staff", str(path)]) == 1
    err = capsys.readouterr().err
    assert "staff_name_conflict" in err and "Traceback" not in err
    assert _checksums(small_url) == before
