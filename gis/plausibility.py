"""Plausibility rules for input values: text, counts, moments (pure, vectorized, generic).

A value can be well-formed and still impossible: a name with a NUL byte in it (PostgreSQL text
cannot hold one, and GDAL silently cuts the string there), a household of −3 or 10⁹ people, an
incident reported in 2099 or 1900. Each rule here has one definition, used by every reader
(:mod:`etl.readers`), the command line and the services; the bounds of the domain (how many
people a household may have, which column is which kind of text) are given by the callers
(:mod:`governance.plausibility`).

Rules (``RowProblem.rule``; errors unless noted):

=======================  ====================================================================
``control_character``    a text holds a control character (NUL, other C0/C1 controls, DEL;
                         tab, line feed and carriage return only where the text may span lines)
``text_too_long``        a text is longer than its kind allows (:data:`TEXT_LIMITS`)
``bad_<column>``         a number outside its bounds, not a whole number or not a number at all
                         (e.g. ``bad_members``; never silently replaced)
``in_the_future``        a recorded moment later than now plus the clock-skew allowance
``before_earliest``      a recorded moment before the earliest accepted date
``too_many_vertices``    a geometry with more vertices than :attr:`Limits.max_vertices`
=======================  ====================================================================

Text limits (characters, :data:`TEXT_LIMITS`): ``key`` 100 (ids, codes), ``short`` 100
(building and house numbers, statuses), ``name`` 200 (names, organisations, categories),
``phone`` 40, ``address`` 500, ``text`` 5,000 (descriptions, notes). Moments are aware
datetimes; the earliest date is a local calendar day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gis.errors import ValidationError
from gis.problems import RowProblem

__all__ = [
    "TEXT_LIMITS",
    "MULTILINE_KINDS",
    "Limits",
    "control_character",
    "describe_character",
    "check_text",
    "text_problems",
    "range_problems",
    "check_moment",
    "moment_problems",
    "vertex_problems",
]

#: Most characters a text of each kind may have.
TEXT_LIMITS: dict[str, int] = {
    "key": 100,
    "short": 100,
    "name": 200,
    "phone": 40,
    "address": 500,
    "text": 5_000,
}
#: Kinds of text that may span lines (tab, line feed and carriage return allowed).
MULTILINE_KINDS = frozenset({"address", "text"})

# C0 controls, DEL and C1 controls; the multi-line variant lets \t \n \r through.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NAMES = {0x00: "NUL", 0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return", 0x1B: "ESC", 0x7F: "DEL"}


@dataclass(frozen=True)
class Limits:
    """The configurable bounds: earliest date, clock skew and the size limits of an input file.

    ``earliest`` is a local calendar day (``GRIDGOV_EARLIEST_DATE``); ``skew`` how far in the
    future a recorded moment may lie (``GRIDGOV_CLOCK_SKEW_S``); ``max_file_bytes``,
    ``max_features`` and ``max_vertices`` bound what a file may hold.
    """

    earliest: dt.date = dt.date(2000, 1, 1)
    skew: dt.timedelta = dt.timedelta(seconds=300)
    max_file_bytes: int = 512 * 1024 * 1024
    max_features: int = 2_000_000
    max_vertices: int = 200_000

    @classmethod
    def from_settings(cls) -> "Limits":
        """The limits of :func:`gis.settings.get_settings`."""
        from gis.settings import get_settings

        s = get_settings()
        return cls(earliest=s.earliest_date, skew=dt.timedelta(seconds=s.clock_skew_s),
                   max_file_bytes=s.max_file_mb * 1024 * 1024, max_features=s.max_features,
                   max_vertices=s.max_vertices)

    def earliest_moment(self, tz: Any = None) -> dt.datetime:
        """The start of :attr:`earliest` in the local zone (``GRIDGOV_TIMEZONE``), aware."""
        from gis.clock import start_of_day

        return start_of_day(self.earliest, tz)


def describe_character(ch: str) -> str:
    """``NUL (U+0000)``, ``tab (U+0009)``, ``U+0085`` …: how a message names a character."""
    code = ord(ch)
    name = _NAMES.get(code)
    return f"{name} (U+{code:04X})" if name else f"U+{code:04X}"


def control_character(text: str, *, kind: str = "name") -> tuple[int, str] | None:
    """``(position, character)`` of the first control character ``text`` may not hold, else ``None``."""
    pattern = _CONTROL_MULTILINE if kind in MULTILINE_KINDS else _CONTROL
    match = pattern.search(text)
    return None if match is None else (match.start(), match.group())


def _limit(kind: str) -> int:
    if kind not in TEXT_LIMITS:
        raise ValueError(f"text kind was {kind!r} but is expected to be one of {sorted(TEXT_LIMITS)}")
    return TEXT_LIMITS[kind]


def check_text(value: str | None, *, what: str, kind: str = "name", field: str | None = None) -> str | None:
    """``value`` if it is plausible text of ``kind``, else :class:`ValidationError` naming ``what``.

    For one value given on the command line or in a form (``--description``, a note …). ``field`` is
    the catalogue key of the field's name the pages word the error with (``{field:key}``; default
    ``what`` itself).
    """
    if value is None:
        return None
    limit = _limit(kind)
    found = control_character(value, kind=kind)
    if found is not None:
        raise ValidationError(
            f"{what} contains a control character, {describe_character(found[1])} at position {found[0] + 1}; "
            "control characters are not allowed" + ("" if kind in MULTILINE_KINDS else " (not even tabs or line breaks)"),
            code="text.control_character", params={"field": field or what, "position": found[0] + 1},
        )
    if len(value) > limit:
        raise ValidationError(f"{what} is {len(value):,} characters long; at most {limit:,} are allowed",
                              code="text.too_long", params={"field": field or what, "length": len(value), "limit": limit})
    return value


def _key(keys: Sequence[Any] | None, i: int) -> str | None:
    if keys is None:
        return None
    value = keys[i]
    return None if value is None else str(value)


def text_problems(
    values: pd.Series | Sequence[Any],
    *,
    column: str,
    kind: str = "name",
    keys: Sequence[Any] | None = None,
    rows: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[RowProblem]]:
    """Control characters and over-long texts in one column; ``(rejected mask, problems)``.

    ``values`` are texts or ``None`` (position ``i`` is row ``rows[i]``, default ``i``); each
    problem names the row, the column, the character (and its position) or the length.
    """
    series = pd.Series(list(values), dtype=object) if not isinstance(values, pd.Series) else values.astype(object)
    series = series.reset_index(drop=True)
    n = len(series)
    limit = _limit(kind)
    present = series.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool) if n else np.zeros(0, dtype=bool)
    if not present.any():
        return np.zeros(n, dtype=bool), []
    text = series.where(present, "")
    pattern = _CONTROL_MULTILINE if kind in MULTILINE_KINDS else _CONTROL
    control = text.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)
    lengths = text.str.len().to_numpy(dtype=np.int64)
    long = lengths > limit
    row_of = list(rows) if rows is not None else None
    problems: list[RowProblem] = []
    for i in np.flatnonzero(control | long):
        row = int(row_of[i]) if row_of is not None else int(i)
        if control[i]:
            position, ch = control_character(text.iloc[i], kind=kind)  # type: ignore[misc]
            problems.append(RowProblem(
                row, _key(keys, i), "control_character",
                f"column {column!r} contains a control character, {describe_character(ch)} at position {position + 1}; "
                "control characters are not allowed" + ("" if kind in MULTILINE_KINDS else " in this column"),
            ))
        else:
            problems.append(RowProblem(
                row, _key(keys, i), "text_too_long",
                f"column {column!r} is {int(lengths[i]):,} characters long; at most {limit:,} are allowed",
            ))
    return control | long, problems


def range_problems(
    values: Sequence[Any] | np.ndarray,
    *,
    column: str,
    low: float,
    high: float,
    keys: Sequence[Any] | None = None,
    raw: Sequence[Any] | None = None,
    whole: bool = True,
    unit: str = "",
    rule: str | None = None,
) -> tuple[np.ndarray, list[RowProblem]]:
    """Numbers outside ``[low, high]`` (or not whole numbers when ``whole``); ``(rejected mask, problems)``.

    ``values`` are floats with NaN where the cell is empty; ``raw`` the texts as given (for
    the message and to tell an empty cell from an unparsable one). A value is refused, never
    replaced by a default. ``rule`` defaults to ``bad_<column>``.
    """
    rule = rule or f"bad_{column}"
    numbers = np.asarray(values, dtype=float)
    given = np.array([v is not None and str(v).strip() != "" for v in raw], dtype=bool) if raw is not None \
        else ~np.isnan(numbers)
    unparsable = np.isnan(numbers) & given
    finite = np.isfinite(numbers)
    bad_range = finite & ((numbers < low) | (numbers > high))
    fractional = finite & ~bad_range & (numbers != np.floor(numbers)) if whole else np.zeros(len(numbers), dtype=bool)
    infinite = ~np.isnan(numbers) & ~finite
    problems: list[RowProblem] = []
    bounds = f"{low:g}–{high:g}{(' ' + unit) if unit else ''}"
    for i in np.flatnonzero(unparsable | bad_range | fractional | infinite):
        shown = raw[i] if raw is not None else numbers[i]
        if unparsable[i]:
            problems.append(RowProblem(int(i), _key(keys, i), rule,
                                       f"column {column!r} is {shown!r}, not a number; expected a whole number {bounds}"))
        else:
            what = "not a whole number" if fractional[i] else "out of range"
            problems.append(RowProblem(int(i), _key(keys, i), rule,
                                       f"column {column!r} is {shown!r}, {what}; expected {'a whole number ' if whole else ''}"
                                       f"{bounds} (the row is refused, not corrected)"))
    return unparsable | bad_range | fractional | infinite, problems


def check_moment(
    value: dt.datetime,
    *,
    what: str,
    limits: Limits | None = None,
    now: dt.datetime | None = None,
    field: str | None = None,
) -> dt.datetime:
    """``value`` if it lies between the earliest date and now plus the skew, else :class:`ValidationError`.

    ``field``: the catalogue key of the moment's name for the pages (default ``what``).
    """
    from gis.clock import require_aware, utc_now

    limits = limits or Limits.from_settings()
    require_aware(value, name=what)
    now = now or utc_now()
    latest = now + limits.skew
    if value > latest:
        raise ValidationError(
            f"{what} {value.isoformat(timespec='minutes')} is in the future (now is "
            f"{now.astimezone(value.tzinfo).isoformat(timespec='minutes')}; "
            f"at most {int(limits.skew.total_seconds())} s ahead are accepted for clock differences)",
            code="time.future", params={"field": field or what, "at": value},
        )
    earliest = limits.earliest_moment()
    if value < earliest:
        raise ValidationError(
            f"{what} {value.isoformat(timespec='minutes')} is before {limits.earliest.isoformat()}, the earliest date "
            "accepted (GRIDGOV_EARLIEST_DATE); is the year mistyped?",
            code="time.too_early", params={"field": field or what, "at": value, "earliest": limits.earliest},
        )
    return value


def moment_problems(
    moments: pd.Series,
    *,
    column: str,
    keys: Sequence[Any] | None = None,
    limits: Limits | None = None,
    now: dt.datetime | None = None,
) -> tuple[np.ndarray, list[RowProblem]]:
    """Moments (aware, ``NaT`` where missing) in the future or before the earliest date; ``(mask, problems)``."""
    from gis.clock import utc_now

    limits = limits or Limits.from_settings()
    now = now or utc_now()
    stamps = pd.to_datetime(pd.Series(list(moments), dtype=object), utc=True)
    latest = pd.Timestamp(now + limits.skew)
    earliest = pd.Timestamp(limits.earliest_moment())
    present = stamps.notna().to_numpy()
    future = present & (stamps > latest).fillna(False).to_numpy(dtype=bool)
    early = present & (stamps < earliest).fillna(False).to_numpy(dtype=bool)
    problems: list[RowProblem] = []
    from gis.clock import zone

    local = zone()
    for i in np.flatnonzero(future | early):
        shown = stamps.iloc[i].tz_convert(local).isoformat(timespec="minutes")
        if future[i]:
            message = (f"column {column!r} is {shown}, in the future (at most {int(limits.skew.total_seconds())} s "
                       "after now are accepted)")
            problems.append(RowProblem(int(i), _key(keys, i), "in_the_future", message))
        else:
            message = (f"column {column!r} is {shown}, before {limits.earliest.isoformat()}, the earliest date accepted "
                       "(GRIDGOV_EARLIEST_DATE)")
            problems.append(RowProblem(int(i), _key(keys, i), "before_earliest", message))
    return future | early, problems


def vertex_problems(
    geoms: Sequence[Any] | np.ndarray,
    *,
    limit: int,
    keys: Sequence[Any] | None = None,
) -> tuple[np.ndarray, list[RowProblem]]:
    """Geometries with more than ``limit`` vertices; ``(rejected mask, problems)``. Cheap: counts only."""
    arr = np.asarray(geoms, dtype=object)
    counts = shapely.get_num_coordinates(arr)
    bad = counts > limit
    problems = [
        RowProblem(int(i), _key(keys, i), "too_many_vertices",
                   f"the geometry has {int(counts[i]):,} vertices; at most {limit:,} are accepted "
                   "(GRIDGOV_MAX_VERTICES): simplify it first")
        for i in np.flatnonzero(bad)
    ]
    return bad, problems
