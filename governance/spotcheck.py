"""Supervision spot checks (督查) of a month's visits (pure).

1. **The draw** (:func:`draw_sample`): from the visits of a month, every visit to a special
   household that is *due* for supervision (default: every household with a special kind,
   since those are visited every month), plus ``per_worker`` (default 2) further visits of
   each worker drawn at random without replacement. The draw is stratified per worker and
   reproducible: worker ``w``'s visits are ordered by visit id and drawn with
   ``numpy.random.default_rng([seed, w])``, so the same seed over the same visits gives the
   same sample — and adding another worker's visits does not change it. The seed is a fresh
   63-bit random number unless given; the sample records it, the parameters and a SHA-256
   fingerprint of the population (:meth:`SpotCheckSample.audit_record`) so an auditor can
   re-draw it (:func:`verify_sample`).
2. **Recording outcomes** (:class:`CheckResult`, :func:`validate_result`): ``confirmed``,
   ``not_visited`` (resident says not visited), ``details_wrong``, ``unreachable``; checked by
   ``phone`` or at the ``door``; a note is required unless the visit was confirmed. Failed =
   ``not_visited`` or ``details_wrong`` (``unreachable`` is inconclusive: neither).
3. **Follow-up** (:func:`reminder_task`, :func:`complete_task`): a failed check gives the
   worker a reminder talk (提醒谈话) assigned to a named leader (:func:`responsible_leader`:
   the worker's liaison leader or grid head), open until the leader marks it done with a note.
4. **Repeated failures** (:func:`repeated_failures`): workers with at least 2 failed checks
   within the last 3 months.

Failed checks count in the three-in-one assessment (:mod:`governance.three_in_one`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from gis.clock import local_date, month_bounds, parse_month, require_aware
from gis.errors import GridGovError, ValidationError
from governance._frames import active_on, has_special, require_columns, utc, within
from governance.vocab import (
    CHECK_METHOD_TERMS,
    FAILED_OUTCOMES,
    SPOT_CHECK_OUTCOME_TERMS,
)

__all__ = [
    "ALGORITHM",
    "SpotCheckError",
    "TaskError",
    "DrawParameters",
    "SpotCheckSample",
    "new_seed",
    "draw_sample",
    "verify_sample",
    "CheckResult",
    "validate_result",
    "ReminderTask",
    "reminder_task",
    "complete_task",
    "responsible_leader",
    "check_summary",
    "repeated_failures",
]

#: Name and version of the draw, recorded with every sample: a changed rule gets a new name.
ALGORITHM = "gridgov-spotcheck-1: per worker, visits by id, numpy default_rng([seed, staff_id]).choice without replacement"
VISIT_COLUMNS = ("id", "household_id", "staff_id", "visited_at")
NOTE_MAX_CHARS = 1000


class SpotCheckError(ValidationError):
    """A check result (or draw request) is not valid; ``findings`` lists every problem."""


class TaskError(GridGovError, ValueError):
    """A reminder-talk task cannot change as asked (already done, no note …)."""

    code = "spotcheck.task"


@dataclass(frozen=True)
class DrawParameters:
    """Everything the draw depends on besides the visits (stored with the sample for the audit)."""

    month: str
    per_worker: int
    seed: int
    #: The households whose visits were all checked (as decided at the draw).
    due_households: tuple[int, ...]
    #: How they were chosen: ``special_kinds`` (every special household) or ``listed``.
    due_rule: str = "special_kinds"
    algorithm: str = ALGORITHM


@dataclass(frozen=True)
class SpotCheckSample:
    """A drawn sample.

    Attributes
    ----------
    parameters:
        The draw's :class:`DrawParameters`.
    visits:
        The sampled visits: ``visit_id``, ``staff_id``, ``household_id``, ``grid_code`` (if the
        visits had one), ``visited_at``, ``reason`` (``special_due`` or ``random``), ``order``
        (1-based work order: by worker, due visits first, then in draw order).
    population:
        Visits of the month the sample was drawn from.
    fingerprint:
        SHA-256 of the population's sorted visit ids (the audit checks it is unchanged).
    """

    parameters: DrawParameters
    visits: pd.DataFrame
    population: int
    fingerprint: str

    def audit_record(self) -> dict[str, object]:
        """Plain-JSON description for the audit log: parameters, population, fingerprint, visit ids."""
        params = asdict(self.parameters)
        params["due_households"] = list(self.parameters.due_households)
        return {
            **params,
            "population": self.population,
            "fingerprint": self.fingerprint,
            "visit_ids": [int(v) for v in self.visits["visit_id"]],
            "reasons": list(self.visits["reason"]),
        }

    def to_json(self) -> str:
        return json.dumps(self.audit_record(), ensure_ascii=False, sort_keys=True)


def new_seed() -> int:
    """A fresh 63-bit seed (:func:`secrets.randbits`)."""
    return secrets.randbits(63)


def _fingerprint(ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(str(int(i)) for i in sorted(ids)).encode("ascii")).hexdigest()


def draw_sample(
    visits: pd.DataFrame,
    households: pd.DataFrame,
    *,
    month: str | dt.date,
    per_worker: int = 2,
    seed: int | None = None,
    due_households: Iterable[int] | None = None,
    timezone: str = "Asia/Shanghai",
) -> SpotCheckSample:
    """Draw the month's spot-check sample (see the module docstring).

    Parameters
    ----------
    visits:
        ``id``, ``household_id``, ``staff_id``, ``visited_at`` (aware), optionally ``grid_code``.
    households:
        ``id``, ``special_kinds`` (used when ``due_households`` is ``None``).
    per_worker:
        Random visits per worker besides the due ones (fewer if the worker has fewer).
    seed:
        A recorded seed to reproduce a draw; ``None`` draws a fresh one (:func:`new_seed`).
    due_households:
        Households whose every visit of the month is checked; ``None``: every household with a
        special kind (the set is recorded in the parameters either way).
    """
    require_columns(visits, VISIT_COLUMNS, name="visits")
    if int(per_worker) < 0:
        raise SpotCheckError(f"per_worker was {per_worker} but is expected to be 0 or more", code="spotcheck.settings")
    if seed is None:
        seed = new_seed()
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise SpotCheckError(f"seed was {seed!r} but is expected to be a non-negative integer", code="spotcheck.settings")
    label = f"{parse_month(month):%Y-%m}"
    start, end = month_bounds(label, timezone)
    population = visits.loc[within(visits["visited_at"], start, end)].copy()
    population["id"] = population["id"].astype("int64")
    population["staff_id"] = population["staff_id"].astype("int64")
    population["household_id"] = population["household_id"].astype("int64")
    population = population.sort_values("id", kind="stable").reset_index(drop=True)

    if due_households is None:
        require_columns(households, ("id", "special_kinds"), name="households")
        due = set(households.loc[has_special(households["special_kinds"]), "id"].astype("int64"))
        rule = "special_kinds"
    else:
        due = {int(h) for h in due_households}
        rule = "listed"
    is_due = population["household_id"].isin(due)

    chosen: list[pd.DataFrame] = []
    for staff_id, mine in population.groupby("staff_id", sort=True):
        due_rows = mine.loc[is_due.loc[mine.index]].assign(reason="special_due")
        pool = mine.loc[~is_due.loc[mine.index]]
        take = min(int(per_worker), len(pool))
        rng = np.random.default_rng([int(seed), int(staff_id)])
        picks = rng.choice(len(pool), size=take, replace=False) if take else np.array([], dtype=int)
        random_rows = pool.iloc[picks].assign(reason="random")
        chosen.append(pd.concat([due_rows.sort_values(["visited_at", "id"], kind="stable"), random_rows]))
    columns = ["id", "staff_id", "household_id"] + (["grid_code"] if "grid_code" in population else []) + ["visited_at", "reason"]
    if chosen:
        sample = pd.concat(chosen, ignore_index=True)[columns]
    else:
        sample = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    sample = sample.rename(columns={"id": "visit_id"})
    sample.insert(len(sample.columns), "order", np.arange(1, len(sample) + 1))
    return SpotCheckSample(
        parameters=DrawParameters(label, int(per_worker), int(seed), tuple(sorted(due)), rule),
        visits=sample.reset_index(drop=True),
        population=len(population),
        fingerprint=_fingerprint(population["id"]),
    )


def verify_sample(sample: SpotCheckSample, visits: pd.DataFrame, *, timezone: str = "Asia/Shanghai") -> list[str]:
    """Re-draw ``sample`` from its recorded parameters (seed, per-worker count, the recorded due
    households) over ``visits``; the differences found (empty: the draw is reproduced)."""
    p = sample.parameters
    if p.algorithm != ALGORITHM:
        return [f"the sample was drawn with {p.algorithm!r}; this version draws with {ALGORITHM!r}"]
    again = draw_sample(visits, pd.DataFrame({"id": [], "special_kinds": []}), month=p.month,
                        per_worker=p.per_worker, seed=p.seed, due_households=p.due_households, timezone=timezone)
    problems = []
    if again.fingerprint != sample.fingerprint:
        problems.append(f"the month's visits changed since the draw ({sample.population} then, {again.population} now)")
    if again.visits["visit_id"].tolist() != sample.visits["visit_id"].tolist():
        problems.append("the re-drawn visits differ from the recorded sample")
    return problems


# -- outcomes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one sampled visit."""

    visit_id: int
    staff_id: int
    outcome: str
    method: str
    checked_at: dt.datetime
    inspector: str
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


