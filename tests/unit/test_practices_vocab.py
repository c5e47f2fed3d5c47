"""The vocabularies and words of the street's practices (issue #17), and the periods they count in."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gis.clock import Period, parse_period, quarter_label, year_bounds
from gis.errors import ValidationError
from governance import vocab
from i18n.catalogue import CATALOGUE, translate

ROOT = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
NEW = ("eval_question", "grade", "assess_component", "spot_outcome", "check_method", "spot_reason", "task_status",
       "notice_kind", "camera_type", "camera_status", "completeness", "verify_status", "public_step")


@pytest.mark.parametrize("prefix", NEW)
def test_every_code_has_both_labels_in_the_catalogue(prefix):
    vocabulary = vocab.VOCABULARIES[prefix]
    assert len(vocabulary) >= 2
    for term in vocabulary:
        assert CATALOGUE[f"{prefix}.{term.code}"] == {"zh": term.zh, "en": term.en}
        assert term.zh != term.en


def test_vocabulary_keys_do_not_overwrite_literal_catalogue_keys():
    tree = ast.parse((ROOT / "i18n" / "catalogue.py").read_text(encoding="utf-8"))
    literal = next(
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "CATALOGUE"
    )
    keys = {k.value for k in literal.keys}
    generated = {f"{p}.{t.code}" for p, v in vocab.VOCABULARIES.items() for t in v}
    assert keys & generated == set()


def test_the_sets_that_rules_rely_on():
    assert set(vocab.FAILED_OUTCOMES) < set(vocab.SPOT_CHECK_OUTCOMES) and "unreachable" not in vocab.FAILED_OUTCOMES
    assert set(vocab.SCORED_QUESTIONS) < set(vocab.EVALUATION_QUESTION_TERMS.codes)
    assert vocab.GRADES == ("excellent", "qualified", "basic", "unqualified")
    assert vocab.NOTICE_KINDS == ("policy", "police_alert", "public_safety", "jobs", "street_work")
    assert vocab.GRADE_TERMS.label("basic") == "基本合格" and vocab.GRADE_TERMS.parse("不合格") == "unqualified"
    assert vocab.CAMERA_TYPE_TERMS.parse("PTZ") == "dome" and vocab.CAMERA_STATUS_TERMS.parse("维修") == "maintenance"


def test_public_error_keys_exist():
    for key in ("eval.error.malformed", "eval.error.unknown", "eval.error.used", "eval.error.not_open", "eval.error.expired",
                "feedback.error.malformed", "feedback.error.unknown", "code.error.malformed", "code.error.rate_limited"):
        assert translate(key, "zh") and translate(key, "en") and translate(key, "zh") != translate(key, "en")


# -- periods (gis.clock) -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "label", "months"), [
    ("2026-11", "month", "2026-11", ("2026-11",)),
    ("2026-q4", "quarter", "2026-Q4", ("2026-10", "2026-11", "2026-12")),
    ("2026Q1", "quarter", "2026-Q1", ("2026-01", "2026-02", "2026-03")),
    ("2026", "year", "2026", tuple(f"2026-{m:02d}" for m in range(1, 13))),
])
def test_periods(text, kind, label, months):
    period = parse_period(text)
    assert (period.kind, period.label, period.months) == (kind, label, months)
    assert parse_period(period) is period


def test_period_bounds_are_local_midnights():
    start, end = parse_period("2026-Q4").bounds(SH)
    assert (start, end) == (dt.datetime(2026, 10, 1, tzinfo=SH), dt.datetime(2027, 1, 1, tzinfo=SH))
    assert year_bounds(2026, SH) == parse_period("2026").bounds(SH) == year_bounds(dt.date(2026, 7, 1), SH)
    assert parse_period("2026-12").bounds(SH)[1] == dt.datetime(2027, 1, 1, tzinfo=SH)


def test_periods_contain_their_parts():
    year, q4, nov = parse_period("2026"), parse_period("2026-Q4"), parse_period("2026-11")
    assert year.contains(q4) and q4.contains(nov) and year.contains(nov) and q4.contains(q4)
    assert not nov.contains(q4) and not parse_period("2026-Q3").contains(nov)


def test_quarter_labels():
    assert [quarter_label(dt.date(2026, m, 1)) for m in (1, 3, 4, 9, 10, 12)] == ["2026-Q1", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026-Q4"]


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "26", "Q4", "2026-11-01"])
def test_bad_periods_are_refused(text):
    with pytest.raises(ValidationError, match="YYYY-MM"):
        parse_period(text)


def test_period_is_a_value():
    assert parse_period("2026-q4") == Period("quarter", "2026-Q4", dt.date(2026, 10, 1))
