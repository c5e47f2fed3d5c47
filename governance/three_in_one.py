"""The three-in-one assessment (三合一考核) of grid workers for a month, quarter or year (pure).

Each worker's total (0–100) combines three components, each first put on a 0–100 scale::

    total = w_d × daily + w_e × evaluation + w_l × leader − deduction × failed spot checks

``daily`` (日常积分)
    The daily points of :func:`governance.assessment.assess_month` (visits, special households
    covered, incidents found and closed, minus overdue incidents and missed visits), averaged
    over the months of the period the worker has figures for, then scaled: with
    ``daily_full_points = None`` (default) the best worker of the period scores 100 and everyone
    ``100 × points / best``; with a number, ``100 × points / daily_full_points`` (points per
    month). Negative points count as 0; the scaled value is capped at 100.
``evaluation`` (群众评价)
    The residents' evaluation score (0–100) of :func:`governance.evaluation.evaluation_report`
    for the rounds of the period. When it is missing or suppressed (fewer than 5 responses),
    the component is left out and its weight is shared out over the other two in proportion
    to their weights; the breakdown says so.
``leader`` (领导评价)
    The leader's overall rating, 0–100: the rating given for the period itself, else the mean
    of the ratings given for its months or quarters. Without one the worker is *pending*: no
    total and no grade until the leader has rated.
``failed spot checks`` (督查)
    Checks of the worker's visits in the period with outcome ``not_visited`` or
    ``details_wrong`` (:mod:`governance.spotcheck`), ``deduction`` points each (default 5).

Defaults: weights 0.5 / 0.3 / 0.2 (validated: non-negative, sum 1); grades ≥ 90 优秀
(excellent), ≥ 75 合格 (qualified), ≥ 60 基本合格 (basic), else 不合格 (unqualified),
graded on the total rounded half-up to two decimals (the number the worker sees). A worker graded
不合格 for a **year** is not eligible for awards that year.

Nothing else is counted, and there is deliberately no input for it: no check-ins, mileage or
GPS tracks, time online, likes, shares or votes (docs/assessment.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from gis.clock import Period, parse_period
from gis.errors import ValidationError
from governance._frames import require_columns, within
from governance.vocab import FAILED_OUTCOMES

__all__ = [
    "COMPONENTS",
    "ThreeInOneWeights",
    "GradeThresholds",
    "ThreeInOneConfig",
    "Component",
    "WorkerBreakdown",
    "ThreeInOneResult",
    "monthly_points",
    "three_in_one",
    "award_ineligible",
]

#: The weighted components, in formula order (codes of ASSESSMENT_COMPONENT_TERMS).
COMPONENTS = ("daily_points", "evaluation", "leader_rating")

Translate = Callable[..., str]


@dataclass(frozen=True)
class ThreeInOneWeights:
    """Weights of daily points, residents' evaluation and the leader's rating (non-negative, sum 1)."""

    daily_points: float = 0.5
    evaluation: float = 0.3
    leader_rating: float = 0.2

    def __post_init__(self) -> None:
        values = asdict(self)
        if any(not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 for v in values.values()):
            raise ValidationError(f"assessment weights {values} are expected to be non-negative numbers",
                                  code="assessment.weights")
        if not math.isclose(sum(values.values()), 1.0, abs_tol=1e-9):
            raise ValidationError(
                f"assessment weights {values} sum to {sum(values.values()):g} but are expected to sum to 1 "
                "(e.g. 0.5, 0.3, 0.2)", code="assessment.weights_sum", params={"total": sum(values.values())},
            )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class GradeThresholds:
    """Lowest total of each grade: ``excellent`` ≥ 90, ``qualified`` ≥ 75, ``basic`` ≥ 60, else unqualified."""

    excellent: float = 90.0
    qualified: float = 75.0
    basic: float = 60.0

    def __post_init__(self) -> None:
        if not 100 >= self.excellent > self.qualified > self.basic >= 0:
            raise ValidationError(
                f"grade thresholds {asdict(self)} are expected to satisfy 100 ≥ excellent > qualified > basic ≥ 0",
                code="assessment.thresholds",
            )

    def grade(self, total: float) -> str:
        """The grade code (:data:`governance.vocab.GRADES`) of a 0–100 total."""
        if total >= self.excellent:
            return "excellent"
        if total >= self.qualified:
            return "qualified"
        if total >= self.basic:
            return "basic"
        return "unqualified"


@dataclass(frozen=True)
class ThreeInOneConfig:
    """Every number of the assessment (see the module docstring)."""

    weights: ThreeInOneWeights = field(default_factory=ThreeInOneWeights)
    thresholds: GradeThresholds = field(default_factory=GradeThresholds)
    #: Points off the total per failed spot check.
    spot_check_deduction: float = 5.0
    #: Daily points per month worth 100; ``None``: the period's best worker scores 100.
    daily_full_points: float | None = None

    def __post_init__(self) -> None:
        if not self.spot_check_deduction >= 0:
            raise ValidationError(f"spot_check_deduction was {self.spot_check_deduction} but is expected to be ≥ 0",
                                  code="assessment.settings")
        if self.daily_full_points is not None and not self.daily_full_points > 0:
            raise ValidationError(f"daily_full_points was {self.daily_full_points} but is expected to be positive (or None)",
                                  code="assessment.settings")

    def as_dict(self) -> dict[str, object]:
        return {
            "weights": self.weights.as_dict(),
            "thresholds": asdict(self.thresholds),
            "spot_check_deduction": self.spot_check_deduction,
            "daily_full_points": self.daily_full_points,
        }


@dataclass(frozen=True)
class Component:
    """One weighted component of a worker's total.

    ``raw`` is the input as given (daily points per month, evaluation score, rating; ``None``
    when missing), ``scaled`` its 0–100 value, ``nominal_weight`` the configured weight,
    ``weight`` the weight applied (shared out when a component is missing) and
    ``contribution = weight × scaled``.
    """

    code: str
    raw: float | None
    scaled: float | None
    nominal_weight: float
    weight: float
    contribution: float
    present: bool


@dataclass(frozen=True)
class WorkerBreakdown:
    """A worker's assessment for a period, as the worker sees it."""

    staff_id: int
    name: str | None
    period: str
    components: tuple[Component, ...]
    failed_checks: int
    deduction_per_check: float
    deduction: float
    total: float | None
    grade: str | None
    award_eligible: bool | None
    pending: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def component(self, code: str) -> Component:
        return next(c for c in self.components if c.code == code)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["components"] = [asdict(c) for c in self.components]
        return out

    def formula(self, translate: Translate, lang: str = "zh") -> str:
        """The worker's formula with their numbers, in ``lang``.

        ``translate`` is :func:`i18n.catalogue.translate` (passed in: the domain layer does not
        import the catalogue). Example (zh)::

            总分 = 0.50 × 日常积分 80.00 + 0.30 × 群众评价 72.50 + 0.20 × 领导评价 85.00 − 5.00 × 督查未通过 1 次 = 73.75
        """
        terms = [
            translate("tio.term", lang, weight=f"{c.weight:.2f}",
                      label=translate(f"assess_component.{c.code}", lang), value=f"{c.scaled:.2f}")
            for c in self.components if c.present
        ]
        text = " + ".join(terms)
        if self.failed_checks:
            text += " − " + translate("tio.deduction", lang, points=f"{self.deduction_per_check:.2f}", count=self.failed_checks)
        total = translate("tio.total", lang)
        if self.total is None:
            result = translate("tio.pending", lang,
                               missing=translate("list.sep", lang).join(translate(f"assess_component.{p}", lang) for p in self.pending))
        else:
            result = f"{self.total:.2f}"
        lines = [f"{total} = {text} = {result}"]
        lines += [translate(f"tio.note.{note}", lang) for note in self.notes]
        return "\n".join(lines)