def validate_result(result: CheckResult, *, sample: SpotCheckSample | None = None, now: dt.datetime | None = None) -> CheckResult:
    """Check a result; raise :class:`SpotCheckError` listing every problem, else return it normalized.

    Outcome and method may be given as codes or labels (parsed with the vocabularies); the
    note is required unless the outcome is ``confirmed``; with ``sample`` the visit must be
    in it (for the same worker); ``checked_at`` is aware and not after ``now``.
    """
    problems: list[dict[str, str]] = []
    outcome = SPOT_CHECK_OUTCOME_TERMS.parse(result.outcome)
    method = CHECK_METHOD_TERMS.parse(result.method)
    if outcome is None:
        problems.append({"field": "outcome", "message": f"outcome {result.outcome!r} is unknown; expected {SPOT_CHECK_OUTCOME_TERMS.accepted()}"})
    if method is None:
        problems.append({"field": "method", "message": f"method {result.method!r} is unknown; expected {CHECK_METHOD_TERMS.accepted()}"})
    note = (result.note or "").strip()
    if outcome not in (None, "confirmed") and not note:
        problems.append({"field": "note", "message": "say what was found: a note is required unless the visit was confirmed"})
    if len(note) > NOTE_MAX_CHARS:
        problems.append({"field": "note", "message": f"the note has {len(note)} characters; at most {NOTE_MAX_CHARS}"})
    if not (result.inspector or "").strip():
        problems.append({"field": "inspector", "message": "the inspector is not named"})
    try:
        require_aware(result.checked_at, name="checked_at")
        if now is not None and result.checked_at > require_aware(now, name="now") + dt.timedelta(minutes=5):
            problems.append({"field": "checked_at", "message": f"checked_at {result.checked_at.isoformat()} is in the future"})
    except ValidationError as exc:
        problems.append({"field": "checked_at", "message": str(exc)})
    if sample is not None:
        rows = sample.visits.loc[sample.visits["visit_id"] == result.visit_id]
        if not len(rows):
            problems.append({"field": "visit_id", "message": f"visit {result.visit_id} is not in the {sample.parameters.month} sample"})
        elif int(rows["staff_id"].iloc[0]) != int(result.staff_id):
            problems.append({"field": "staff_id", "message": f"visit {result.visit_id} was made by staff {int(rows['staff_id'].iloc[0])}, not {result.staff_id}"})
    if problems:
        raise SpotCheckError("spot-check result is not valid: " + "; ".join(p["message"] for p in problems), findings=problems,
                             code="spotcheck.result_invalid", params={"fields": sorted({p["field"] for p in problems})})
    return replace(result, outcome=outcome, method=method, note=note, inspector=result.inspector.strip())


