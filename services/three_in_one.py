"""The three-in-one assessment (三合一考核) as use cases: rate a worker, compute a period's ranking,
publish it, and each worker's own breakdown.

The rule is :func:`governance.three_in_one.three_in_one` (what counts: ``docs/assessment.md``); its
inputs are read here: the monthly daily points of :func:`governance.assessment.assess_month` for the
months of the period that have begun, the leaders' ratings, the residents' evaluation of the rounds
of the period (:func:`services.evaluation.period_results`) and the recorded spot checks.

Computing a ranking needs ``view_assessment`` and ``view_evaluation`` (leaders, grid heads,
planners, inspectors, admins); a worker sees their own published breakdown
(:func:`my_result`). Publishing needs ``rate_workers`` and a street-wide account: daily points are
scaled by the best worker of the whole street, so a partial ranking would be a different one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import PermissionDenied, require
from gis import clock
from gis.clock import parse_period
from gis.errors import ValidationError
from gis.plausibility import check_text
from governance.assessment import assess_month
from governance.three_in_one import ThreeInOneConfig, ThreeInOneResult, monthly_points, three_in_one
from store import assessments, audit, spotchecks
from store import governance as gov_store
from store.session import run_in_transaction, unit_of_work

__all__ = ["ThreeInOneInputs", "rate_worker", "ratings", "compute", "publish", "my_result", "published", "ineligible"]


@dataclass(frozen=True)
class ThreeInOneInputs:
    """What a period's assessment was computed from (shown on the page, for the record)."""

    months: tuple[str, ...]
    rounds: int
    ratings: int
    checks: int


def _tz() -> str:
    from gis.settings import get_settings

    return get_settings().timezone


def rate_worker(
    bind: Engine | Connection, actor: Actor, staff_id: int, period: str, rating: float, *, note: str = "",
    expected_version: int | None = None,
) -> int:
    """Record the leader's overall rating (0–100) of ``staff_id`` for ``period``; returns its version."""
    require(actor.role, "rate_workers")
    label = parse_period(period).label
    try:
        value = float(rating)
    except (TypeError, ValueError):
        raise ValidationError(f"rating was {rating!r} but is expected to be a number from 0 to 100",
                              code="assessment.rating_not_number") from None
    if not 0 <= value <= 100:
        raise ValidationError(f"rating was {value:g} but is expected to be from 0 to 100",
                              code="assessment.rating_range", params={"value": value})
    check_text(note or "", what="rating note", kind="text")

    def work(db: Connection) -> int:
        version = assessments.upsert_rating(db, int(staff_id), label, value, note=(note or "").strip(),
                                            expected_version=expected_version)
        return version

    return run_in_transaction(bind, actor, work)


def _started_months(period_months: tuple[str, ...], now: dt.datetime) -> tuple[str, ...]:
    current = clock.local_date(now, _tz()).strftime("%Y-%m")
    return tuple(m for m in period_months if m <= current)


def compute(
    bind: Engine | Connection, actor: Actor, period: str, *, config: ThreeInOneConfig | None = None,
    now: dt.datetime | None = None,
) -> tuple[ThreeInOneResult, ThreeInOneInputs]:
    """The period's three-in-one result for every worker the reader may see."""
    require(actor.role, "view_assessment")
    require(actor.role, "view_evaluation")
    from services.evaluation import period_results

    wanted = parse_period(period)
    now = now or clock.utc_now()
    months = _started_months(wanted.months, now)
    points = []
    with unit_of_work(bind, actor) as db:
        for month in months:
            frames = gov_store.load_frames(db, month=month, timezone=_tz())
            start, end = clock.month_bounds(month, _tz())
            grids = frames["grids"]
            points.append(assess_month(
                households=frames["households"], visits=frames["visits"], assignments=frames["assignments"],
                incidents=frames["incidents"], grids=grids[grids["level"] == grids["level"].max()] if len(grids) else grids,
                staff=frames["staff"], month=month, as_of=min(now, end - dt.timedelta(microseconds=1)), timezone=_tz(),
            ))
        ratings = assessments.ratings(db)
        checks = spotchecks.outcomes(db)
        staff = gov_store.load_staff(db)
    evaluation = period_results(bind, actor, wanted.label)
    result = three_in_one(
        period=wanted, daily_points=monthly_points(points), leader_ratings=ratings[["staff_id", "period", "rating"]],
        evaluation=None if evaluation is None else evaluation.workers[["staff_id", "score", "suppressed"]],
        spot_checks=checks, staff=staff[["id", "name"]], config=config, timezone=_tz(),
    )
    inputs = ThreeInOneInputs(months=months, rounds=0 if evaluation is None else 1, ratings=len(ratings),
                              checks=len(checks))
    return result, inputs


