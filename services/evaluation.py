"""Resident evaluation (民主测评) as use cases: open a round, issue its codes, close it, read results,
and the resident's one response per code (the public page).

The rules are :mod:`governance.evaluation`; the rows are :mod:`store.evaluations`. Opening, issuing
and closing need ``manage_evaluation`` (planners, admins), results ``view_evaluation``; every one is
audited. Slips (the printed codes) exist only in the :class:`~governance.evaluation.IssuedCodes`
returned by :func:`issue_codes`: they are rendered and handed over, never stored or logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from gis import clock
from gis.clock import parse_period
from gis.errors import NotFoundError, ValidationError
from governance.codes import code_hash, normalize_code
from governance.evaluation import (
    CODE_DATA_CHARS,
    QUESTIONS,
    Answers,
    EvaluationCodeError,
    EvaluationConfig,
    EvaluationReport,
    EvaluationResponse,
    EvaluationRound,
    IssuedCodes,
    accept_response,
    check_code,
    evaluation_report,
    validate_round,
)
from governance.evaluation import issue_codes as make_codes
from store import audit, evaluations
from store import governance as gov_store
from store.evaluations import RoundRow
from store.session import acting_as, read_only, run_in_transaction, unit_of_work

__all__ = [
    "RoundResults",
    "open_round",
    "issue_codes",
    "close_round",
    "list_rounds",
    "round_results",
    "period_results",
    "find_code",
    "submit_response",
]


@dataclass(frozen=True)
class RoundResults:
    """A round's results as the reader may see them: the report (suppressed) and the issued counts."""

    round: RoundRow
    report: EvaluationReport
    issued: pd.DataFrame

    def to_dict(self) -> dict[str, object]:
        def rows(frame: pd.DataFrame) -> list[dict[str, object]]:
            clean = frame.astype(object).where(frame.notna(), None)
            return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in clean.to_dict("records")]

        return {"round": self.round.to_dict(), "min_group": self.report.config.min_group,
                "total": rows(self.report.total), "grids": rows(self.report.grids), "workers": rows(self.report.workers),
                "grid_comments": rows(self.report.grid_comments), "worker_comments": rows(self.report.worker_comments)}


def open_round(
    bind: Engine | Connection,
    actor: Actor,
    *,
    title: str,
    period: str,
    grid_codes: Sequence[str],
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    questions: Sequence[str] | None = None,
    min_group: int = 5,
) -> RoundRow:
    """Open a round (validated by :func:`governance.evaluation.validate_round`; its grids must exist)."""
    require(actor.role, "manage_evaluation")
    if int(min_group) < 1:
        raise ValidationError(f"min_group was {min_group} but is expected to be at least 1",
                              code="evaluation.min_group", params={"value": min_group})
    round_ = validate_round(EvaluationRound(
        id=None, title=title, period=period, grid_codes=tuple(grid_codes), opens_at=opens_at, closes_at=closes_at,
        questions=tuple(questions) if questions else QUESTIONS,
    ))

    def work(db: Connection) -> RoundRow:
        known = set(gov_store.load_grids(db)["code"].astype(str))
        missing = [c for c in round_.grid_codes if c not in known]
        if missing:
            raise ValidationError(f"grid(s) {', '.join(missing)} do not exist; the round can only cover current grids",
                                  findings=[{"field": "grid_codes", "grid_code": c} for c in missing],
                                  code="evaluation.grids_unknown", params={"codes": missing})
        round_id = evaluations.insert_round(db, round_, min_group=min_group)
        audit.record(db, "evaluation_open", object_type="evaluation_rounds", object_ids=[round_id],
                     details={"period": round_.period, "grids": list(round_.grid_codes)})
        return evaluations.round_row(db, round_id)

    return run_in_transaction(bind, actor, work)


