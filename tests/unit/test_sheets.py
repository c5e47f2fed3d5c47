"""Text that begins like a formula is written as text in every CSV and XLSX GridGov writes (etl.sheets)."""

from __future__ import annotations

import csv
import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from etl.export import export_frame, write_staff
from etl.readers import read_staff
from etl.sheets import csv_text, looks_like_formula, protect_workbook, safe_csv_frame, unquote_text, write_xlsx
from etl.transform import write_problem_report
from gis.problems import RowProblem

#: Text cells a spreadsheet would run as formulas, and ordinary ones.
DANGEROUS = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2+3", "\tleading tab", "\rleading CR",
             "=HYPERLINK(\"http://x\",\"y\")"]
HARMLESS = ["路灯不亮", "a=b", "1+1", "", "'quoted"]


def _points(texts: list[str]) -> gpd.GeoDataFrame:
    n = len(texts)
    return gpd.GeoDataFrame(
        {"description": texts, "members": list(range(-2, n - 2)), "ratio": [-1.5 + i for i in range(n)]},
        geometry=[shapely.Point(113.1 + i * 1e-3, 29.4) for i in range(n)], crs=4490,
    )


def _xlsx_cells(path) -> list:  # noqa: ANN001
    book = load_workbook(path)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_the_rule() -> None:
    assert all(looks_like_formula(t) for t in DANGEROUS)
    assert not any(looks_like_formula(t) for t in HARMLESS)
    assert not looks_like_formula(-2) and not looks_like_formula(None) and not looks_like_formula(dt.date(2026, 1, 1))
    assert [csv_text(t) for t in DANGEROUS] == ["'" + t for t in DANGEROUS]
    assert [csv_text(t) for t in HARMLESS] == HARMLESS
    assert [unquote_text(csv_text(t)) for t in DANGEROUS + HARMLESS] == DANGEROUS + HARMLESS


def test_safe_csv_frame_leaves_numbers_and_the_input_alone() -> None:
    frame = pd.DataFrame({"text": ["=1", "x", None], "n": [-2, 3, 4], "f": [-1.5, 2.0, float("nan")]})
    safe = safe_csv_frame(frame)
    assert safe["text"].tolist()[:2] == ["'=1", "x"] and pd.isna(safe["text"].iloc[2])
    assert safe["n"].tolist() == [-2, 3, 4] and safe["n"].dtype == frame["n"].dtype
    assert safe["f"].dtype == frame["f"].dtype
    assert frame["text"].tolist()[:2] == ["=1", "x"]  # not mutated


def test_csv_export_prefixes_formula_like_text(tmp_path) -> None:
    path = export_frame(_points(DANGEROUS + HARMLESS), tmp_path / "incidents.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["description"] for r in rows] == ["'" + t for t in DANGEROUS] + HARMLESS
    assert rows[0]["members"] == "-2" and rows[0]["ratio"] == "-1.5"  # numbers are not touched


def test_xlsx_export_writes_text_never_formulas(tmp_path) -> None:
    path = export_frame(_points(DANGEROUS + HARMLESS), tmp_path / "incidents.xlsx")
    cells = _xlsx_cells(path)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    # XML turns a carriage return into a line feed when the file is read: the text is otherwise exact
    texts = {c.value: c for c in cells if isinstance(c.value, str)}
    for text in (t.replace("\r", "\n") for t in DANGEROUS):
        assert text in texts, text
        assert texts[text].data_type == "s" and texts[text].quotePrefix
    numbers = [c.value for c in cells if c.column == 2 and c.row > 1]  # "members": stays numeric
    assert numbers[:3] == [-2, -1, 0]


def test_staff_tables_are_safe_and_read_back_unchanged(tmp_path) -> None:
    staff = pd.DataFrame({
        "staff_key": ["ST00001", "ST00002"], "name": ["=cmd|' /C calc'!A0", "张三"], "phone": ["13800000001", "+8613800000002"],
        "organisation": ["@SUM(A1)", "社区"], "grid_code": ["430603001001001", "430603001001001"],
        "role": ["micro_worker", "supervisor"], "start_date": [dt.date(2026, 1, 1)] * 2, "end_date": [None, None],
        "building_no": ["-2+3", None],
    })
    for suffix in ("csv", "xlsx"):
        path = write_staff(staff, tmp_path / f"staff.{suffix}")
        if suffix == "xlsx":
            assert not [c.coordinate for c in _xlsx_cells(path) if c.data_type == "f"]
        else:
            text = path.read_text(encoding="utf-8-sig")
            assert "'=cmd" in text and "'@SUM" in text and "'+86" in text and "'-2+3" in text
        back, problems = read_staff(path)
        assert not [p for p in problems if p.severity == "error"], problems
        assert back["name"].tolist() == staff["name"].tolist()
        assert back["organisation"].tolist() == staff["organisation"].tolist()
        assert back["building_no"].iloc[0] == "-2+3" and pd.isna(back["building_no"].iloc[1])


def test_problem_reports_are_safe(tmp_path) -> None:
    path = write_problem_report([RowProblem(3, "=1+2", "bad_rule", "+message")], tmp_path / "problems.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["id"] == "'=1+2" and row["message"] == "'+message"


def test_write_xlsx_protects_sheets_and_what_before_save_adds(tmp_path) -> None:
    def add(book) -> None:  # noqa: ANN001
        book.create_sheet("extra")["A1"] = "=1+1"

    path = write_xlsx({"a": pd.DataFrame({"x": ["=A1", 5]}), "b": pd.DataFrame({"=head": [1]})}, tmp_path / "w.xlsx",
                      before_save=add)
    cells = _xlsx_cells(path)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert {c.value for c in cells} >= {"=A1", 5, "=head", 1, "=1+1"}


@pytest.mark.parametrize("value", DANGEROUS)
def test_protect_workbook_counts_what_it_changed(value: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = value
    book.active["A2"] = -3
    assert protect_workbook(book) == 1
    assert book.active["A1"].data_type == "s" and book.active["A2"].data_type == "n"