def publish(
    bind: Engine | Connection, actor: Actor, period: str, *, config: ThreeInOneConfig | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Compute the period's result and publish it (each worker then sees their breakdown); rows written."""
    require(actor.role, "rate_workers")
    if not actor.scope.everything:
        raise PermissionDenied(actor.role, "rate_workers")
    result, _inputs = compute(bind, actor, period, config=config, now=now)
    rows = []
    for record in result.workers.to_dict("records"):
        breakdown = result.breakdown(int(record["staff_id"]))
        rows.append({
            "staff_id": int(record["staff_id"]),
            "rank": None if pd.isna(record["rank"]) else int(record["rank"]),
            "total": None if pd.isna(record["total"]) else float(record["total"]),
            # a pending worker has no grade (NaN/NA in the frame): stored as NULL, never as the text 'NaN'
            "grade": None if pd.isna(record["grade"]) else str(record["grade"]),
            "award_eligible": None if pd.isna(record["award_eligible"]) else bool(record["award_eligible"]),
            "pending": bool(record["pending"]),
            "breakdown": breakdown.to_dict(), "config": result.config.as_dict(),
        })

    def work(db: Connection) -> int:
        written = assessments.replace_results(db, result.period.label, rows)
        audit.record(db, "assessment_publish", object_type="assessment_results", row_count=written,
                     details={"period": result.period.label, "config": result.config.as_dict()})
        return written

    return run_in_transaction(bind, actor, work)


def published(bind: Engine | Connection, actor: Actor, period: str) -> pd.DataFrame:
    """The published results of ``period`` the reader may see (ranking order)."""
    require(actor.role, "view_assessment")
    with unit_of_work(bind, actor) as db:
        return assessments.results(db, period=parse_period(period).label)


def my_result(bind: Engine | Connection, actor: Actor, period: str) -> dict | None:
    """The actor's own published result of ``period`` (total, grade, breakdown), or ``None``."""
    require(actor.role, "view_assessment")
    if actor.staff_id is None:
        return None
    with unit_of_work(bind, actor) as db:
        frame = assessments.results(db, period=parse_period(period).label, staff_id=int(actor.staff_id))
    return None if frame.empty else frame.iloc[0].to_dict()


def ineligible(bind: Engine | Connection, actor: Actor, *, years: tuple[str, ...] | None = None) -> dict[int, list[str]]:
    """Workers not eligible for awards (不合格 in a published year): staff id → years (this and last year)."""
    if years is None:
        year = clock.today(_tz()).year
        years = (str(year), str(year - 1))
    with unit_of_work(bind, actor) as db:
        return assessments.ineligible_staff(db, years)


def ratings(bind: Engine | Connection, actor: Actor, period: str) -> pd.DataFrame:
    """The leaders' ratings of ``period`` the rater may see (``staff_id``, ``rating``, ``note``,
    ``rated_by``, ``rated_at``, ``version``: the version a new rating is checked against)."""
    require(actor.role, "rate_workers")
    with unit_of_work(bind, actor) as db:
        return assessments.ratings(db, periods=[parse_period(period).label])
