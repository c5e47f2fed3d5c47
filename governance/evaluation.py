"""Resident evaluation (民主测评): rounds, one-time codes, responses and anonymous results (pure).

A planner or admin opens an :class:`EvaluationRound` (a period, the grids in scope, the
questions, an open window). Every household in scope gets one one-time code
(:func:`issue_codes`); a resident opens the public page from the QR code on the slip (or
types the code from the grid's contact card page), answers, and :func:`accept_response`
checks the code and the answers. :func:`evaluation_report` gives the results per worker,
per grid and for the whole round, with small groups suppressed.

Questions (codes of :data:`governance.vocab.EVALUATION_QUESTION_TERMS`)
-----------------------------------------------------------------------
``service``, ``responsiveness``, ``resolution``
    scored 1 (very dissatisfied) … 5 (very satisfied); a resident may skip one.
``knows_worker``
    yes / no: does the household know who its grid worker is (知晓率).
``comment``
    free text, at most :data:`COMMENT_MAX_CHARS` characters.

Anonymity design
----------------
The goal: nobody — worker, leader or database reader — can tell what a given household
answered, and a leader cannot even tell *which* households answered.

1. **No household ↔ code link is ever stored.** :func:`issue_codes` counts the households of
   each grid, makes that many codes for the grid, and returns two things: the printable
   :class:`Slip` list (code, grid, "slip 3 of 41" — no household id, no address) and the
   storable code records (``round_id``, HMAC ``code_hash``, ``grid_code``, ``staff_id``,
   ``expires_at``, ``used``). Slips are handed out one per household by the grid worker or
   building head; which slip went to which door is recorded nowhere. The code records are
   sorted by their hash, so not even the row order follows the household list.
2. **Only a keyed hash of a code is stored** (:func:`governance.codes.code_hash`, keyed with
   the round's random ``salt``). The slip is the only place the code exists.
3. **A response does not carry its code.** The stored :class:`EvaluationResponse` has the
   round, the grid and worker the code was issued for, the answers and the local *date*
   (not the time) of submission; no code, no hash, no address, no household. The code record
   is only flipped to ``used``; it gets no timestamp, so responses cannot be matched to
   codes by time either.
4. **Results suppress small groups**: a group (worker, grid, round total) with fewer than
   ``min_group`` responses (default 5) shows its counts and response rate but no averages,
   no awareness rate, no score and no comments; an average of a question fewer than
   ``min_group`` residents answered is hidden too; and **complementary suppression** makes
   sure a hidden figure cannot be worked out by subtracting published groups from their
   published total (:func:`evaluation_report`).
5. Rate limiting by address (:mod:`governance.ratelimit`) is in memory only; the address is
   never stored with a response.

What the integration must keep: the slips are rendered and handed over without being
persisted or logged; the public page's URL carries the code, so the web server must not log
query strings for that route; the service inserts the response and sets ``used`` in one
transaction with ``UPDATE … WHERE used = false`` so two submissions of one code cannot both
succeed. (A database superuser could still pair a response with its code *hash* by
transaction id; that reveals nothing, because no hash is linked to a household.)

Code entropy: 15 random Crockford base-32 characters (75 bits) plus a check character; with
a few thousand codes per round and at most a few attempts a minute per address, a guess
succeeds with probability ≈ codes / 2^75 per attempt (see :mod:`governance.codes`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd

from boundaries.coding import CodeScheme, InvalidGridCodeError, default_scheme
from gis.clock import local_date, parse_period, require_aware
from gis.errors import ValidationError
from governance._frames import match_prefix, require_columns
from governance.codes import (
    PublicCodeError,
    code_bits,
    code_hash,
    format_code,
    generate_code,
    new_salt,
    normalize_code,
)
from governance.visits import worker_grids
from governance.vocab import EVALUATION_QUESTION_TERMS, SCORED_QUESTIONS

__all__ = [
    "CODE_DATA_CHARS",
    "CODE_BITS",
    "COMMENT_MAX_CHARS",
    "SCALE",
    "QUESTIONS",
    "RESPONSE_COLUMNS",
    "CODE_RECORD_COLUMNS",
    "EvaluationCodeError",
    "EvaluationAnswerError",
    "EvaluationRound",
    "validate_round",
    "Slip",
    "IssuedCodes",
    "issue_codes",
    "evaluation_url",
    "CodeRecord",
    "Answers",
    "validate_answers",
    "EvaluationResponse",
    "check_code",
    "accept_response",
    "EvaluationConfig",
    "EvaluationReport",
    "evaluation_report",
    "scale_to_100",
]

#: Random characters of an evaluation code (5 bits each: 75 bits), plus one check character.
CODE_DATA_CHARS = 15
CODE_BITS = code_bits(CODE_DATA_CHARS)
#: The answer scale of the scored questions.
SCALE = (1, 5)
COMMENT_MAX_CHARS = 500
TITLE_MAX_CHARS = 100
#: Every question, in the order the page asks them.
QUESTIONS = EVALUATION_QUESTION_TERMS.codes
RESPONSE_COLUMNS = (
    "round_id", "grid_code", "staff_id", "submitted_on", *SCORED_QUESTIONS, "knows_worker", "comment",
)
CODE_RECORD_COLUMNS = ("round_id", "code_hash", "grid_code", "staff_id", "expires_at", "used")


class EvaluationCodeError(PublicCodeError):
    """A code cannot be used: ``reason`` is ``malformed``, ``unknown``, ``used``, ``not_open`` or ``expired``.

    The page shows :attr:`i18n_key` (``eval.error.<reason>``) from the catalogue.
    """

    key_prefix = "eval.error"


class EvaluationAnswerError(ValidationError):
    """The answers are not acceptable (``findings`` lists each: question and problem); i18n key ``eval.error.answers``."""

    i18n_key = "eval.error.answers"


# -- rounds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationRound:
    """One evaluation round.

    Attributes
    ----------
    id:
        The stored id (``None`` before it is stored).
    title:
        Shown on the slips and the page (at most 100 characters).
    period:
        What is evaluated: ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY`` (:func:`gis.clock.parse_period`).
    grid_codes:
        The grids in scope (any level; each includes its descendants).
    opens_at, closes_at:
        Aware ``[opens_at, closes_at)`` window in which codes are accepted; codes expire at
        ``closes_at``.
    questions:
        The questions asked (default: all of :data:`QUESTIONS`); at least one scored.
    salt:
        Random key of the code hashes (:func:`governance.codes.new_salt`); stored with the
        round, never shown.
    """

    id: int | None
    title: str
    period: str
    grid_codes: tuple[str, ...]
    opens_at: dt.datetime
    closes_at: dt.datetime
    questions: tuple[str, ...] = QUESTIONS
    salt: bytes = field(default_factory=new_salt, repr=False)


def validate_round(round_: EvaluationRound, *, scheme: CodeScheme | None = None) -> EvaluationRound:
    """Check a round; raise :class:`ValidationError` listing every problem, else return it normalized.

    Normalized: title trimmed, period as its canonical label, grid codes sorted and unique.
    """
    scheme = scheme or default_scheme()
    problems: list[dict[str, str]] = []

    def bad(field_: str, message: str) -> None:
        problems.append({"field": field_, "message": message})

    title = (round_.title or "").strip()
    if not title:
        bad("title", "the round has no title")
    elif len(title) > TITLE_MAX_CHARS:
        bad("title", f"the title has {len(title)} characters; at most {TITLE_MAX_CHARS}")
    period = round_.period
    try:
        period = parse_period(round_.period).label
    except ValidationError as exc:
        bad("period", str(exc))
    codes = tuple(sorted(set(round_.grid_codes or ())))
    if not codes:
        bad("grid_codes", "choose at least one grid for the round")
    for code in codes:
        try:
            scheme.validate(code)
        except InvalidGridCodeError as exc:
            bad("grid_codes", str(exc))
    try:
        require_aware(round_.opens_at, name="opens_at")
        require_aware(round_.closes_at, name="closes_at")
        if round_.closes_at <= round_.opens_at:
            bad("closes_at", f"the round closes ({round_.closes_at.isoformat()}) before it opens ({round_.opens_at.isoformat()})")
    except ValidationError as exc:
        bad("opens_at", str(exc))
    unknown = [q for q in round_.questions if q not in EVALUATION_QUESTION_TERMS]
    if unknown:
        bad("questions", f"unknown questions {unknown}; expected some of {list(QUESTIONS)}")
    if not any(q in SCORED_QUESTIONS for q in round_.questions):
        bad("questions", f"ask at least one scored question ({', '.join(SCORED_QUESTIONS)})")
    if not isinstance(round_.salt, (bytes, bytearray)) or len(round_.salt) < 16:
        bad("salt", "the round's salt is expected to be at least 16 random bytes (governance.codes.new_salt())")
    if problems:
        raise ValidationError(
            "evaluation round is not valid: " + "; ".join(p["message"] for p in problems), findings=problems,
            code="evaluation.round_invalid", params={"fields": sorted({p["field"] for p in problems})},
        )
    ordered = tuple(q for q in QUESTIONS if q in set(round_.questions))
    return replace(round_, title=title, period=period, grid_codes=codes, questions=ordered)


# -- codes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slip:
    """One printable slip: the code (formatted), its grid, and "number of count" within the grid.

    A slip names no household: it is handed to one household of the grid, and which one is
    recorded nowhere. Never store or log slips.
    """

    code: str
    grid_code: str
    number: int
    count: int
    expires_on: dt.date

    def url(self, base_url: str) -> str:
        """The page address the slip's QR code opens (:func:`evaluation_url`)."""
        return evaluation_url(base_url, self.code)


