"""Staff roster rules: the one validation of a staff file, team gaps, contact cards.

Pure functions over frames (no files, no database): :mod:`etl.readers` reads a staff file
into a roster frame and :func:`check_roster` checks it; :mod:`store.bulk` loads it and
:mod:`store.governance` reads it back. The roster frame has one row per assignment::

    staff_key, name, phone, organisation, grid_code, role, start_date, end_date, building_no

(``end_date`` inclusive, ``None`` = open; a row without ``role`` and ``grid_code`` is a
person without an assignment). Grid codes are strings (leading zeros matter). Roles are the
codes of :data:`governance.vocab.STAFF_ROLE_TERMS` (the one role catalogue: files may use
its codes, Chinese or English labels, or aliases). Staff phones are work numbers shown on the
public card (公示栏); residents' personal data never appear here (masking of residents'
data lives in :mod:`access.masking`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from boundaries.coding import CodeScheme, default_scheme
from gis.clock import local_now
from gis.errors import ValidationError
from gis.plausibility import Limits
from governance.vocab import STAFF_ROLE_TERMS, TEAM_ROLES

__all__ = [
    "ROSTER_COLUMNS",
    "TEAM_ROLES",
    "RosterProblem",
    "check_roster",
    "validate_roster",
    "normalize_phone",
    "roster_gaps",
    "active_assignments",
]

#: The columns of a roster frame, in the order files are written (``gridgov export staff``).
ROSTER_COLUMNS = (
    "staff_key",
    "name",
    "phone",
    "organisation",
    "grid_code",
    "role",
    "start_date",
    "end_date",
    "building_no",
)
_TEXT_COLUMNS = ("staff_key", "name", "phone", "organisation", "grid_code", "building_no")

#: Phones of Chinese staff: mobile (optionally with 86), fixed line with area code, or local.
_PHONE = re.compile(r"(86)?1\d{10}|0\d{9,11}|\d{7,8}")

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class RosterProblem:
    """One problem with one roster row.

    ``row`` is the 0-based position of the row among the data rows (spreadsheet line =
    row + 2); ``severity`` is ``"error"`` (the row is refused) or ``"warning"`` (kept).
    """

    row: int
    key: str | None
    column: str
    rule: str
    message: str
    severity: str = ERROR


def _date(value: object) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    stamp = pd.Timestamp(str(value).strip())
    if pd.isna(stamp):
        raise ValueError(value)
    return stamp.date()


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # numbers read from a sheet cell
        text = text[:-2]
    return text or None


def normalize_phone(value: object) -> str | None:
    """A phone as stored: spaces, dashes, dots, brackets and ``+`` removed (``None`` when empty)."""
    text = _text(value)
    return None if text is None else (re.sub(r"[\s\-().+]", "", text) or None)


def check_roster(
    roster: pd.DataFrame, *, scheme: CodeScheme | None = None, limits: Limits | None = None,
    today: dt.date | None = None,
) -> tuple[pd.DataFrame, list[RosterProblem]]:
    """Normalize and check a roster frame; return ``(roster, problems)``, every problem collected.

    ``roster`` has (some of) :data:`ROSTER_COLUMNS`; ``staff_key`` and ``name`` are required.
    The result has exactly :data:`ROSTER_COLUMNS` and the input's index and rows (the
    caller drops the rows with errors): text trimmed, phones normalized
    (:func:`normalize_phone`), roles as codes, dates as :class:`datetime.date`.

    Rules (rule name, severity):

    * ``missing_key``, ``missing_name`` (error): every row names a person;
    * ``staff_name_conflict``, ``staff_detail_conflict`` (error): one ``staff_key`` is one
      person: the same name on every row, and no two different phones or organisations;
    * ``unknown_role`` (error): the role is not in :data:`governance.vocab.STAFF_ROLE_TERMS`
      (codes, Chinese and English labels, aliases); the message lists the accepted labels
      in both languages;
    * ``missing_role``, ``missing_grid_code`` (error): an assignment needs both;
    * ``invalid_code`` (error): the grid code does not follow the code scheme;
    * ``bad_date``, ``bad_date_range``, ``end_without_start`` (error);
    * ``before_earliest`` (error): a start or end date before ``GRIDGOV_EARLIEST_DATE``
      (:class:`gis.plausibility.Limits`); ``in_the_future`` (error): a start date after ``today``
      (default: today in ``GRIDGOV_TIMEZONE``; an end date may lie ahead: a planned end);
    * ``bad_phone`` (warning): not a Chinese phone number (kept as given);
    * ``duplicate_assignment`` (warning): the same person, grid, role and start twice.

    Whether a grid exists (and is active for an open assignment) only the database can
    tell: :func:`store.bulk.load_staff` checks it.
    """
    scheme = scheme or default_scheme()
    missing = [c for c in ("staff_key", "name") if c not in roster.columns]
    if missing:
        raise ValidationError(
            f"roster lacks columns {missing}; expected {list(ROSTER_COLUMNS)} (or their Chinese headers)",
            findings=[{"row": 1, "column": c, "problem": "missing column"} for c in missing],
            code="roster.columns_missing", params={"columns": missing},
        )
    frame = roster.reindex(columns=list(ROSTER_COLUMNS))
    limits = limits or Limits.from_settings()
    today = today or local_now().date()
    problems: list[RosterProblem] = []
    rows: list[dict[str, object]] = []
    first_of_key: dict[str, dict[str, object]] = {}
    seen_assignments: dict[tuple[object, ...], int] = {}
    for position, record in enumerate(frame.to_dict("records")):
        out: dict[str, object] = {c: _text(record.get(c)) for c in _TEXT_COLUMNS}
        key = out["staff_key"]

        def bad(column: str, rule: str, message: str, severity: str = ERROR) -> None:
            problems.append(RosterProblem(position, key, column, rule, message, severity))  # noqa: B023

        if not key:
            bad("staff_key", "missing_key", "no staff id")
        if not out["name"]:
            bad("name", "missing_name", "the name is empty")
        raw_phone = out["phone"]
        out["phone"] = normalize_phone(raw_phone)
        if out["phone"] is not None and not _PHONE.fullmatch(out["phone"]):
            bad("phone", "bad_phone", f"phone {raw_phone!r} is not a Chinese phone number", WARNING)
        role_raw = _text(record.get("role"))
        role = STAFF_ROLE_TERMS.parse(role_raw) if role_raw else None
        if role_raw and role is None:
            bad("role", "unknown_role",
                f"role {role_raw!r} is not a staff role; accepted: {STAFF_ROLE_TERMS.accepted()}")
        out["role"] = role
        code = out["grid_code"]
        if code and not scheme.is_valid(code):
            bad("grid_code", "invalid_code",
                f"grid code {code!r} does not follow the code scheme (digits per level {list(scheme.widths)})")
        if role_raw and not code:
            bad("grid_code", "missing_grid_code", f"role {role_raw!r} needs the grid code it is held in")
        if code and not role_raw:
            bad("role", "missing_role", f"grid {code} needs the role held in it ({STAFF_ROLE_TERMS.accepted()})")
        for col in ("start_date", "end_date"):
            try:
                out[col] = _date(record.get(col))
            except (ValueError, TypeError, OverflowError):
                out[col] = None
                bad(col, "bad_date", f"{col} {record.get(col)!r} is not a date (YYYY-MM-DD)")
        start, end = out["start_date"], out["end_date"]
        for col, day in (("start_date", start), ("end_date", end)):
            if day is not None and day < limits.earliest:  # type: ignore[operator]
                bad(col, "before_earliest",
                    f"{col} {day} is before {limits.earliest}, the earliest date accepted (GRIDGOV_EARLIEST_DATE); "
                    "is the year mistyped?")
        if start is not None and start > today:  # type: ignore[operator]
            bad("start_date", "in_the_future",
                f"start_date {start} is in the future (today is {today}): record an assignment when it begins "
                "(an end date may lie ahead)")
        if start and end and end < start:  # type: ignore[operator]
            bad("end_date", "bad_date_range", f"end date {end} is before the start date {start}")
        if end and not start and _text(record.get("start_date")) is None:
            bad("start_date", "end_without_start", f"an end date ({end}) needs a start date")
        if key:
            first = first_of_key.setdefault(key, out)
            if first is not out:
                if out["name"] and first["name"] and out["name"] != first["name"]:
                    bad("name", "staff_name_conflict",
                        f"staff {key} is named {out['name']!r} here but {first['name']!r} on another row")
                for col in ("phone", "organisation"):
                    if out[col] and first[col] and out[col] != first[col]:
                        bad(col, "staff_detail_conflict",
                            f"staff {key} has {col} {out[col]!r} here but {first[col]!r} on another row")
                    elif out[col] and not first[col]:
                        first[col] = out[col]
            if role and code:
                assignment = (key, code, role, start)
                if assignment in seen_assignments:
                    bad("role", "duplicate_assignment",
                        f"{key} as {role} in {code} from {start or 'the load date'} is listed twice "
                        f"(first on row {seen_assignments[assignment] + 2}); loaded once", WARNING)
                seen_assignments.setdefault(assignment, position)
        rows.append(out)
    result = pd.DataFrame(rows, columns=list(ROSTER_COLUMNS), index=roster.index).astype(object)
    return result.where(result.notna(), None), problems


def validate_roster(roster: pd.DataFrame, *, scheme: CodeScheme | None = None) -> pd.DataFrame:
    """:func:`check_roster`, raising once when any problem is an error.

    Raises
    ------
    ValidationError
        ``findings`` lists ``{"row", "column", "rule", "problem"}`` dicts for the errors
        (``row`` is the spreadsheet line: the header is line 1).
    """
    frame, problems = check_roster(roster, scheme=scheme)
    findings = [
        {"row": p.row + 2, "column": p.column, "rule": p.rule, "problem": p.message}
        for p in problems if p.severity == ERROR
    ]
    if findings:
        head = "; ".join(f"row {f['row']} {f['column']}: {f['problem']}" for f in findings[:5])
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        raise ValidationError(f"roster has {len(findings)} problem(s): {head}{more}", findings=findings,
                              code="roster.rows_invalid", params={"count": len(findings),
                                                                  "rows": sorted({f["row"] for f in findings})[:10]})
    return frame


def active_assignments(roster: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """Rows of ``roster`` whose ``[start_date, end_date]`` (inclusive; open end) contains ``on``."""
    return _active(roster, on)


def _active(roster: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    start = roster["start_date"].map(_date)
    end = roster["end_date"].map(_date)
    mask = start.map(lambda d: d is not None and d <= on) & end.map(lambda d: d is None or d >= on)
    return roster.loc[mask.astype(bool)]


def roster_gaps(grids: pd.DataFrame, roster: pd.DataFrame, *, on: dt.date, scheme: CodeScheme | None = None) -> pd.DataFrame:
    """Missing or doubled roles on ``on`` (one row per problem).

    Rules: every finest-level grid needs each of :data:`TEAM_ROLES` and exactly one
    ``micro_worker``; level-1 grids need a ``liaison_leader`` and a ``grid_head``; grids of
    the levels in between need a ``grid_head``. Assignments on codes that are not current
    grids are reported as ``not_a_current_grid``.

    Parameters
    ----------
    grids:
        Current grids: ``code``, ``name``, ``level``.
    roster:
        Roster frame (``grid_code``, ``role``, ``start_date``, ``end_date``, ``name``).

    Returns
    -------
    DataFrame
        ``grid_code``, ``grid_name``, ``level``, ``role``, ``problem`` (``missing`` |
        ``more_than_one`` | ``not_a_current_grid``), ``active`` (count), ``staff`` (names).
    """
    scheme = scheme or default_scheme()
    finest = scheme.finest_level
    active = _active(roster, on)
    counts = active.groupby(["grid_code", "role"]).agg(active=("name", "size"), staff=("name", lambda s: "、".join(sorted(s))))
    needed = []
    for code, name, level in grids[["code", "name", "level"]].itertuples(index=False):
        level = int(level)
        if level == finest:
            roles = TEAM_ROLES
        elif level == 1:
            roles = ("liaison_leader", "grid_head")
        else:
            roles = ("grid_head",)
        needed.extend((code, name, level, role) for role in roles)
    need = pd.DataFrame(needed, columns=["grid_code", "grid_name", "level", "role"])
    need = need.merge(counts.reset_index(), on=["grid_code", "role"], how="left")
    need["active"] = need["active"].fillna(0).astype("int64")
    need["staff"] = need["staff"].fillna("")
    need["problem"] = None
    need.loc[need["active"] == 0, "problem"] = "missing"
    need.loc[(need["role"] == "micro_worker") & (need["active"] > 1), "problem"] = "more_than_one"
    gaps = need.loc[need["problem"].notna()]
    stray = counts.reset_index()
    stray = stray.loc[~stray["grid_code"].isin(set(grids["code"]))]
    if len(stray):
        stray = stray.assign(grid_name="", level=stray["grid_code"].map(lambda c: len(scheme.parse(c))), problem="not_a_current_grid")
        gaps = pd.concat([gaps, stray], ignore_index=True)
    columns = ["grid_code", "grid_name", "level", "role", "problem", "active", "staff"]
    return gaps[columns].sort_values(["grid_code", "role"], kind="stable").reset_index(drop=True)


