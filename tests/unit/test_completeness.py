"""ID numbers (GB 11643-1999) and every completeness rule on crafted records."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.completeness import (
    FINDING_COLUMNS,
    CompletenessRules,
    assign_todos,
    check_completeness,
    completeness_counts,
)
from governance.idcard import (
    IdNumberError,
    age_on,
    check_digit,
    check_id_numbers,
    parse_id_number,
    upgrade_15,
)
from i18n.catalogue import CATALOGUE, translate

TODAY = dt.date(2026, 6, 1)


def make_id(region: str, birth: str, sequence: str) -> str:
    first17 = region + birth + sequence
    return first17 + check_digit(first17)


# -- GB 11643 ----------------------------------------------------------------------------------------


def test_the_standards_example():
    """GB 11643-1999's own example: 11010519491231002X (the weighted sum is 167, 167 mod 11 = 2 → X)."""
    assert check_digit("11010519491231002") == "X"
    parsed = parse_id_number("11010519491231002x")
    assert (parsed.number, parsed.region, parsed.birth_date, parsed.gender) == ("11010519491231002X", "110105", dt.date(1949, 12, 31), "female")


def test_check_digits_by_hand():
    # 4 4 0 5 2 4 1 9 8 0 0 1 0 1 0 0 3: 28+36+0+25+16+16+2+9+48+0+0+9+0+5+0+0+6 = 200; 200 mod 11 = 2 → X
    assert check_digit("44052419800101003") == "X"
    # 1 1 0 1 0 1 1 9 9 0 0 3 0 7 7 7 7: 7+9+0+5+0+4+2+9+54+0+0+27+0+35+56+28+14 = 250; 250 mod 11 = 8 → 4
    assert check_digit("11010119900307777") == "4"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_error_is_caught(first17, position, delta):
    number = first17 + check_digit(first17)
    changed = first17[:position] + str((int(first17[position]) + delta) % 10) + first17[position + 1 :]
    assert check_digit(changed) != number[17]


def test_legacy_15_digit_numbers_are_upgraded():
    assert upgrade_15("110105491231002") == "11010519491231002X"
    parsed = parse_id_number("110105491231002")
    assert parsed.legacy_15 and parsed.number == "11010519491231002X" and parsed.birth_date == dt.date(1949, 12, 31)


@pytest.mark.parametrize(("value", "reason", "words"), [
    ("110105194912310021", "check_digit", "first 17 digits give 'X'"),
    ("11010519491231002", "malformed", "17 characters"),
    ("1101051949123100２X", "valid", ""),  # a full-width digit is folded
    ("11010519491231OO2X", "malformed", "not only digits"),
    (make_id("110105", "19490230", "002"), "birth_date", "19490230"),
    (make_id("110105", "20270101", "002"), "birth_date", "not a plausible date"),  # after today
    (make_id("110105", "18800101", "002"), "birth_date", "plausible"),
    ("110105490230002", "birth_date", "19490230"),  # 15 digits, 30 February
])
def test_bad_numbers(value, reason, words):
    result = check_id_numbers(pd.Series([value]), today=TODAY).iloc[0]
    assert result["status"] == reason
    assert words in result["message"]
    if reason != "valid":
        with pytest.raises(IdNumberError) as info:
            parse_id_number(value, today=TODAY)
        assert info.value.reason == reason


def test_column_check_keeps_the_index_and_reads_gender():
    values = pd.Series([make_id("430603", "20120305", "011"), None, "", make_id("430603", "19580101", "024")], index=[7, 3, 9, 1])
    out = check_id_numbers(values, today=TODAY)
    assert list(out.index) == [7, 3, 9, 1]
    assert out["status"].tolist() == ["valid", "missing", "missing", "valid"]
    assert out["gender"].tolist() == ["male", None, None, "female"]