def issue_codes(
    bind: Engine | Connection, actor: Actor, round_id: int, *, grids: Sequence[str] | None = None,
) -> IssuedCodes:
    """Make one code per household of the round's grids that have none yet (or of ``grids``, which
    must lie in the round and have none yet); store their hashes; return the slips to print.

    Issuing twice for one grid is refused (the codes of a grid are its households' count, the
    denominator of its response rate).
    """
    require(actor.role, "manage_evaluation")

    def work(db: Connection) -> IssuedCodes:
        found = evaluations.public_rounds(db, round_id)
        if not found:
            raise NotFoundError(f"evaluation round {round_id} does not exist", code="evaluation.round_not_found",
                                params={"id": round_id})
        round_, status = found[0]
        if status != "open":
            raise ValidationError(f"evaluation round {round_id} is closed; open a new round to issue codes",
                                  code="evaluation.round_closed", params={"id": round_id})
        wanted = tuple(sorted(set(grids))) if grids else round_.grid_codes
        outside = [g for g in wanted if not any(g.startswith(r) for r in round_.grid_codes)]
        if outside:
            raise ValidationError(f"grid(s) {', '.join(outside)} are not in evaluation round {round_id} "
                                  f"(its grids: {', '.join(round_.grid_codes)})",
                                  code="evaluation.grids_outside",
                                  params={"id": round_id, "codes": outside, "grids": list(round_.grid_codes)})
        issued = evaluations.issued_counts(db, round_id)
        done = sorted({g for g in issued["grid_code"].astype(str) if any(g.startswith(w) for w in wanted)})
        if grids and done:
            raise ValidationError(f"codes were already issued for grid(s) {', '.join(done)} in round {round_id}; "
                                  "each household gets one code per round",
                                  code="evaluation.codes_issued", params={"id": round_id, "codes": done})
        households = evaluations.households_in(db, wanted)
        households = households.loc[~households["grid_code"].astype(str).isin(done)]
        made = make_codes(replace_grids(round_, wanted), households, gov_store.load_assignments(db),
                          timezone=_tz())
        evaluations.insert_codes(db, made.records)
        audit.record(db, "evaluation_codes", object_type="evaluation_rounds", object_ids=[round_id],
                     row_count=len(made.records),
                     details={"per_grid": {str(g): int(n) for g, n in zip(made.per_grid["grid_code"], made.per_grid["codes"])}})
        return made

    return run_in_transaction(bind, actor, work)


def replace_grids(round_: EvaluationRound, grids: Sequence[str]) -> EvaluationRound:
    """``round_`` limited to ``grids`` (inside its own) for one issue run."""
    from dataclasses import replace

    return replace(round_, grid_codes=tuple(grids))


def close_round(bind: Engine | Connection, actor: Actor, round_id: int, *, expected_version: int | None = None) -> RoundRow:
    """Close a round now: its codes expire; results stay."""
    require(actor.role, "manage_evaluation")

    def work(db: Connection) -> RoundRow:
        row = evaluations.close_round(db, round_id, expected_version=expected_version)
        audit.record(db, "evaluation_close", object_type="evaluation_rounds", object_ids=[round_id])
        return row

    return run_in_transaction(bind, actor, work)


def list_rounds(bind: Engine | Connection, actor: Actor) -> list[RoundRow]:
    """Every round, newest first (anyone signed in may see that a round exists)."""
    with read_only(bind, actor) as db:
        return evaluations.list_rounds(db)


def _tz() -> str:
    from gis.settings import get_settings

    return get_settings().timezone


def _issued_frame(issued: pd.DataFrame) -> pd.DataFrame:
    """One row per issued code (``grid_code``, ``staff_id``) from the counts (the report's denominators)."""
    repeat = issued["issued"].to_numpy(dtype="int64")
    return pd.DataFrame({
        "grid_code": np.repeat(issued["grid_code"].astype(str).to_numpy(dtype=object), repeat),
        "staff_id": pd.Series(np.repeat(issued["staff_id"].astype(object).to_numpy(), repeat), dtype=object).astype("Int64"),
    })