@dataclass(frozen=True)
class IssuedCodes:
    """The codes of one issue run.

    Attributes
    ----------
    records:
        Frame with :data:`CODE_RECORD_COLUMNS`, sorted by ``code_hash``: what is stored.
    slips:
        The printable slips, by grid and number: printed, then discarded.
    per_grid:
        ``grid_code`` → ``codes`` issued (= households in scope in that grid).
    unassigned:
        Households in the input without a grid code (no code made for them).
    """

    records: pd.DataFrame = field(repr=False)
    slips: tuple[Slip, ...] = field(repr=False)
    per_grid: pd.DataFrame
    unassigned: int


def _grid_workers(codes: pd.Series, assignments: pd.DataFrame | None, on: dt.date) -> pd.Series:
    """The micro-grid worker of each code: the deepest assignment covering it, smallest staff id."""
    out = pd.Series(pd.NA, index=codes.index, dtype="Int64")
    if assignments is None or not len(codes):
        return out
    pairs = worker_grids(assignments, on=on)
    if not len(pairs):
        return out
    match = match_prefix(codes, pairs["grid_code"]).merge(pairs, left_on="target", right_on="grid_code")
    match = match.assign(_depth=match["target"].str.len())
    match = match.sort_values(["row", "_depth", "staff_id"], ascending=[True, False, True], kind="stable")
    best = match.drop_duplicates("row")
    out.loc[best["row"].to_numpy()] = best["staff_id"].to_numpy()
    return out