@dataclass(frozen=True)
class ThreeInOneResult:
    """The assessment of one period.

    ``workers``: one row per worker, best first: ``rank`` (``NA`` while pending), ``staff_id``,
    ``name``, ``daily_points`` (per month), ``daily_scaled``, ``evaluation``, ``leader_rating``,
    ``failed_checks``, ``deduction``, ``total``, ``grade``, ``award_eligible`` (year only),
    ``pending``. ``breakdowns``: ``staff_id`` → :class:`WorkerBreakdown`.
    """

    period: Period
    config: ThreeInOneConfig
    workers: pd.DataFrame
    breakdowns: dict[int, WorkerBreakdown]

    def breakdown(self, staff_id: int) -> WorkerBreakdown:
        return self.breakdowns[int(staff_id)]


def _round2(value: float) -> float:
    """Half-up to two decimals of the shortest decimal form (89.995 → 90.0), as people round."""
    return float(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def monthly_points(assessments: Iterable[object]) -> pd.DataFrame:
    """``staff_id``, ``month``, ``points`` from :class:`governance.assessment.Assessment` results."""
    frames = [
        pd.DataFrame({"staff_id": a.workers["staff_id"].astype("int64"), "month": a.month, "points": a.workers["score"].astype(float)})
        for a in assessments  # type: ignore[attr-defined]
    ]
    if not frames:
        return pd.DataFrame({"staff_id": pd.Series(dtype="int64"), "month": pd.Series(dtype=object), "points": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)


def _leader_ratings(ratings: pd.DataFrame | None, period: Period) -> pd.Series:
    """Rating per staff_id for ``period``: the period's own, else the mean of those inside it."""
    if ratings is None or not len(ratings):
        return pd.Series(dtype=float)
    require_columns(ratings, ("staff_id", "period", "rating"), name="leader_ratings")
    values = pd.to_numeric(ratings["rating"], errors="coerce")
    bad = ratings.loc[values.isna() | (values < 0) | (values > 100)]
    if len(bad):
        rows = [{"staff_id": r.staff_id, "period": r.period, "rating": r.rating} for r in bad.itertuples()]
        raise ValidationError(
            f"leader ratings are expected to be 0–100; {len(rows)} are not: {rows[:5]}", findings=rows,
            code="assessment.ratings_range", params={"count": len(rows)},
        )
    parsed = ratings["period"].map(parse_period)
    frame = pd.DataFrame({"staff_id": ratings["staff_id"].astype("int64"), "rating": values.astype(float),
                          "own": parsed.map(lambda p: p.label == period.label),
                          "inside": parsed.map(lambda p: period.contains(p) and p.label != period.label)})
    own = frame[frame["own"]].groupby("staff_id")["rating"].mean()
    inside = frame[frame["inside"]].groupby("staff_id")["rating"].mean()
    return own.combine_first(inside)


def three_in_one(
    *,
    period: str | Period,
    daily_points: pd.DataFrame,
    leader_ratings: pd.DataFrame | None = None,
    evaluation: pd.DataFrame | None = None,
    spot_checks: pd.DataFrame | None = None,
    staff: pd.DataFrame | None = None,
    config: ThreeInOneConfig | None = None,
    timezone: str = "Asia/Shanghai",
) -> ThreeInOneResult:
    """Assess every worker with daily points in ``period`` (see the module docstring).

    Parameters
    ----------
    period:
        ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``.
    daily_points:
        ``staff_id``, ``month`` (``YYYY-MM``), ``points`` (:func:`monthly_points`); months
        outside the period are ignored. The workers assessed are those with a row in it.
    leader_ratings:
        ``staff_id``, ``period`` (a month, quarter or year label), ``rating`` (0–100).
    evaluation:
        ``staff_id``, ``score`` (0–100; NaN when suppressed) and optionally ``suppressed``:
        :attr:`governance.evaluation.EvaluationReport.workers` of the period's rounds.
    spot_checks:
        ``staff_id``, ``checked_at`` (aware), ``outcome``: every recorded check; those in the
        period count.
    staff:
        ``id``, ``name`` to label workers.
    """
    period = parse_period(period)
    config = config or ThreeInOneConfig()
    require_columns(daily_points, ("staff_id", "month", "points"), name="daily_points")
    in_period = daily_points.loc[daily_points["month"].astype(str).isin(period.months)]
    per_month = in_period.groupby(in_period["staff_id"].astype("int64"))["points"].mean().astype(float)
    staff_ids = pd.Index(sorted(per_month.index), name="staff_id", dtype="int64")

    # daily points on 0–100
    positive = per_month.clip(lower=0.0)
    full = config.daily_full_points if config.daily_full_points is not None else float(positive.max()) if len(positive) else 0.0
    daily_scaled = (positive / full * 100.0).clip(upper=100.0) if full > 0 else positive * 0.0

    # residents' evaluation
    eval_score = pd.Series(np.nan, index=staff_ids)
    if evaluation is not None and len(evaluation):
        require_columns(evaluation, ("staff_id", "score"), name="evaluation")
        scores = pd.to_numeric(evaluation["score"], errors="coerce").astype(float)
        if "suppressed" in evaluation:
            scores = scores.where(~evaluation["suppressed"].fillna(False).astype(bool))
        out_of_range = scores.notna() & ((scores < 0) | (scores > 100))
        if out_of_range.any():
            raise ValidationError(f"evaluation scores are expected to be 0–100; got {sorted(scores[out_of_range].tolist())[:5]}",
                                  code="assessment.scores_range", params={"count": int(out_of_range.sum())})
        eval_score = pd.Series(scores.to_numpy(), index=evaluation["staff_id"].astype("int64")).groupby(level=0).mean().reindex(staff_ids)

    leader = _leader_ratings(leader_ratings, period).reindex(staff_ids)

    # spot checks in the period
    failed = pd.Series(0, index=staff_ids, dtype="int64")
    if spot_checks is not None and len(spot_checks):
        require_columns(spot_checks, ("staff_id", "checked_at", "outcome"), name="spot_checks")
        start, end = period.bounds(timezone)
        mask = within(spot_checks["checked_at"], start, end) & spot_checks["outcome"].isin(FAILED_OUTCOMES)
        counts = spot_checks.loc[mask].groupby(spot_checks.loc[mask, "staff_id"].astype("int64")).size()
        failed = counts.reindex(staff_ids).fillna(0).astype("int64")

    names = staff.set_index("id")["name"] if staff is not None and len(staff) else pd.Series(dtype=object)
    weights = config.weights.as_dict()
    breakdowns: dict[int, WorkerBreakdown] = {}
    rows = []
    for sid in staff_ids:
        raw = {"daily_points": float(per_month[sid]), "evaluation": eval_score[sid], "leader_rating": leader[sid]}
        scaled = {"daily_points": float(daily_scaled[sid]), "evaluation": eval_score[sid], "leader_rating": leader[sid]}
        present = {c: not pd.isna(scaled[c]) for c in COMPONENTS}
        pending = tuple(c for c in ("leader_rating",) if not present[c])
        notes: list[str] = []
        if not present["evaluation"]:
            notes.append("evaluation_missing")
        share = sum(weights[c] for c in COMPONENTS if present[c])
        components = []
        for c in COMPONENTS:
            weight = weights[c] / share if present[c] and share > 0 else 0.0
            value = float(scaled[c]) if present[c] else None
            components.append(Component(
                code=c, raw=None if pd.isna(raw[c]) else float(raw[c]), scaled=value,
                nominal_weight=weights[c], weight=weight,
                contribution=weight * value if value is not None else 0.0, present=present[c],
            ))
        deduction = config.spot_check_deduction * int(failed[sid])
        total = grade = eligible = None
        if not pending:
            total = _round2(max(0.0, sum(c.contribution for c in components) - deduction))
            grade = config.thresholds.grade(total)
            eligible = (grade != "unqualified") if period.kind == "year" else None
        if period.kind == "year" and grade == "unqualified":
            notes.append("award_ineligible")
        name = names.get(sid) if len(names) else None
        breakdown = WorkerBreakdown(
            staff_id=int(sid), name=None if name is None or pd.isna(name) else str(name), period=period.label,
            components=tuple(components), failed_checks=int(failed[sid]),
            deduction_per_check=config.spot_check_deduction, deduction=deduction,
            total=total, grade=grade, award_eligible=eligible, pending=pending, notes=tuple(notes),
        )
        breakdowns[int(sid)] = breakdown
        rows.append({
            "staff_id": int(sid), "name": breakdown.name, "daily_points": raw["daily_points"],
            "daily_scaled": scaled["daily_points"], "evaluation": scaled["evaluation"],
            "leader_rating": scaled["leader_rating"], "failed_checks": int(failed[sid]), "deduction": deduction,
            "total": total, "grade": grade, "award_eligible": eligible, "pending": bool(pending),
        })
    workers = pd.DataFrame(rows, columns=["staff_id", "name", "daily_points", "daily_scaled", "evaluation", "leader_rating",
                                          "failed_checks", "deduction", "total", "grade", "award_eligible", "pending"])
    workers["total"] = workers["total"].astype(float)
    for column in ("evaluation", "leader_rating"):
        workers[column] = workers[column].astype(float)
    workers = workers.sort_values(["pending", "total", "failed_checks", "staff_id"],
                                  ascending=[True, False, True, True], kind="stable", na_position="last").reset_index(drop=True)
    rank = workers["total"].rank(method="min", ascending=False)
    workers.insert(0, "rank", rank.astype("Int64"))
    return ThreeInOneResult(period=period, config=config, workers=workers, breakdowns=breakdowns)


def award_ineligible(result: ThreeInOneResult) -> frozenset[int]:
    """Staff ids graded 不合格 (unqualified) for a year: not eligible for awards (ranking, roster)."""
    if result.period.kind != "year":
        raise ValidationError(f"award eligibility follows from a year's assessment; {result.period.label} is a {result.period.kind}",
                              code="assessment.not_a_year", params={"period": result.period.label})
    return frozenset(int(s) for s in result.workers.loc[result.workers["grade"] == "unqualified", "staff_id"])