@dataclass(frozen=True)
class ReminderTask:
    """A reminder talk (提醒谈话) a leader holds with a worker after a failed check."""

    visit_id: int
    staff_id: int
    leader_id: int
    leader_name: str
    created_at: dt.datetime
    status: str = "open"
    done_at: dt.datetime | None = None
    note: str = ""


def reminder_task(result: CheckResult, *, leader_id: int | None, leader_name: str | None, at: dt.datetime) -> ReminderTask | None:
    """The task a failed check creates (``None`` for a check that did not fail).

    Raises
    ------
    TaskError
        The check failed but no leader is named (assign the worker a liaison leader or grid
        head first: :func:`responsible_leader`).
    """
    if not result.failed:
        return None
    if leader_id is None or not (leader_name or "").strip():
        raise TaskError(
            f"visit {result.visit_id} failed its check, but staff {result.staff_id} has no leader to hold the "
            "reminder talk: assign a liaison leader (包联领导) or grid head (网格长) to the worker's grid",
            code="spotcheck.no_leader", params={"visit": result.visit_id},
        )
    return ReminderTask(result.visit_id, int(result.staff_id), int(leader_id), leader_name.strip(), require_aware(at, name="at"))


def complete_task(task: ReminderTask, *, note: str, at: dt.datetime) -> ReminderTask:
    """Mark a reminder talk done with the leader's note (required)."""
    require_aware(at, name="at")
    if task.status == "done":
        raise TaskError(f"the reminder talk for visit {task.visit_id} was already marked done at {task.done_at.isoformat() if task.done_at else '?'}",
                        code="spotcheck.task_done", params={"visit": task.visit_id})
    if not (note or "").strip():
        raise TaskError("say how the reminder talk went: a note is required to mark it done", code="spotcheck.task_note")
    if at < task.created_at:
        raise TaskError(f"done at {at.isoformat()} is before the task was created ({task.created_at.isoformat()})",
                        code="spotcheck.task_before", params={"at": at, "created": task.created_at})
    return replace(task, status="done", done_at=at, note=note.strip())


