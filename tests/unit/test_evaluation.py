"""Resident evaluation: one response per code, anonymity, results and their suppression."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.errors import ValidationError
from governance.codes import code_hash, normalize_code
from governance.evaluation import (
    CODE_RECORD_COLUMNS,
    RESPONSE_COLUMNS,
    Answers,
    CodeRecord,
    EvaluationAnswerError,
    EvaluationCodeError,
    EvaluationConfig,
    EvaluationResponse,
    EvaluationRound,
    Slip,
    accept_response,
    evaluation_report,
    evaluation_url,
    issue_codes,
    scale_to_100,
    validate_answers,
    validate_round,
)

SH = ZoneInfo("Asia/Shanghai")
L2 = "110101001001001"
A, B, C = L2 + "001", L2 + "002", L2 + "003"
OPENS = dt.datetime(2026, 12, 1, 8, 0, tzinfo=SH)
CLOSES = dt.datetime(2026, 12, 21, 0, 0, tzinfo=SH)
DURING = dt.datetime(2026, 12, 5, 19, 30, tzinfo=SH)
SALT = bytes(range(32))


def _round(**kw) -> EvaluationRound:
    base = dict(id=7, title="2026年第四季度民主测评", period="2026-Q4", grid_codes=(L2,), opens_at=OPENS, closes_at=CLOSES, salt=SALT)
    base.update(kw)
    return validate_round(EvaluationRound(**base))


def _households(order=None) -> pd.DataFrame:
    frame = pd.DataFrame({
        "id": range(1, 14),
        "grid_code": [A] * 6 + [B] * 4 + [C] * 2 + [None],
        "address": [f"幸福路{i}号" for i in range(1, 14)],
    })
    return frame if order is None else frame.iloc[order].reset_index(drop=True)


def _assignments() -> pd.DataFrame:
    return pd.DataFrame({
        "staff_id": [1, 2, 3, 9], "grid_code": [A, B, C, L2],
        "role": ["micro_worker", "micro_worker", "micro_worker", "grid_head"],
        "start_date": [dt.date(2026, 1, 1)] * 4, "end_date": [None] * 4,
    })


def _seeded(seed: int = 1):
    return random.Random(seed).getrandbits


def _record(round_, issued, slip: Slip) -> CodeRecord:
    wanted = code_hash(normalize_code(slip.code, data_chars=15), salt=round_.salt)
    row = issued.records.set_index("code_hash").loc[wanted]
    staff = None if pd.isna(row["staff_id"]) else int(row["staff_id"])
    return CodeRecord(int(row["round_id"]), wanted, row["grid_code"], staff, row["expires_at"], bool(row["used"]))


# -- rounds ----------------------------------------------------------------------------------------


def test_round_is_normalized():
    r = _round(title="  测评  ", period="2026-q4", grid_codes=(B, A, A))
    assert (r.title, r.period, r.grid_codes) == ("测评", "2026-Q4", (A, B))


def test_round_lists_every_problem():
    with pytest.raises(ValidationError) as info:
        validate_round(EvaluationRound(None, "", "2026-13", ("12",), CLOSES, OPENS, questions=("comment",), salt=b"x"))
    fields = {f["field"] for f in info.value.findings}
    assert fields == {"title", "period", "grid_codes", "closes_at", "questions", "salt"}


# -- issuing codes ------------------------------------------------------------------------------------


def test_one_code_per_household_in_scope():
    issued = issue_codes(_round(grid_codes=(A, B)), _households(), _assignments(), randbits=_seeded())
    assert issued.per_grid.set_index("grid_code")["codes"].to_dict() == {A: 6, B: 4}
    assert len(issued.records) == len(issued.slips) == 10
    assert issued.unassigned == 1
    assert issued.records["code_hash"].is_unique
    assert [(s.grid_code, s.number, s.count) for s in issued.slips[:2]] == [(A, 1, 6), (A, 2, 6)]
    assert {s.expires_on for s in issued.slips} == {dt.date(2026, 12, 20)}


def test_codes_record_the_grid_worker():
    issued = issue_codes(_round(), _households(), _assignments(), randbits=_seeded())
    by_grid = issued.records.groupby("grid_code")["staff_id"].agg(lambda s: set(s))
    assert by_grid.to_dict() == {A: {1}, B: {2}, C: {3}}  # the grid head of L2 is not the worker
    no_staff = issue_codes(_round(), _households(), None, randbits=_seeded())
    assert no_staff.records["staff_id"].isna().all()


def test_stored_hash_matches_the_printed_code():
    r = _round()
    issued = issue_codes(r, _households(), _assignments(), randbits=_seeded())
    hashes = {code_hash(normalize_code(s.code, data_chars=15), salt=r.salt) for s in issued.slips}
    assert hashes == set(issued.records["code_hash"])


def test_issuing_needs_a_stored_round():
    with pytest.raises(ValidationError, match="store the round"):
        issue_codes(_round(id=None), _households())


# -- anonymity -----------------------------------------------------------------------------------------


def test_nothing_stored_or_printed_names_a_household():
    issued = issue_codes(_round(), _households(), _assignments(), randbits=_seeded())
    assert tuple(issued.records.columns) == CODE_RECORD_COLUMNS
    assert {f.name for f in dataclasses.fields(Slip)} == {"code", "grid_code", "number", "count", "expires_on"}
    printed = repr([dataclasses.asdict(s) for s in issued.slips]) + issued.records.to_string()
    assert "幸福路" not in printed
    assert {f.name for f in dataclasses.fields(EvaluationResponse)} == set(RESPONSE_COLUMNS)
    assert not {"code", "code_hash", "household_id", "address", "submitted_at"} & set(RESPONSE_COLUMNS)


def test_codes_do_not_depend_on_which_households_or_in_what_order():
    """Same randomness, households shuffled and renumbered: identical records and slips.

    So neither the stored rows nor the slips carry any trace of the household list beyond the
    count per grid: a response cannot be joined back to a household.
    """
    first = issue_codes(_round(), _households(), _assignments(), randbits=_seeded(5))
    shuffled = _households(order=list(np.random.default_rng(3).permutation(13))).assign(id=lambda f: f["id"] * 100 + 17)
    second = issue_codes(_round(), shuffled, _assignments(), randbits=_seeded(5))
    pd.testing.assert_frame_equal(first.records, second.records)
    assert first.slips == second.slips


def test_record_order_is_not_the_household_order():
    issued = issue_codes(_round(), _households(), _assignments(), randbits=_seeded())
    assert issued.records["code_hash"].is_monotonic_increasing


def test_response_keeps_no_code_and_only_the_day():
    r = _round()
    issued = issue_codes(r, _households(), _assignments(), randbits=_seeded())
    slip = issued.slips[0]
    response, used = accept_response(slip.code, r, _record(r, issued, slip), Answers(service=4), now=DURING)
    assert response.submitted_on == dt.date(2026, 12, 5)
    values = " ".join(map(str, response.to_record().values()))
    assert slip.code not in values and used.code_hash not in values


# -- one response per code ----------------------------------------------------------------------------


def test_each_code_answers_once():
    r = _round()
    issued = issue_codes(r, _households(), _assignments(), randbits=_seeded())
    slip = issued.slips[3]
    record = _record(r, issued, slip)
    response, used = accept_response(slip.code.lower(), r, record, Answers(service=5, knows_worker=True, comment=" 很好 "), now=DURING)
    assert (response.grid_code, response.staff_id, response.service, response.comment) == (A, 1, 5, "很好")
    assert used.used and not record.used
    with pytest.raises(EvaluationCodeError) as info:
        accept_response(slip.code, r, used, Answers(service=1), now=DURING)
    assert (info.value.reason, info.value.i18n_key) == ("used", "eval.error.used")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda code, rec, r: (code[:-1] + ("0" if code[-1] != "0" else "1"), rec, r), "malformed"),
        (lambda code, rec, r: (code, None, r), "unknown"),
        (lambda code, rec, r: (code, dataclasses.replace(rec, round_id=8), r), "unknown"),
        (lambda code, rec, r: (code, rec, dataclasses.replace(r, salt=bytes(32))), "unknown"),
        (lambda code, rec, r: (code, dataclasses.replace(rec, used=True, expires_at=OPENS), r), "used"),
    ],
    ids=["typo", "no-record", "other-round", "other-salt", "used-beats-expired"],
)
def test_codes_that_cannot_be_used(mutate, reason):
    r = _round()
    issued = issue_codes(r, _households(), _assignments(), randbits=_seeded())
    slip = issued.slips[0]
    code, record, round_ = mutate(slip.code, _record(r, issued, slip), r)
    with pytest.raises(EvaluationCodeError) as info:
        accept_response(code, round_, record, Answers(service=3), now=DURING)
    assert info.value.reason == reason
    assert info.value.i18n_key == f"eval.error.{reason}"


def test_codes_work_only_while_the_round_is_open():
    r = _round()
    issued = issue_codes(r, _households(), _assignments(), randbits=_seeded())
    slip = issued.slips[0]
    record = _record(r, issued, slip)
    for now, reason in ((OPENS - dt.timedelta(seconds=1), "not_open"), (CLOSES, "expired")):
        with pytest.raises(EvaluationCodeError) as info:
            accept_response(slip.code, r, record, Answers(service=3), now=now)
        assert info.value.reason == reason
    accept_response(slip.code, r, record, Answers(service=3), now=CLOSES - dt.timedelta(seconds=1))


def test_the_code_error_keys_exist_in_the_catalogue():
    from i18n.catalogue import CATALOGUE

    for reason in ("malformed", "unknown", "used", "not_open", "expired", "answers"):
        assert f"eval.error.{reason}" in CATALOGUE


# -- answers -------------------------------------------------------------------------------------------


def test_answers_list_every_problem():
    with pytest.raises(EvaluationAnswerError) as info:
        validate_answers(Answers(service=6, responsiveness=True, resolution=0, knows_worker="yes", comment="x" * 501))
    problems = {(f["question"], f["problem"]) for f in info.value.findings}
    assert problems == {
        ("service", "out_of_scale"), ("responsiveness", "out_of_scale"), ("resolution", "out_of_scale"),
        ("knows_worker", "not_yes_no"), ("comment", "too_long"),
    }


def test_empty_and_unasked_answers_are_refused():
    with pytest.raises(EvaluationAnswerError, match="nothing was answered"):
        validate_answers(Answers(comment="   "))
    with pytest.raises(EvaluationAnswerError, match="not asked"):
        validate_answers(Answers(service=3, comment="好"), questions=("service",))
    assert validate_answers(Answers(knows_worker=False)).knows_worker is False


# -- results --------------------------------------------------------------------------------------------


def _responses(spec) -> pd.DataFrame:
    """spec: (grid, staff, [(service, responsiveness, resolution, knows, comment), ...])."""
    rows = [
        dict(round_id=7, grid_code=g, staff_id=s, submitted_on=dt.date(2026, 12, 5), service=a, responsiveness=b,
             resolution=c, knows_worker=k, comment=t)
        for g, s, answers in spec for a, b, c, k, t in answers
    ]
    return pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS))


def _codes(counts) -> pd.DataFrame:
    return pd.DataFrame([(g, s) for g, s, n in counts for _ in range(n)], columns=["grid_code", "staff_id"])


def test_results_by_hand():
    """Grid A (worker 1): 10 codes, 6 answers.

    service 5,5,4,4,3,3 → mean 4.0; responsiveness 4,4,4,4,4,None → 4.0; resolution 2,2,2,2,2,2 → 2.0;
    score = mean(75, 75, 25) = 58.33…; knows 4 yes of 5 answered → 0.8; response rate 0.6.
    """
    answers = [(5, 4, 2, True, "好"), (5, 4, 2, True, ""), (4, 4, 2, True, "路灯坏了"), (4, 4, 2, False, None),
               (3, 4, 2, True, "a"), (3, None, 2, None, "  ")]
    report = evaluation_report(_responses([(A, 1, answers)]), _codes([(A, 1, 10)]))
    row = report.grids.set_index("grid_code").loc[A]
    assert (row["issued"], row["responses"], row["response_rate"]) == (10, 6, 0.6)
    assert (row["service"], row["responsiveness"], row["resolution"]) == (4.0, 4.0, 2.0)
    assert row["awareness"] == pytest.approx(0.8)
    assert row["score"] == pytest.approx((75 + 75 + 25) / 3)
    assert not row["suppressed"]
    assert report.grid_comments["comment"].tolist() == ["a", "好", "路灯坏了"]
    assert report.workers.set_index("staff_id").loc[1, "score"] == pytest.approx(row["score"])


def test_question_weights_change_the_score():
    answers = [(5, 1, None, None, "")] * 5
    report = evaluation_report(_responses([(A, 1, answers)]), _codes([(A, 1, 5)]),
                               config=EvaluationConfig(question_weights={"service": 3, "responsiveness": 1}))
    assert report.total["score"].iloc[0] == pytest.approx((3 * 100 + 1 * 0) / 4)
    with pytest.raises(ValidationError, match="non-negative"):
        EvaluationConfig(question_weights={"knows_worker": 1})


def test_groups_under_five_are_suppressed_with_their_comments():
    five = [(4, 4, 4, True, "可以")] * 5
    four = [(1, 1, 1, False, "秘密")] * 4
    report = evaluation_report(_responses([(A, 1, five), (B, 2, four)]), _codes([(A, 1, 8), (B, 2, 8)]),
                               config=EvaluationConfig(min_group=4))
    assert not report.grids["suppressed"].any()  # min_group 4: both shown
    report = evaluation_report(_responses([(A, 1, five), (B, 2, four)]), _codes([(A, 1, 8), (B, 2, 8)]))
    grids = report.grids.set_index("grid_code")
    assert grids.loc[B, "suppression"] == "small_group"
    assert grids.loc[B, ["service", "responsiveness", "resolution", "awareness", "score"]].isna().all()
    assert (grids.loc[B, "responses"], grids.loc[B, "response_rate"]) == (4, 0.5)  # counts stay visible
    assert "秘密" not in set(report.grid_comments["comment"]) | set(report.worker_comments["comment"])


def test_an_average_few_residents_answered_is_hidden_on_its_own():
    """A: 6 responses, resolution answered once (2); B: 6 responses, resolution answered 5 times (4).

    A's resolution mean would be that one resident's answer: hidden; and since the total's
    resolution (6 answers) is shown, B's is hidden too (else A's = total − B). Service stays.
    """
    a = [(5, 5, 2, True, "")] + [(5, 5, None, True, "")] * 5
    b = [(3, 3, 4, True, "")] * 5 + [(3, 3, None, True, "")]
    report = evaluation_report(_responses([(A, 1, a), (B, 2, b)]), _codes([(A, 1, 8), (B, 2, 8)]))
    grids = report.grids.set_index("grid_code")
    assert grids["resolution"].isna().all() and not grids["suppressed"].any()
    assert grids["service"].tolist() == [5.0, 3.0]
    assert grids.loc[A, "score"] == 100.0 and grids.loc[B, "score"] == 50.0  # from the shown questions only
    assert report.total["resolution"].iloc[0] == pytest.approx((2 + 4 * 5) / 6)
    assert report.workers["resolution"].isna().all()


def test_a_lone_hidden_group_is_protected_from_subtraction():
    """Total 13 shown; B (2) hidden. Without more, B = total − A − C; so the smallest other (C, 5) goes too."""
    spec = [(A, 1, [(5, 5, 5, True, "")] * 6), (B, 2, [(1, 1, 1, False, "")] * 2), (C, 3, [(3, 3, 3, True, "")] * 5)]
    report = evaluation_report(_responses(spec), _codes([(A, 1, 9), (B, 2, 9), (C, 3, 9)]))
    grids = report.grids.set_index("grid_code")["suppression"].to_dict()
    assert grids == {A: None, B: "small_group", C: "complementary"}
    assert report.workers.set_index("staff_id")["suppression"].to_dict() == {1: None, 2: "small_group", 3: "complementary"}
    assert not report.total["suppressed"].iloc[0]


def test_responses_without_a_worker_are_protected_too():
    spec = [(A, 1, [(5, 5, 5, True, "")] * 6), (B, None, [(1, 1, 1, False, "")] * 1), (C, 3, [(3, 3, 3, True, "")] * 7)]
    codes = pd.DataFrame({"grid_code": [A] * 6 + [B] + [C] * 7, "staff_id": [1] * 6 + [None] + [3] * 7})
    report = evaluation_report(_responses(spec), codes)
    assert report.workers.set_index("staff_id")["suppression"].to_dict() == {1: "complementary", 3: None}


def test_a_grid_and_its_only_worker_are_hidden_together():
    """Equal sizes: without twins the grid view could hide C while the worker view hides worker 1,
    and then total − grid A − worker 3 = B."""
    spec = [(A, 1, [(5, 5, 5, True, "")] * 6), (B, 2, [(1, 1, 1, False, "")] * 2), (C, 3, [(3, 3, 3, True, "")] * 6)]
    report = evaluation_report(_responses(spec), _codes([(A, 1, 9), (B, 2, 9), (C, 3, 9)]))
    grids = report.grids.set_index("grid_code")["suppressed"]
    workers = report.workers.set_index("staff_id")["suppressed"]
    assert grids.tolist() == workers.tolist() and grids.sum() == 2


def test_a_worker_with_two_grids_cannot_reveal_one_of_them():
    spec = [(A, 1, [(5, 5, 5, True, "")] * 7), (B, 1, [(1, 1, 1, False, "")] * 1), (C, 3, [(3, 3, 3, True, "")] * 6)]
    report = evaluation_report(_responses(spec), _codes([(A, 1, 9), (B, 1, 9), (C, 3, 9)]))
    grids = report.grids.set_index("grid_code")["suppression"].to_dict()
    workers = report.workers.set_index("staff_id")["suppression"].to_dict()
    # B (1) hidden → C (6) hides too (total − A − C); worker 1 (8) = A (7) + B (1) is shown → A hides too
    # (greedy: C stays hidden once A is, which over-suppresses but never leaks).
    assert grids == {A: "complementary", B: "small_group", C: "complementary"}
    assert workers == {1: None, 3: "complementary"}  # worker 3 is grid C under another name


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 4), st.integers(0, 9)), min_size=1, max_size=8), st.integers(2, 6))
def test_no_hidden_group_can_be_worked_out(cells, min_group):
    """For every published group split into groups, the hidden parts hold 0 or ≥ min_group responses."""
    spec, counts = [], []
    for grid, staff, n in cells:
        code = L2 + f"{grid:03d}"
        spec.append((code, staff, [(3, 3, 3, True, "")] * n))
        counts.append((code, staff, max(n, 1)))
    responses, codes = _responses(spec), _codes(counts)
    report = evaluation_report(responses, codes, config=EvaluationConfig(min_group=min_group))
    grids = report.grids.set_index("grid_code")
    workers = report.workers.set_index("staff_id")
    total = report.total.iloc[0]
    assert ((grids["responses"] < min_group) <= grids["suppressed"]).all()
    if not total["suppressed"]:
        for frame in (grids, workers):
            hidden = int(frame.loc[frame["suppressed"], "responses"].sum())
            assert hidden == 0 or hidden >= min_group
    pairs = set(zip(codes["grid_code"], codes["staff_id"]))
    for grid in grids.index:  # a grid with one worker who works nowhere else is that worker: same fate
        staff = {s for g, s in pairs if g == grid}
        if len(staff) == 1 and {g for g, s in pairs if s in staff} == {grid}:
            assert grids.loc[grid, "suppressed"] == workers.loc[next(iter(staff)), "suppressed"]
    for staff, row in workers.iterrows():
        mine = {g for g, s in pairs if s == staff}
        exclusive = all({s for g2, s in pairs if g2 == g} == {staff} for g in mine)
        if not row["suppressed"] and exclusive and len(mine) > 1:
            hidden = int(grids.loc[sorted(mine)].query("suppressed")["responses"].sum())
            assert hidden == 0 or hidden >= min_group


def test_scale_to_100():
    assert [scale_to_100(v) for v in (1, 3, 5)] == [0.0, 50.0, 100.0]


def test_evaluation_url():
    assert evaluation_url("https://grid.example.cn/eval") == "https://grid.example.cn/eval"
    assert evaluation_url("https://grid.example.cn/eval", "7kq2m9xd") .endswith("?code=7KQ2-M9XD")
    assert evaluation_url("https://grid.example.cn/eval?round=7", "ABCD").endswith("&code=ABCD")
    with pytest.raises(ValidationError, match="absolute"):
        evaluation_url("/eval", "ABCD")


def test_the_suppression_check_can_fail():
    """Turning suppression off (min_group 1) shows the single answer that the default hides."""
    spec = [(A, 1, [(1, 1, 1, False, "我家的事")])]
    shown = evaluation_report(_responses(spec), _codes([(A, 1, 3)]), config=EvaluationConfig(min_group=1))
    hidden = evaluation_report(_responses(spec), _codes([(A, 1, 3)]))
    assert shown.grids["score"].iloc[0] == 0.0 and "我家的事" in set(shown.grid_comments["comment"])
    assert np.isnan(hidden.grids["score"].iloc[0]) and hidden.grid_comments.empty