def round_results(bind: Engine | Connection, actor: Actor, round_id: int) -> RoundResults:
    """The round's results in the reader's grids: response rates, averages, awareness, score, comments,
    groups under the round's ``min_group`` suppressed (with complementary suppression)."""
    require(actor.role, "view_evaluation")
    with unit_of_work(bind, actor) as db:
        row = evaluations.round_row(db, round_id)
        issued = evaluations.issued_counts(db, round_id)
        answers = evaluations.responses(db, [round_id])
    report = evaluation_report(answers, _issued_frame(issued), config=EvaluationConfig(min_group=row.min_group))
    return RoundResults(round=row, report=report, issued=issued)


def period_results(bind: Engine | Connection, actor: Actor, period: str) -> EvaluationReport | None:
    """The evaluation of every round whose period lies in ``period`` or contains it, pooled (for the
    three-in-one assessment); ``None`` when there is no such round."""
    require(actor.role, "view_evaluation")
    wanted = parse_period(period)
    with unit_of_work(bind, actor) as db:
        rounds = [r for r in evaluations.list_rounds(db)
                  if wanted.contains(parse_period(r.period)) or parse_period(r.period).contains(wanted)]
        if not rounds:
            return None
        issued = pd.concat([evaluations.issued_counts(db, r.id) for r in rounds], ignore_index=True)
        answers = evaluations.responses(db, [r.id for r in rounds])
    return evaluation_report(answers, _issued_frame(issued), config=EvaluationConfig(min_group=min(r.min_group for r in rounds)))


# -- the resident's side (public, no account) -----------------------------------------------------


def find_code(
    bind: Engine | Connection, code_text: object, *, round_id: int | None = None, now: dt.datetime | None = None,
) -> tuple[EvaluationRound, str]:
    """The round a typed code belongs to and its canonical form, checked (not used, not expired …).

    Without ``round_id`` the code is tried against every recent round (its hash is keyed per round).

    Raises
    ------
    EvaluationCodeError
        ``malformed``, ``unknown``, ``used``, ``not_open`` or ``expired`` (the page words it).
    """
    now = now or clock.utc_now()
    code = normalize_code(code_text, data_chars=CODE_DATA_CHARS, error=EvaluationCodeError)
    with acting_as(None), read_only(bind) as db:
        for round_, _status in evaluations.public_rounds(db, round_id):
            record = evaluations.code_record(db, int(round_.id), code_hash(code, salt=round_.salt))
            if record is not None:
                check_code(code, round_, record, now=now)
                return round_, code
    raise EvaluationCodeError("unknown", "no such code in this evaluation round")


def submit_response(
    bind: Engine | Connection, code_text: object, answers: Answers, *, round_id: int | None = None,
    now: dt.datetime | None = None,
) -> EvaluationResponse:
    """Accept one resident's response (no account): the code is checked, the answers validated, and
    the code flipped to used and the response written together — a second submission of the same
    code, even at the same moment, gets ``used``.

    Raises
    ------
    EvaluationCodeError
        The code cannot be used (``malformed``, ``unknown``, ``used``, ``not_open``, ``expired``).
    EvaluationAnswerError
        The answers are not acceptable (each problem listed).
    """
    now = now or clock.utc_now()
    round_, code = find_code(bind, code_text, round_id=round_id, now=now)
    hashed = code_hash(code, salt=round_.salt)

    def work(db: Connection) -> EvaluationResponse:
        record = evaluations.code_record(db, int(round_.id), hashed)
        response, _used = accept_response(code, round_, record, answers, now=now, timezone=_tz())
        outcome = evaluations.submit_response(db, hashed, response)
        if outcome != "ok":
            raise EvaluationCodeError(outcome, f"the code cannot be used: {outcome}")
        return response

    with acting_as(None):
        return run_in_transaction(bind, None, work)