def issue_codes(
    round_: EvaluationRound,
    households: pd.DataFrame,
    assignments: pd.DataFrame | None = None,
    *,
    on: dt.date | None = None,
    timezone: str = "Asia/Shanghai",
    randbits: Callable[[int], int] = secrets.randbits,
) -> IssuedCodes:
    """Make one code per household in the round's grids.

    Parameters
    ----------
    round_:
        A stored round (``id`` set), valid (:func:`validate_round`).
    households:
        Columns ``id`` and ``grid_code`` (micro-grid); other columns are ignored and none is
        carried into the result.
    assignments:
        Staff assignments (``staff_id``, ``grid_code``, ``role``, ``start_date``, ``end_date``):
        each code records the micro-grid worker on ``on`` (default: the local date the round
        opens) so results can be given per worker. ``None``: no worker (per grid only).
    randbits:
        Source of randomness (:func:`secrets.randbits`); tests may inject another.
    """
    if round_.id is None:
        raise ValidationError("store the round before issuing codes: the codes record its id",
                              code="evaluation.round_not_stored")
    require_columns(households, ("id", "grid_code"), name="households")
    on = on or local_date(round_.opens_at, timezone)
    codes = households["grid_code"].astype(object).where(households["grid_code"].notna())
    unassigned = int(codes.isna().sum())
    in_scope = match_prefix(codes.reset_index(drop=True), round_.grid_codes)["row"].unique()
    grid_of = codes.reset_index(drop=True).iloc[np.sort(in_scope)].astype(str)
    counts = grid_of.value_counts().sort_index()
    grids = pd.Series(counts.index.to_numpy(dtype=object), dtype=object)
    workers = _grid_workers(grids, assignments, on)

    seen: set[str] = set()
    rows: list[tuple] = []
    slips: list[Slip] = []
    expires = round_.closes_at
    expires_on = local_date(expires - dt.timedelta(microseconds=1), timezone)
    for position, (grid_code, count) in enumerate(counts.items()):
        made: list[str] = []
        while len(made) < count:
            code = generate_code(CODE_DATA_CHARS, randbits=randbits)
            if code not in seen:  # 75 bits: a repeat is practically impossible, but never issue one twice
                seen.add(code)
                made.append(code)
        made.sort()  # random codes in sorted order: the slip number follows no household order
        staff = workers.iloc[position]
        for number, code in enumerate(made, start=1):
            slips.append(Slip(format_code(code), str(grid_code), number, int(count), expires_on))
            rows.append((round_.id, code_hash(code, salt=round_.salt), str(grid_code), staff, expires, False))
    records = pd.DataFrame(rows, columns=list(CODE_RECORD_COLUMNS))
    records["staff_id"] = records["staff_id"].astype("Int64")
    records = records.sort_values("code_hash", kind="stable").reset_index(drop=True)
    per_grid = pd.DataFrame({"grid_code": counts.index.astype(str), "codes": counts.to_numpy(dtype="int64")})
    return IssuedCodes(records=records, slips=tuple(slips), per_grid=per_grid, unassigned=unassigned)


