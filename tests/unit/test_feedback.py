"""Feedback to residents: reference codes and a public status view with no personal data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.feedback import (
    PUBLIC_FIELDS,
    REFERENCE_BITS,
    PublicIncidentStatus,
    ReferenceCodeError,
    format_reference,
    new_reference,
    parse_reference,
    public_status,
    redact_numbers,
)
from governance.vocab import INCIDENT_STATUSES, PUBLIC_STEP_TERMS

SH = ZoneInfo("Asia/Shanghai")
REF = new_reference(randbits=random.Random(3).getrandbits)

PERSONAL = {
    "reporter_name": "张三丰",
    "reporter_phone": "13912345678",
    "phone": "13812345678",
    "address": "幸福路88号3栋2单元501",
    "description": "楼上王五家（电话13700001111）每晚噪音",
    "lon": 113.123456,
    "lat": 29.654321,
    "geom": "POINT(113.123456 29.654321)",
    "reported_by": 987601,
    "assigned_to": 987602,
    "assignee_name": "网格员李四",
    "id_number": "11010519491231002X",
    "grid_code": "110101001001001001",
    "events": [{"note": "已联系张三丰 13912345678", "actor": "李四"}],
    "internal_note": "投诉人情绪激动",
}


def incident(**kw) -> dict:
    base = dict(
        reference=REF, category="public_order", status="dispatched", disposition="research_assign",
        public_reply="已交由社区民警处理，预计一周内回复。",
        reported_at=dt.datetime(2026, 11, 2, 16, 30, tzinfo=dt.UTC),  # 3 Nov 00:30 in Shanghai
        deadline=dt.datetime(2026, 12, 2, 18, 0, tzinfo=SH), closed_at=None,
        updated_at=dt.datetime(2026, 11, 5, 9, 0, tzinfo=SH), **PERSONAL,
    )
    base.update(kw)
    return base


def test_reference_codes():
    assert REFERENCE_BITS >= 50
    assert len(REF) == 12 and format_reference(REF).count("-") == 2
    assert parse_reference(format_reference(REF).lower()) == REF
    with pytest.raises(ReferenceCodeError) as info:
        parse_reference(REF[:-1] + ("0" if REF[-1] != "0" else "1"))
    assert (info.value.reason, info.value.i18n_key) == ("malformed", "feedback.error.malformed")
    assert len({new_reference() for _ in range(1000)}) == 1000


def test_public_view_fields():
    view = public_status(incident())
    assert tuple(f.name for f in dataclasses.fields(PublicIncidentStatus)) == PUBLIC_FIELDS
    assert view.to_dict() == {
        "reference": format_reference(REF), "category": "public_order", "step": "in_progress",
        "steps_done": ["received", "accepted", "in_progress"], "disposition": "research_assign",
        "reply": "已交由社区民警处理，预计一周内回复。", "reported_on": "2026-11-03", "due_on": "2026-12-02",
        "closed_on": None, "updated_on": "2026-11-05",
    }


def _values(view: PublicIncidentStatus) -> str:
    return json.dumps(view.to_dict(), ensure_ascii=False)


@pytest.mark.parametrize("status", INCIDENT_STATUSES)
def test_no_personal_data_in_any_state(status):
    text = _values(public_status(incident(status=status, closed_at=dt.datetime(2026, 11, 20, tzinfo=SH))))
    for key, value in PERSONAL.items():
        for piece in ([value] if not isinstance(value, list) else [v for e in value for v in e.values()]):
            assert str(piece) not in text, (key, piece)
    for fragment in ("113.12", "29.65", "13912345678", "幸福路", "王五", "李四", "张三丰", "110101001001001001"):
        assert fragment not in text


def test_personal_numbers_in_the_reply_are_blanked():
    view = public_status(incident(public_reply="已处理。如有疑问请联系 138 1234 5678 或 +86-13912345678，身份证 11010519491231002X。"))
    assert view.reply == "已处理。如有疑问请联系 *** 或 ***，身份证 ***。"


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True), st.text(alphabet="已处理请联系。，", max_size=10))
def test_any_mobile_number_is_blanked(phone, words):
    assert phone not in redact_numbers(words + phone + words)


def test_dates_and_numbers_that_are_not_personal_stay():
    assert redact_numbers("2026年11月3日处理，共3户，编号A12") == "2026年11月3日处理，共3户，编号A12"


def test_steps_for_the_resident():
    assert {public_status(incident(status=s)).step for s in INCIDENT_STATUSES} <= set(PUBLIC_STEP_TERMS.codes)
    closed = public_status(incident(status="closed", closed_at=dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)))
    assert closed.steps_done == ("received", "accepted", "in_progress", "handled", "closed")
    assert (closed.closed_on, closed.due_on) == (dt.date(2026, 11, 21), None)
    rejected = public_status(incident(status="rejected"))
    assert rejected.steps_done == ("received", "rejected") and rejected.disposition is None and rejected.due_on is None
    assert public_status(incident(status="reported")).disposition is None
    assert public_status(incident(status="accepted")).step == public_status(incident(status="classified")).step == "accepted"


def test_naive_times_show_no_date():
    assert public_status(incident(reported_at=dt.datetime(2026, 11, 2, 16, 30))).reported_on is None


def test_unknown_records_read_as_not_found():
    for record in (incident(reference=None), incident(status="archived")):
        with pytest.raises(ReferenceCodeError) as info:
            public_status(record)
        assert info.value.i18n_key == "feedback.error.unknown"


def test_the_personal_data_check_can_fail():
    """The same check flags a view that leaks: it is not vacuous."""
    leaky = dataclasses.replace(public_status(incident()), reply=PERSONAL["description"])
    assert PERSONAL["description"] in _values(leaky)
