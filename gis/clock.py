"""The one time helper: the local zone, calendar months, quarters, years, days and moments.

Times are stored timezone-aware (UTC in PostgreSQL ``timestamptz``). Months, deadlines, "today"
and the joint meeting on the 25th are counted in the local zone, ``GRIDGOV_TIMEZONE``
(default Asia/Shanghai, UTC+8 without daylight saving): a visit at 23:30 UTC on the last day of
a month counts for the next month in Shanghai.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gis.errors import ConfigurationError, ValidationError

__all__ = [
    "zone",
    "utc_now",
    "local_now",
    "today",
    "require_aware",
    "local_date",
    "start_of_day",
    "end_of_day",
    "as_moment",
    "parse_month",
    "month_label",
    "month_bounds",
    "month_of",
    "previous_month",
    "quarter_bounds",
    "quarter_label",
    "year_bounds",
    "recent_months",
    "PERIOD_KINDS",
    "Period",
    "parse_period",
]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def zone(name: str | None = None) -> ZoneInfo:
    """The zone ``name`` (default: the configured ``GRIDGOV_TIMEZONE``).

    Raises
    ------
    ConfigurationError
        The name is not an IANA zone.
    """
    if name is None:
        from gis.settings import get_settings

        name = get_settings().timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"time zone {name!r} is unknown; expected an IANA name such as 'Asia/Shanghai'",
                                 code="config.timezone", params={"value": str(name)}) from None


def _zone(tz: str | ZoneInfo | None) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else zone(tz)


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def local_now(tz: str | ZoneInfo | None = None) -> dt.datetime:
    """The current time in the local zone."""
    return dt.datetime.now(_zone(tz))


def today(tz: str | ZoneInfo | None = None) -> dt.date:
    """Today's date in the local zone."""
    return local_now(tz).date()


def require_aware(value: dt.datetime, *, name: str = "time") -> dt.datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise :class:`ValidationError`."""
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"{name} was {value!r} but is expected to be a datetime", code="time.not_a_time")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError(
            f"{name} {value.isoformat()} has no time zone; pass an aware datetime "
            "(e.g. datetime.now(ZoneInfo('Asia/Shanghai')))", code="time.naive",
        )
    return value


def local_date(value: dt.datetime, tz: str | ZoneInfo | None = None) -> dt.date:
    """The local calendar date of an aware moment."""
    return require_aware(value, name="time").astimezone(_zone(tz)).date()


def start_of_day(day: dt.date, tz: str | ZoneInfo | None = None) -> dt.datetime:
    """Local midnight at the start of ``day`` (aware)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=_zone(tz))


def end_of_day(day: dt.date, tz: str | ZoneInfo | None = None) -> dt.datetime:
    """The last microsecond of ``day`` in the local zone (aware): what was valid on that day."""
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), tzinfo=_zone(tz))


def as_moment(value: dt.datetime | dt.date | None, tz: str | ZoneInfo | None = None) -> dt.datetime | None:
    """A moment for an as-of query: an aware datetime as it is, a date as the end of that local day.

    Raises
    ------
    ValidationError
        A naive datetime (GridGov never guesses a zone for a moment).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return require_aware(value, name="as_of")
    return end_of_day(value, tz)


def parse_month(month: str | dt.date) -> dt.date:
    """The first day of a month given as ``YYYY-MM`` or as any date in it.

    Raises
    ------
    ValidationError
        The text is not ``YYYY-MM`` with a month 01–12.
    """
    if isinstance(month, dt.datetime):
        raise ValidationError(f"month was {month!r}; pass 'YYYY-MM' or a date (a moment needs a zone: use month_of)",
                              code="time.month_invalid", params={"value": str(month)})
    if isinstance(month, dt.date):
        return month.replace(day=1)
    match = _MONTH.match(str(month).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError(f"month was {month!r} but is expected to be YYYY-MM (e.g. 2026-11)",
                              code="time.month_invalid", params={"value": str(month)})
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def month_label(month: str | dt.date) -> str:
    """``YYYY-MM``."""
    return f"{parse_month(month):%Y-%m}"


def month_bounds(month: str | dt.date, tz: str | ZoneInfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of a calendar month: aware datetimes at local midnight."""
    first = parse_month(month)
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return start_of_day(first, tz), start_of_day(nxt, tz)