def evaluation_url(base_url: str, code: str | None = None) -> str:
    """The public evaluation page: ``base_url`` with ``?code=XXXX-…`` when a code is given.

    Without a code (the QR on the grid's contact card) the page asks the resident to type
    the code from their slip.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"base URL {base_url!r} is expected to be an absolute http(s) address",
                              code="evaluation.base_url", params={"url": base_url})
    if code is None:
        return base_url
    separator = "&" if parts.query else "?"
    return f"{base_url}{separator}{urlencode({'code': format_code(code)})}"


# -- responses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRecord:
    """A stored code (the ``evaluation_codes`` row found by the code's hash)."""

    round_id: int
    code_hash: str
    grid_code: str
    staff_id: int | None
    expires_at: dt.datetime
    used: bool = False


@dataclass(frozen=True)
class Answers:
    """What a resident answered: scored questions 1–5 or ``None`` (skipped), yes/no, a comment."""

    service: int | None = None
    responsiveness: int | None = None
    resolution: int | None = None
    knows_worker: bool | None = None
    comment: str = ""


def validate_answers(answers: Answers, *, questions: Iterable[str] = QUESTIONS) -> Answers:
    """Check the answers (raise :class:`EvaluationAnswerError` listing each problem); comment trimmed.

    Scored answers are integers in :data:`SCALE`; answers to questions the round did not ask
    are refused; at least one question must be answered.
    """
    asked = set(questions)
    problems: list[dict[str, str]] = []
    lo, hi = SCALE
    for question in SCORED_QUESTIONS:
        value = getattr(answers, question)
        if value is None:
            continue
        if question not in asked:
            problems.append({"question": question, "problem": "not_asked"})
        elif isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= int(value) <= hi:
            problems.append({"question": question, "problem": "out_of_scale"})
    if answers.knows_worker is not None:
        if "knows_worker" not in asked:
            problems.append({"question": "knows_worker", "problem": "not_asked"})
        elif not isinstance(answers.knows_worker, (bool, np.bool_)):
            problems.append({"question": "knows_worker", "problem": "not_yes_no"})
    comment = (answers.comment or "").strip()
    if comment and "comment" not in asked:
        problems.append({"question": "comment", "problem": "not_asked"})
    if len(comment) > COMMENT_MAX_CHARS:
        problems.append({"question": "comment", "problem": "too_long"})
    empty = all(getattr(answers, q) is None for q in SCORED_QUESTIONS) and answers.knows_worker is None and not comment
    if empty:
        problems.append({"question": "", "problem": "empty"})
    if problems:
        words = {
            "not_asked": "was not asked in this round",
            "out_of_scale": f"is expected to be a whole number from {lo} to {hi}",
            "not_yes_no": "is expected to be yes or no",
            "too_long": f"is longer than {COMMENT_MAX_CHARS} characters",
            "empty": "nothing was answered",
        }
        text = "; ".join(f"{p['question']} {words[p['problem']]}".strip() for p in problems)
        raise EvaluationAnswerError(f"the answers are not valid: {text}", findings=problems, code="evaluation.answers")
    return replace(answers, comment=comment)


@dataclass(frozen=True)
class EvaluationResponse:
    """A stored response (the ``evaluation_responses`` row): no code, no hash, no household, no time."""

    round_id: int
    grid_code: str
    staff_id: int | None
    submitted_on: dt.date
    service: int | None
    responsiveness: int | None
    resolution: int | None
    knows_worker: bool | None
    comment: str

    def to_record(self) -> dict[str, object]:
        return {c: getattr(self, c) for c in RESPONSE_COLUMNS}


def check_code(text: object, round_: EvaluationRound, record: CodeRecord | None, *, now: dt.datetime) -> str:
    """Check a typed code against its stored record; return the canonical code.

    Parameters
    ----------
    text:
        The code as typed or read from the QR code.
    round_:
        The round the page is for.
    record:
        The stored code found by ``code_hash(normalized, salt=round_.salt)``, or ``None``.
    now:
        Aware current time.

    Raises
    ------
    EvaluationCodeError
        ``malformed`` (wrong length, character or check character: a typo), ``unknown`` (no
        such code in this round), ``used`` (already answered), ``not_open`` (before the
        round opens), ``expired`` (the round has closed).
    """
    require_aware(now, name="now")
    code = normalize_code(text, data_chars=CODE_DATA_CHARS, error=EvaluationCodeError)
    if record is None or record.round_id != round_.id or record.code_hash != code_hash(code, salt=round_.salt):
        raise EvaluationCodeError("unknown", "no such code in this evaluation round")
    if record.used:
        raise EvaluationCodeError("used", "this code has already been used; each code answers once")
    if now < round_.opens_at:
        raise EvaluationCodeError(
            "not_open", "the evaluation has not opened yet", params={"opens": round_.opens_at.isoformat()}
        )
    if now >= min(round_.closes_at, record.expires_at):
        raise EvaluationCodeError("expired", "the evaluation has closed; the code has expired")
    return code


def accept_response(
    text: object,
    round_: EvaluationRound,
    record: CodeRecord | None,
    answers: Answers,
    *,
    now: dt.datetime,
    timezone: str = "Asia/Shanghai",
) -> tuple[EvaluationResponse, CodeRecord]:
    """Accept one response: check the code (:func:`check_code`) and the answers.

    Returns the response to store and the code record marked ``used`` (store both in one
    transaction, with ``… WHERE used = false``). A second call with the used record raises
    :class:`EvaluationCodeError` ``used``: one response per code.
    """
    check_code(text, round_, record, now=now)
    if record is None:  # pragma: no cover - check_code refuses a missing record
        raise EvaluationCodeError("unknown", "no such code in this evaluation round")
    clean = validate_answers(answers, questions=round_.questions)
    response = EvaluationResponse(
        round_id=record.round_id,
        grid_code=record.grid_code,
        staff_id=record.staff_id,
        submitted_on=local_date(now, timezone),
        service=clean.service,
        responsiveness=clean.responsiveness,
        resolution=clean.resolution,
        knows_worker=clean.knows_worker,
        comment=clean.comment,
    )
    return response, replace(record, used=True)


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationConfig:
    """How results are computed.

    Attributes
    ----------
    min_group:
        Groups with fewer responses show no averages, score or comments (default 5).
    question_weights:
        Weight of each scored question in the 0–100 score (default equal). ``knows_worker`` is
        reported as the awareness rate (知晓率) and is not part of the score.
    """

    min_group: int = 5
    question_weights: Mapping[str, float] = field(default_factory=lambda: {q: 1.0 for q in SCORED_QUESTIONS})

    def __post_init__(self) -> None:
        if int(self.min_group) < 1:
            raise ValidationError(f"min_group was {self.min_group} but is expected to be at least 1",
                                  code="evaluation.settings")
        unknown = set(self.question_weights) - set(SCORED_QUESTIONS)
        if unknown or any(w < 0 for w in self.question_weights.values()) or not sum(self.question_weights.values()) > 0:
            raise ValidationError(
                f"question weights {dict(self.question_weights)} are expected to be non-negative weights "
                f"of {list(SCORED_QUESTIONS)} with a positive sum", code="evaluation.settings",
            )


def scale_to_100(mean: float | pd.Series) -> float | pd.Series:
    """A mean answer on the 1–5 scale as 0–100: ``(mean − 1) / 4 × 100``."""
    lo, hi = SCALE
    return (mean - lo) / (hi - lo) * 100.0


RESULT_COLUMNS = (
    "issued", "responses", "response_rate", *SCORED_QUESTIONS, "awareness", "score", "suppressed", "suppression",
)


@dataclass(frozen=True)
class EvaluationReport:
    """Results of the responses given.

    Attributes
    ----------
    workers:
        One row per ``staff_id`` (codes issued for a worker), columns :data:`RESULT_COLUMNS`:
        ``issued`` codes, ``responses``, ``response_rate`` (responses / issued), the mean of each
        scored question (1–5), ``awareness`` (share answering yes to ``knows_worker``), ``score``
        (0–100, :func:`scale_to_100` of the weighted question means), ``suppressed`` and
        ``suppression`` (``small_group``: fewer than ``min_group`` responses; ``complementary``:
        hidden so that another hidden group cannot be worked out).
    grids:
        The same per ``grid_code``.
    total:
        The same for every response given (one row, ``key`` = ``"total"``).
    worker_comments, grid_comments:
        ``staff_id`` / ``grid_code`` and ``comment`` of the published groups, sorted by text
        (never by time).
    """

    workers: pd.DataFrame
    grids: pd.DataFrame
    total: pd.DataFrame
    worker_comments: pd.DataFrame
    grid_comments: pd.DataFrame
    config: EvaluationConfig


#: The measures averaged per group: the scored questions and the awareness rate.
MEASURES = (*SCORED_QUESTIONS, "awareness")


def _figures(issued: pd.Series, responses: pd.DataFrame, key: str, keys: pd.Index) -> pd.DataFrame:
    """Counts, and mean and number of answers of every measure (``_n_<measure>``), per key."""
    frame = pd.DataFrame(index=keys)
    frame["issued"] = issued.reindex(keys).fillna(0).astype("int64")
    groups = responses.groupby(key, dropna=True)
    frame["responses"] = groups.size().reindex(keys).fillna(0).astype("int64")
    frame["response_rate"] = (frame["responses"] / frame["issued"].where(frame["issued"] > 0)).astype(float)
    for measure, column in zip(MEASURES, (*SCORED_QUESTIONS, "_aware")):
        frame[measure] = groups[column].mean().reindex(keys).astype(float)
        frame[f"_n_{measure}"] = groups[column].count().reindex(keys).fillna(0).astype("int64")
    return frame


def _score(frame: pd.DataFrame, config: EvaluationConfig) -> pd.Series:
    """0–100: weighted mean of the shown question means (each :func:`scale_to_100`)."""
    weights = pd.Series({q: float(config.question_weights.get(q, 0.0)) for q in SCORED_QUESTIONS})
    means = frame[list(SCORED_QUESTIONS)]
    present = means.notna() & (weights > 0)
    weighted = scale_to_100(means).where(present, 0.0).mul(weights, axis=1).sum(axis=1)
    denominator = present.mul(weights, axis=1).sum(axis=1)
    return (weighted / denominator.where(denominator > 0)).astype(float)


def _suppress(
    sizes: dict[tuple, int],
    partitions: list[tuple[tuple, list[tuple]]],
    min_group: int,
    hidden_always: set[tuple],
    twins: Sequence[tuple[tuple, tuple]] = (),
) -> dict[tuple, str]:
    """Primary and complementary suppression: group → reason for every hidden group.

    A published parent whose hidden children together hold between 1 and ``min_group - 1``
    responses would let those be worked out by subtraction; then the smallest published
    child with responses is hidden too (or, if none, the parent), until no such parent is left.
    ``twins`` are two names of the same responses (a grid with one worker who works nowhere
    else): hiding one hides the other, or the shown twin would give the hidden one away.
    """
    reasons = {g: "small_group" for g, n in sizes.items() if n < min_group and g not in hidden_always}
    hidden = set(reasons) | hidden_always
    changed = True
    while changed:
        changed = False
        for a, b in twins:
            if (a in hidden) != (b in hidden):
                other = b if a in hidden else a
                reasons[other] = reasons.get(a if a in hidden else b, "complementary")
                hidden.add(other)
                changed = True
        for parent, children in partitions:
            if parent in hidden:
                continue
            exposed = sum(sizes[c] for c in children if c in hidden)
            if 0 < exposed < min_group:
                published = [c for c in children if c not in hidden and sizes[c] > 0]
                victim = min(published, key=lambda c: (sizes[c], str(c)), default=parent)
                reasons[victim] = "complementary"
                hidden.add(victim)
                changed = True
    return reasons


def evaluation_report(
    responses: pd.DataFrame, codes: pd.DataFrame, *, config: EvaluationConfig | None = None
) -> EvaluationReport:
    """Results per worker, per grid and in total, with small groups suppressed.

    Parameters
    ----------
    responses:
        Stored responses of the round(s) to pool (:data:`RESPONSE_COLUMNS`; ``submitted_on``
        and ``round_id`` are not used).
    codes:
        The issued codes of the same round(s): ``grid_code``, ``staff_id`` (the denominators
        of the response rates).

    Complementary suppression covers the total split by grids and by workers, a worker split
    by their grids (when no other worker shares those grids), a grid split by its workers
    (when they work nowhere else), and a grid and its only worker as one group; it is not a
    general disclosure-control solver, so publish only these three views of the same responses.
    """
    config = config or EvaluationConfig()
    require_columns(responses, ("grid_code", "staff_id", *SCORED_QUESTIONS, "knows_worker", "comment"), name="responses")
    require_columns(codes, ("grid_code", "staff_id"), name="codes")
    resp = responses.copy()
    resp["grid_code"] = resp["grid_code"].astype(str)
    resp["staff_id"] = pd.to_numeric(resp["staff_id"], errors="coerce").astype("Int64")
    for question in SCORED_QUESTIONS:
        resp[question] = pd.to_numeric(resp[question], errors="coerce").astype(float)
    aware = resp["knows_worker"].map(lambda v: np.nan if v is None or (not isinstance(v, (bool, np.bool_)) and pd.isna(v)) else float(bool(v)))
    resp["_aware"] = aware.astype(float)
    resp["_total"] = "total"
    issued = codes.assign(
        grid_code=codes["grid_code"].astype(str),
        staff_id=pd.to_numeric(codes["staff_id"], errors="coerce").astype("Int64"),
        _total="total",
    )

    grid_keys = pd.Index(sorted(set(issued["grid_code"]) | set(resp["grid_code"])), name="grid_code")
    worker_keys = pd.Index(sorted(set(issued["staff_id"].dropna()) | set(resp["staff_id"].dropna())), name="staff_id", dtype="int64")
    grids = _figures(issued.groupby("grid_code").size(), resp, "grid_code", grid_keys)
    workers = _figures(issued.groupby("staff_id").size(), resp, "staff_id", worker_keys)
    total = _figures(issued.groupby("_total").size(), resp, "_total", pd.Index(["total"], name="key"))
    frames = {"grid": grids, "worker": workers, "total": total}

    def labelled(column: str) -> dict[tuple, int]:
        sizes = {("total",): int(total[column].iloc[0])}
        sizes.update({("grid", g): int(n) for g, n in grids[column].items()})
        sizes.update({("worker", int(w)): int(n) for w, n in workers[column].items()})
        unassigned = resp["staff_id"].isna()
        source = {"responses": unassigned}
        source.update({f"_n_{m}": unassigned & resp[c].notna() for m, c in zip(MEASURES, (*SCORED_QUESTIONS, "_aware"))})
        sizes[("worker", None)] = int(source[column].sum())
        return sizes

    # groups and how they nest, for complementary suppression
    atoms = pd.concat([issued[["grid_code", "staff_id"]], resp[["grid_code", "staff_id"]]]).drop_duplicates()
    partitions: list[tuple[tuple, list[tuple]]] = [
        (("total",), [("grid", g) for g in grid_keys]),
        (("total",), [("worker", int(w)) for w in worker_keys] + [("worker", None)]),
    ]
    workers_of_grid: dict[str, set[int | None]] = {}
    grids_of_worker: dict[int, set[str]] = {}
    for grid, staff in atoms.itertuples(index=False):
        worker = None if pd.isna(staff) else int(staff)
        workers_of_grid.setdefault(grid, set()).add(worker)
        if worker is not None:
            grids_of_worker.setdefault(worker, set()).add(grid)
    for worker, its_grids in sorted(grids_of_worker.items()):
        if len(its_grids) > 1 and all(workers_of_grid[g] == {worker} for g in its_grids):
            partitions.append((("worker", worker), [("grid", g) for g in sorted(its_grids)]))
    twins: list[tuple[tuple, tuple]] = []
    for grid, its_workers in sorted(workers_of_grid.items()):
        if None not in its_workers and all(grids_of_worker[w] == {grid} for w in its_workers):
            if len(its_workers) > 1:
                partitions.append((("grid", grid), [("worker", w) for w in sorted(its_workers)]))
            else:
                twins.append((("grid", grid), ("worker", next(iter(its_workers)))))
    def suppress(column: str) -> dict[tuple, str]:
        return _suppress(labelled(column), partitions, config.min_group, hidden_always={("worker", None)}, twins=twins)

    # a group with too few responses shows no averages at all; and each average on its own
    # needs enough answers (a question most residents skipped could single one out)
    reasons = suppress("responses")
    hidden_measures = {m: set(suppress(f"_n_{m}")) for m in MEASURES}

    def finish(kind: str, key: str) -> pd.DataFrame:
        frame = frames[kind]
        labels = [("total",) if kind == "total" else (kind, k if kind == "grid" else int(k)) for k in frame.index]
        frame["suppression"] = pd.Series([reasons.get(lab) for lab in labels], index=frame.index, dtype=object)
        frame["suppressed"] = frame["suppression"].notna()
        for measure in MEASURES:
            hide = frame["suppressed"].to_numpy() | np.array([lab in hidden_measures[measure] for lab in labels], dtype=bool)
            frame.loc[hide, measure] = np.nan
        frame["score"] = _score(frame, config).where(~frame["suppressed"])
        return frame[list(RESULT_COLUMNS)].rename_axis(key).reset_index()

    def comments(frame: pd.DataFrame, key: str) -> pd.DataFrame:
        shown = set(frame.loc[~frame["suppressed"], key])
        rows = resp.loc[resp[key].isin(shown) & resp["comment"].fillna("").astype(str).str.strip().ne(""), [key, "comment"]]
        rows = rows.assign(comment=rows["comment"].astype(str).str.strip())
        return rows.sort_values([key, "comment"], kind="stable").reset_index(drop=True)

    workers_out = finish("worker", "staff_id")
    workers_out["staff_id"] = workers_out["staff_id"].astype("int64")
    grids_out = finish("grid", "grid_code")
    return EvaluationReport(
        workers=workers_out,
        grids=grids_out,
        total=finish("total", "key"),
        worker_comments=comments(workers_out, "staff_id"),
        grid_comments=comments(grids_out, "grid_code"),
        config=config,
    )