def test_age_on():
    assert age_on(dt.date(2010, 6, 2), TODAY) == 15 and age_on(dt.date(2010, 6, 1), TODAY) == 16
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17 and age_on(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


# -- completeness rules ---------------------------------------------------------------------------------

ADULT = make_id("110105", "19800101", "013")  # male, 46 on TODAY
ELDER = make_id("110105", "19500505", "024")  # female, 76
CHILD = make_id("430603", "20150801", "031")  # male, 10
TEEN = make_id("430603", "20080101", "042")  # female, 18


def resident(rid, hid, **kw) -> dict:
    base = dict(id=rid, household_id=hid, name=f"居民{rid}", relation="户主", id_number=ADULT, phone="13800000000")
    base.update(kw)
    return base


def run(households, residents, **kw) -> pd.DataFrame:
    return check_completeness(pd.DataFrame(households), pd.DataFrame(residents), as_of=TODAY, **kw)


def rules_of(findings: pd.DataFrame) -> list[tuple]:
    return sorted(zip(findings["rule"], findings["household_id"].astype(object).where(findings["household_id"].notna(), None),
                      findings["resident_id"].astype(object).where(findings["resident_id"].notna(), None)),
                  key=str)


def test_a_clean_record_has_no_findings():
    findings = run([{"id": 1, "grid_code": "A"}], [resident(10, 1)])
    assert findings.empty and list(findings.columns) == list(FINDING_COLUMNS)


def test_household_without_residents():
    findings = run([{"id": 1, "grid_code": "A"}, {"id": 2, "grid_code": "B"}], [resident(10, 1)])
    assert rules_of(findings) == [("household_no_residents", 2, None)]
    assert findings["grid_code"].tolist() == ["B"]


@pytest.mark.parametrize("field, rule", [
    ("name", "missing_name"), ("id_number", "missing_id_number"), ("relation", "missing_relation"), ("phone", "missing_phone"),
])
@pytest.mark.parametrize("blank", [None, "", "  ", float("nan")])
def test_missing_fields(field, rule, blank):
    findings = run([{"id": 1, "grid_code": "A"}], [resident(10, 1, **{field: blank})])
    assert rules_of(findings) == [(rule, 1, 10)]


def test_children_need_no_phone_but_unknown_ages_do():
    rows = [resident(10, 1, id_number=CHILD, phone=None), resident(11, 1, id_number=TEEN, phone=None),
            resident(12, 1, id_number=None, phone=None)]
    findings = run([{"id": 1, "grid_code": "A"}], rows)
    assert [r for r in rules_of(findings) if r[0] == "missing_phone"] == [("missing_phone", 1, 11), ("missing_phone", 1, 12)]
    everyone = check_completeness(pd.DataFrame([{"id": 1, "grid_code": "A"}]), pd.DataFrame(rows), as_of=TODAY,
                                  rules=CompletenessRules(phone_min_age=None))
    assert len(everyone.query("rule == 'missing_phone'")) == 3


def test_id_number_rules():
    wrong_check = ADULT[:-1] + ("0" if ADULT[-1] != "0" else "1")
    rows = [resident(10, 1, id_number=wrong_check), resident(11, 1, id_number="12345"),
            resident(12, 1, id_number=make_id("110105", "19801332", "013")), resident(13, 1, id_number=ADULT[:6] + ADULT[8:17])]
    findings = run([{"id": 1, "grid_code": "A"}], rows)
    assert rules_of(findings) == [("id_birth_date_invalid", 1, 12), ("id_check_digit", 1, 10), ("id_duplicate", 1, 10),
                                  ("id_duplicate", 1, 13), ("id_malformed", 1, 11)]
    check = findings.set_index("rule").loc["id_check_digit"]
    assert check["params"] == {"expected": ADULT[-1]} and check["message_key"] == "todo.id_check_digit"
    assert findings.set_index("rule").loc["id_malformed", "params"] == {"length": 5}


def test_the_15_and_18_digit_forms_of_one_person_are_one_id():
    legacy = "110105491231002"
    rows = [resident(10, 1, id_number=legacy), resident(20, 2, id_number="11010519491231002X")]
    findings = run([{"id": 1, "grid_code": "A"}, {"id": 2, "grid_code": "B"}], rows)
    dup = findings.query("rule == 'id_duplicate'")
    assert dup["resident_id"].tolist() == [10, 20]
    assert dup["params"].tolist() == [{"count": 2, "households": 2}] * 2


def test_birth_date_age_and_gender_against_the_id():
    rows = [
        resident(10, 1, id_number=ADULT, birth_date=dt.date(1980, 1, 1), age=46, gender="男"),  # all agree
        resident(11, 1, id_number=ELDER, birth_date="1950-05-06", age=75, gender="女"),  # birth date off by a day; age within 1
        resident(12, 1, id_number=TEEN, birth_date=None, age=12, gender="male"),  # age off by 6, gender wrong
        resident(13, 1, id_number=None, birth_date="1990-01-01", age=3, gender="女"),  # no ID: nothing to compare
    ]
    findings = run([{"id": 1, "grid_code": "A"}], rows)
    assert rules_of(findings) == [("id_age_mismatch", 1, 12), ("id_birth_mismatch", 1, 11), ("id_gender_mismatch", 1, 12),
                                  ("missing_id_number", 1, 13)]
    assert findings.set_index("rule").loc["id_age_mismatch", "params"] == {"recorded": 12, "from_id": 18}


def test_category_ages_per_resident():
    rows = [
        resident(10, 1, id_number=CHILD, special_kinds=["left_behind_child"]),  # 10: fits
        resident(11, 1, id_number=TEEN, special_kinds=["left_behind_child"]),  # 18: too old
        resident(12, 2, id_number=ELDER, special_kinds=["empty_nest"]),  # 76: fits
        resident(13, 2, id_number=ADULT, special_kinds=["empty_nest"]),  # 46: too young
    ]
    findings = run([{"id": 1, "grid_code": "A"}, {"id": 2, "grid_code": "A"}], rows)
    ages = findings.query("rule == 'category_age'")
    assert ages["resident_id"].tolist() == [11, 13]
    assert ages["message_key"].tolist() == ["todo.category_age.child", "todo.category_age.elderly"]
    assert ages["params"].tolist() == [{"kind": "left_behind_child", "age": 18, "limit": 16},
                                       {"kind": "empty_nest", "age": 46, "limit": 60}]


def test_category_ages_per_household_and_configurable_thresholds():
    households = [{"id": 1, "grid_code": "A", "special_kinds": ["left_behind_child"]},
                  {"id": 2, "grid_code": "A", "special_kinds": ["empty_nest"]},
                  {"id": 3, "grid_code": "A", "special_kinds": ["empty_nest"]}]
    rows = [resident(10, 1, id_number=TEEN), resident(11, 1, id_number=ADULT),  # no member under 16
            resident(20, 2, id_number=ADULT, age=None),  # no member 60+
            resident(30, 3, id_number=None, age=None)]  # age unknown: cannot tell
    findings = run(households, rows)
    ages = findings.query("rule == 'category_age'")
    assert list(zip(ages["household_id"], ages["message_key"])) == [(1, "todo.category_age.no_child"), (2, "todo.category_age.no_elderly")]
    relaxed = check_completeness(pd.DataFrame(households), pd.DataFrame(rows), as_of=TODAY,
                                 rules=CompletenessRules(child_max_age=19, elderly_min_age=45))
    assert relaxed.query("rule == 'category_age'").empty


def test_addresses_without_a_household():
    households = pd.DataFrame({"id": [1, 2], "grid_code": ["A", "A"], "address": ["幸福路１号 ", "幸福路2号"]})
    residents = pd.DataFrame([resident(10, 1), resident(20, 2, id_number=ELDER)])
    addresses = pd.DataFrame({"address": ["幸福路 1号", "幸福路3号", None], "grid_code": ["A", "A", "A"]})
    findings = check_completeness(households, residents, as_of=TODAY, addresses=addresses)
    assert findings[["rule", "address", "grid_code"]].values.tolist() == [["address_no_household", "幸福路3号", "A"]]
    keyed = check_completeness(households.assign(address_key=["K1", "K2"]), residents, as_of=TODAY,
                               addresses=pd.DataFrame({"address_key": ["K1", "K9"], "grid_code": ["A", "A"]}))
    assert keyed["address"].tolist() == ["K9"]


def test_findings_carry_no_personal_data():
    rows = [resident(10, 1, name="张三丰", id_number=ADULT[:-1] + "0", phone=None), resident(11, 1, name="李四", id_number="123")]
    findings = run([{"id": 1, "grid_code": "A"}], rows)
    text = findings.astype(str).to_string()
    assert "张三丰" not in text and "李四" not in text and ADULT[:-1] not in text


def test_every_message_key_is_in_the_catalogue_with_its_params():
    households = [{"id": 1, "grid_code": "A", "special_kinds": ["left_behind_child"], "address": "x"},
                  {"id": 2, "grid_code": "A", "special_kinds": ["empty_nest"], "address": "y"}, {"id": 3, "grid_code": "B", "address": "z"}]
    rows = [resident(10, 1, name=None, relation=None, phone=None, id_number=ADULT[:-1] + "0", age=1, gender="女",
                     birth_date="1999-01-01", special_kinds=["empty_nest"]),
            resident(11, 1, id_number="1", special_kinds=[]), resident(12, 2, id_number=make_id("110105", "19801340", "013")),
            resident(13, 2, id_number=None), resident(14, 1, id_number=TEEN, special_kinds=["left_behind_child"], age=30, gender="男"),
            resident(15, 2, id_number=make_id("430603", "20080101", "053"), birth_date="2008-01-02"),
            resident(16, 2, id_number=TEEN)]
    findings = run(households, rows, addresses=pd.DataFrame({"address": ["w"], "grid_code": ["A"]}))
    for key, params in zip(findings["message_key"], findings["params"]):
        assert key in CATALOGUE, key
        assert translate(key, "zh", **params) and translate(key, "en", **params)
    assert {"household_no_residents", "missing_name", "missing_relation", "missing_phone", "id_check_digit", "id_malformed",
            "id_birth_date_invalid", "missing_id_number", "id_age_mismatch", "id_gender_mismatch", "id_birth_mismatch",
            "category_age", "id_duplicate", "address_no_household"} <= set(findings["rule"])


def test_counts_and_todos():
    households = [{"id": 1, "grid_code": "110101001001001001"}, {"id": 2, "grid_code": "110101001001001002"},
                  {"id": 3, "grid_code": "110101001001001002"}]
    rows = [resident(10, 1, phone=None), resident(11, 1, name=None, id_number=ELDER)]
    findings = run(households, rows)
    counts = completeness_counts(findings).set_index("grid_code")
    assert counts.loc["110101001001001001", ["missing_name", "missing_phone", "total"]].tolist() == [1, 1, 2]
    assert counts.loc["110101001001001002", ["household_no_residents", "total"]].tolist() == [2, 2]
    assignments = pd.DataFrame({"staff_id": [1, 9], "grid_code": ["110101001001001001", "110101001001001"],
                                "role": ["micro_worker", "micro_worker"], "start_date": [dt.date(2026, 1, 1)] * 2, "end_date": [None, None]})
    todos = assign_todos(findings, assignments, on=TODAY)
    assert todos.groupby("grid_code")["staff_id"].agg(set).to_dict() == {"110101001001001001": {1}, "110101001001001002": {9}}


def test_only_chosen_rules():
    rows = [resident(10, 1, phone=None, name=None)]
    findings = check_completeness(pd.DataFrame([{"id": 1, "grid_code": "A"}]), pd.DataFrame(rows), as_of=TODAY,
                                  rules=CompletenessRules(rules=("missing_phone",)))
    assert findings["rule"].tolist() == ["missing_phone"]