def month_of(moment: dt.datetime | None = None, tz: str | ZoneInfo | None = None) -> tuple[str, dt.datetime, dt.datetime]:
    """``("YYYY-MM", start, end)`` of the local calendar month containing ``moment`` (default now)."""
    first = local_date(moment or utc_now(), tz).replace(day=1)
    start, end = month_bounds(first, tz)
    return f"{first:%Y-%m}", start, end


def previous_month(month: str | dt.date) -> dt.date:
    """The first day of the month before ``month``."""
    first = parse_month(month)
    return (first - dt.timedelta(days=1)).replace(day=1)


def recent_months(count: int = 12, *, now: dt.datetime | None = None, tz: str | ZoneInfo | None = None) -> list[str]:
    """The ``count`` months up to the local one containing ``now`` (default now), newest first, as ``YYYY-MM``."""
    local = (require_aware(now, name="now") if now is not None else utc_now()).astimezone(_zone(tz))
    index = local.year * 12 + local.month - 1
    return [f"{(index - k) // 12:04d}-{(index - k) % 12 + 1:02d}" for k in range(count)]


def quarter_bounds(day: dt.date, tz: str | ZoneInfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of the calendar quarter containing ``day``, at local midnight."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    first = dt.date(day.year, first_month, 1)
    nxt = dt.date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    return start_of_day(first, tz), start_of_day(nxt, tz)


def year_bounds(year: int | dt.date, tz: str | ZoneInfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of a calendar year (an ``int`` or any date in it), at local midnight."""
    number = year.year if isinstance(year, dt.date) else int(year)
    return start_of_day(dt.date(number, 1, 1), tz), start_of_day(dt.date(number + 1, 1, 1), tz)


_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
PERIOD_KINDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year in the local zone.

    ``label`` is ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``; ``first`` is its first day and
    :meth:`bounds` its ``[start, end)`` at local midnight. ``months`` lists its months as
    ``YYYY-MM`` (one, three or twelve).
    """

    kind: str
    label: str
    first: dt.date

    @property
    def months(self) -> tuple[str, ...]:
        count = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        index = self.first.year * 12 + self.first.month - 1
        return tuple(f"{(index + k) // 12:04d}-{(index + k) % 12 + 1:02d}" for k in range(count))

    def bounds(self, tz: str | ZoneInfo | None = None) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` of the period at local midnight."""
        if self.kind == "month":
            return month_bounds(self.first, tz)
        if self.kind == "quarter":
            return quarter_bounds(self.first, tz)
        return year_bounds(self.first, tz)

    def contains(self, other: "Period") -> bool:
        """True when every month of ``other`` lies in this period."""
        return set(other.months) <= set(self.months)


def parse_period(text: str | Period) -> Period:
    """A :class:`Period` from ``YYYY-MM`` (month), ``YYYY-Qn`` (quarter) or ``YYYY`` (year).

    Raises
    ------
    ValidationError
        The text is none of the three forms.
    """
    if isinstance(text, Period):
        return text
    value = str(text).strip()
    if match := _YEAR.match(value):
        return Period("year", value, dt.date(int(match.group(1)), 1, 1))
    if match := _QUARTER.match(value):
        year, quarter = int(match.group(1)), int(match.group(2))
        return Period("quarter", f"{year:04d}-Q{quarter}", dt.date(year, 3 * quarter - 2, 1))
    try:
        first = parse_month(value)
    except ValidationError:
        raise ValidationError(
            f"period was {text!r} but is expected to be a month YYYY-MM (2026-11), "
            "a quarter YYYY-Qn (2026-Q4) or a year YYYY (2026)", code="time.period_invalid", params={"value": str(text)},
        ) from None
    return Period("month", f"{first:%Y-%m}", first)


def quarter_label(day: dt.date) -> str:
    """``YYYY-Qn`` of the quarter containing ``day``."""
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