def responsible_leader(
    grid_code: str, assignments: pd.DataFrame, *, on: dt.date, roles: tuple[str, ...] = ("liaison_leader", "grid_head")
) -> int | None:
    """The leader for a worker's grid: the nearest grid (itself, then its ancestors) with an
    active assignment of the first role in ``roles`` that has one; smallest staff id on ties."""
    require_columns(assignments, ("staff_id", "grid_code", "role", "start_date", "end_date"), name="assignments")
    active = assignments.loc[active_on(assignments, on, on)]
    for role in roles:
        holders = active.loc[active["role"] == role].reset_index(drop=True)
        if not len(holders):
            continue
        targets = holders["grid_code"].astype(str)
        hits = targets[[grid_code.startswith(t) for t in targets]]
        if len(hits):
            depth = hits.str.len()
            best = holders.loc[depth.index[depth == depth.max()], "staff_id"].astype("int64")
            return int(best.min())
    return None


def check_summary(results: pd.DataFrame, *, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Per ``staff_id``: ``checks``, ``confirmed``, ``failed``, ``unreachable`` among results with
    ``checked_at`` in ``[start, end)``."""
    require_columns(results, ("staff_id", "outcome", "checked_at"), name="results")
    rows = results.loc[within(results["checked_at"], start, end)]
    frame = pd.DataFrame({
        "staff_id": rows["staff_id"].astype("int64"),
        "checks": 1,
        "confirmed": rows["outcome"].eq("confirmed").astype("int64"),
        "failed": rows["outcome"].isin(FAILED_OUTCOMES).astype("int64"),
        "unreachable": rows["outcome"].eq("unreachable").astype("int64"),
    })
    return frame.groupby("staff_id", as_index=False).sum()


def repeated_failures(
    results: pd.DataFrame, *, as_of: dt.datetime, months: int = 3, min_failures: int = 2, timezone: str = "Asia/Shanghai"
) -> pd.DataFrame:
    """Workers with at least ``min_failures`` failed checks in the ``months`` calendar months up to
    the one containing ``as_of``: ``staff_id``, ``failures``, ``first_at``, ``last_at``, ``visit_ids``
    (most failures first)."""
    require_columns(results, ("staff_id", "visit_id", "outcome", "checked_at"), name="results")
    require_aware(as_of, name="as_of")
    local = local_date(as_of, timezone).replace(day=1)
    index = local.year * 12 + local.month - 1 - (months - 1)
    first = dt.date(index // 12, index % 12 + 1, 1)
    start = month_bounds(first, timezone)[0]
    failed = results.loc[results["outcome"].isin(FAILED_OUTCOMES) & within(results["checked_at"], start, as_of + dt.timedelta(microseconds=1))]
    failed = failed.assign(_at=utc(failed["checked_at"]), staff_id=failed["staff_id"].astype("int64"))
    grouped = failed.sort_values(["_at", "visit_id"]).groupby("staff_id")
    out = pd.DataFrame({
        "failures": grouped.size(),
        "first_at": grouped["_at"].min(),
        "last_at": grouped["_at"].max(),
        "visit_ids": grouped["visit_id"].agg(lambda s: tuple(int(v) for v in s)),
    }).reset_index()
    out = out.loc[out["failures"] >= min_failures]
    return out.sort_values(["failures", "staff_id"], ascending=[False, True], kind="stable").reset_index(drop=True)

