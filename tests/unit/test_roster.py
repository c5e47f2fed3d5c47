"""Roster rules (the one staff validation), gaps, contact cards and the file round trip (XLSX, CSV)."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest

from etl.export import write_staff
from etl.readers import read_staff
from gis.errors import DataSourceError, ValidationError
from etl.cards import contact_card_html
from governance.cards import GridCard, StaffMember
from governance.roster import active_assignments, check_roster, roster_gaps, validate_roster
from governance.vocab import STAFF_ROLE_TERMS

L1 = "430603003001"
L2 = L1 + "001"
M1, M2 = L2 + "001", L2 + "002"
ON = dt.date(2026, 11, 25)

GRIDS = pd.DataFrame(
    {"code": [L1, L2, M1, M2], "name": ["杨树港社区", "一片区", "一网格", "二网格"], "level": [1, 2, 3, 3]}
)


def _roster() -> pd.DataFrame:
    rows = [
        ("S1", "刘书记", "13900000001", "街道办", L1, "liaison_leader", "2026-01-01", None),
        ("S2", "陈主任", "13900000002", "社区", L1, "grid_head", "2026-01-01", None),
        ("S3", "周片长", "13900000003", "社区", L2, "grid_head", "2026-01-01", None),
        ("S4", "王一", "13900000004", "社区", M1, "micro_worker", "2026-01-01", None),
        ("S5", "张警官", "13900000005", "派出所", M1, "grid_police", "2026-01-01", None),
        ("S6", "李医生", "13900000006", "卫生院", M1, "family_doctor", "2026-01-01", None),
        ("S7", "赵监督", "13900000007", "社区", M1, "supervisor", "2026-01-01", None),
        ("S8", "钱协调", "13900000008", "社区", M1, "coordinator", "2026-01-01", None),
        # M2: two workers (one too many), police and doctor shared, no supervisor/coordinator
        ("S9", "孙二", "13900000009", "社区", M2, "micro_worker", "2026-01-01", None),
        ("S10", "吴三", "13900000010", "社区", M2, "micro_worker", "2026-11-01", None),
        ("S5", "张警官", "13900000005", "派出所", M2, "grid_police", "2026-01-01", None),
        ("S6", "李医生", "13900000006", "卫生院", M2, "family_doctor", "2026-01-01", None),
        # ended before ON: does not count
        ("S11", "郑前任", "13900000011", "社区", M2, "supervisor", "2025-01-01", "2026-10-31"),
    ]
    return pd.DataFrame(
        rows, columns=["staff_key", "name", "phone", "organisation", "grid_code", "role", "start_date", "end_date"]
    )


def test_gaps_by_hand():
    gaps = roster_gaps(GRIDS, validate_roster(_roster()), on=ON)
    got = gaps[["grid_code", "role", "problem", "active"]].values.tolist()
    assert got == [
        [M2, "coordinator", "missing", 0],
        [M2, "micro_worker", "more_than_one", 2],
        [M2, "supervisor", "missing", 0],
    ]
    assert gaps.loc[1, "staff"] == "吴三、孙二" or gaps.loc[1, "staff"] == "孙二、吴三"
    # before S10 started, M2 had exactly one worker
    earlier = roster_gaps(GRIDS, validate_roster(_roster()), on=dt.date(2026, 10, 1))
    assert "more_than_one" not in set(earlier["problem"])
    assert (M2, "supervisor") not in set(zip(earlier["grid_code"], earlier["role"]))  # S11 still active then


def test_gaps_flag_missing_leaders_and_stray_codes():
    roster = validate_roster(_roster())
    roster = roster.loc[roster["role"] != "liaison_leader"]
    stray = roster.iloc[[0]].assign(grid_code=L2 + "009", role="micro_worker")
    gaps = roster_gaps(GRIDS, pd.concat([roster, stray]), on=ON)
    assert [L1, "liaison_leader", "missing"] in gaps[["grid_code", "role", "problem"]].values.tolist()
    assert [L2 + "009", "not_a_current_grid"] in gaps[["grid_code", "problem"]].values.tolist()


def test_validation_collects_every_problem_with_row_numbers():
    bad = _roster().head(3).copy()
    bad.loc[0, "role"] = "boss"
    bad.loc[1, "grid_code"] = "43060300300A"
    bad.loc[2, "end_date"] = "2025-01-01"
    with pytest.raises(ValidationError, match="3 problem") as info:
        validate_roster(bad)
    assert {(f["row"], f["column"]) for f in info.value.findings} == {(2, "role"), (3, "grid_code"), (4, "end_date")}


def test_chinese_headers_and_role_labels_are_accepted(tmp_path):
    path = tmp_path / "zh.csv"
    path.write_text(f"工号,姓名,电话,网格编码,角色,开始日期\nS1,刘书记,13900000001,{L1},包联领导,2026-01-01\n"
                    f"S2,陈主任,139-0000-0002,{L1},网格长,2026/01/01\n", encoding="utf-8")
    roster, problems = read_staff(path)
    assert problems == []
    assert roster["role"].tolist() == ["liaison_leader", "grid_head"]
    assert roster["phone"].tolist() == ["13900000001", "13900000002"]
    assert roster["start_date"].tolist() == [dt.date(2026, 1, 1)] * 2


@pytest.mark.parametrize(
    ("label", "code"),
    [("网格监督员", "supervisor"), ("网格督导员", "supervisor"), ("包联领导", "liaison_leader"),
     ("Liaison leader", "liaison_leader"), ("Micro-grid worker", "micro_worker"), ("micro_worker", "micro_worker"),
     ("grid head", "grid_head"), ("Grid police officer", "grid_police"), ("网格员", "micro_worker")],
)
def test_roles_are_parsed_by_the_one_vocabulary(label, code):
    roster = _roster().head(1).assign(role=label)
    assert validate_roster(roster)["role"].tolist() == [code]


def test_unknown_role_is_an_error_naming_the_accepted_labels():
    _, problems = check_roster(_roster().head(2).assign(role=["boss", "grid_head"]))
    assert [(p.row, p.rule, p.severity) for p in problems] == [(0, "unknown_role", "error")]
    message = problems[0].message
    assert "'boss'" in message
    for term in STAFF_ROLE_TERMS:  # every role, in both languages
        assert term.zh in message and term.en in message


def test_one_staff_key_is_one_person():
    roster = _roster()
    roster.loc[10, "name"] = "张警察"  # S5 again, with another name
    roster.loc[11, "phone"] = "13999999999"  # S6 again, with another phone
    _, problems = check_roster(roster)
    assert {(p.row, p.rule) for p in problems if p.severity == "error"} == {
        (10, "staff_name_conflict"), (11, "staff_detail_conflict")}
    conflict = next(p for p in problems if p.row == 10).message
    assert "'张警察'" in conflict and "'张警官'" in conflict


def test_assignment_rows_need_role_and_grid_and_valid_dates():
    rows = pd.DataFrame({
        "staff_key": ["A", "B", "C", "D", "E", "F"],
        "name": ["甲", "乙", "丙", "丁", "戊", "己"],
        "grid_code": [M1, None, M1, M1, M1, None],
        "role": [None, "grid_head", "micro_worker", "micro_worker", "micro_worker", None],
        "start_date": [None, None, "2026-13-45", None, "2026-02-01", None],
        "end_date": [None, None, None, "2026-03-01", "2026-01-31", None],
    })
    frame, problems = check_roster(rows)
    assert {(p.row, p.rule) for p in problems} == {
        (0, "missing_role"), (1, "missing_grid_code"), (2, "bad_date"), (3, "end_without_start"),
        (4, "bad_date_range")}
    assert frame.loc[5, "role"] is None and frame.loc[5, "grid_code"] is None  # a person without an assignment


def test_contact_card_lists_team_and_leaders_and_escapes(tmp_path):
    roster = active_assignments(validate_roster(_roster()), ON)
    roster.loc[roster["name"] == "王一", "name"] = "王<一>"
    people = [StaffMember(r.name, r.role, r.phone, r.grid_code) for r in roster.itertuples()]
    card = GridCard(
        code=M1, name="一网格", level=3, parent_code=L2, parents=[(L1, "杨树港社区"), (L2, "一片区")],
        staff=[p for p in people if p.grid_code == M1], households=0, special_households=0, residents=0,
        open_incidents=0, area_m2=1.0,
        # what store.lookup.grid_card reads for the parents: their liaison leaders and grid heads only
        leaders=[p for p in people if p.grid_code in (L1, L2) and p.role in ("liaison_leader", "grid_head")],
        on=ON,
    )
    assert [(e.role, e.name) for e in card.contact_entries()] == [
        ("liaison_leader", "刘书记"), ("grid_head", "陈主任"), ("grid_head", "周片长"), ("micro_worker", "王<一>"),
        ("grid_police", "张警官"), ("family_doctor", "李医生"), ("supervisor", "赵监督"), ("coordinator", "钱协调"),
    ]
    page = contact_card_html(card)
    assert "王&lt;一&gt;" in page and "王<一>" not in page

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells, self._in = [], False

        def handle_starttag(self, tag, attrs):
            self._in = tag == "td"

        def handle_data(self, data):
            if self._in:
                self.cells.append(data)
                self._in = False

    parser = Cells()
    parser.feed(page)
    assert "13900000004" in parser.cells and "微网格员" in parser.cells


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_file_round_trip_keeps_codes_phones_and_dates(tmp_path, suffix):
    roster = validate_roster(_roster())
    path = write_staff(roster, tmp_path / f"roster{suffix}")
    if suffix == ".xlsx":
        ws = openpyxl.load_workbook(path).active
        assert ws["E2"].value == L1 and isinstance(ws["E2"].value, str)
    back, problems = read_staff(path)
    assert problems == []
    pd.testing.assert_frame_equal(back, roster)


def test_unreadable_file_is_a_data_source_error(tmp_path):
    (tmp_path / "x.xlsx").write_text("not a workbook")
    with pytest.raises(DataSourceError, match="cannot be read as an Excel workbook"):
        read_staff(tmp_path / "x.xlsx")
    with pytest.raises(DataSourceError, match="file not found"):
        read_staff(tmp_path / "missing.xlsx")
    with pytest.raises(DataSourceError, match="no geometry"):
        write_staff(_roster(), tmp_path / "roster.gpkg")


def test_file_round_trip_in_memory():
    import io

    roster = validate_roster(_roster())
    buffer = io.BytesIO()
    write_staff(roster, buffer, format="xlsx")
    buffer.seek(0)
    back, problems = read_staff(buffer, filename="upload.xlsx")
    assert problems == []
    pd.testing.assert_frame_equal(back, roster)
