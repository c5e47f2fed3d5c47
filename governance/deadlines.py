"""Handling deadlines per disposition, counted in calendar days in the local zone.

A deadline of *N* days for an incident classified at local time ``t`` falls at the local
midnight that ends the *N*-th calendar day after ``t``'s day: classified on Monday 15:00
with ``solve_now = 3`` days, it is due by Thursday 24:00 (Friday 00:00) Asia/Shanghai.
Every datetime here is timezone-aware; naive datetimes are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from gis.clock import require_aware
from gis.clock import zone as _zone_named
from gis.errors import ConfigurationError, ValidationError
from governance.vocab import TERMINAL_STATUSES

if TYPE_CHECKING:
    from gis.settings import Settings

__all__ = [
    "DEFAULT_DEADLINE_DAYS",
    "DeadlinePolicy",
    "overdue_mask",
    "overdue_incidents",
]

#: Default days allowed per disposition (solve now / research and assign / explain and respond).
DEFAULT_DEADLINE_DAYS: dict[str, int] = {"solve_now": 3, "research_assign": 30, "explain_respond": 7}



@dataclass(frozen=True)
class DeadlinePolicy:
    """Days allowed per disposition and the zone in which calendar days are counted.

    Parameters
    ----------
    days:
        Disposition → whole days (≥ 0). Every disposition in ``store.models.DISPOSITIONS``
        must be present.
    timezone:
        IANA zone name (default ``Asia/Shanghai``).
    """

    days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS))
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        missing = sorted(set(DEFAULT_DEADLINE_DAYS) - set(self.days))
        unknown = sorted(set(self.days) - set(DEFAULT_DEADLINE_DAYS))
        bad = {k: v for k, v in self.days.items() if not isinstance(v, (int, np.integer)) or v < 0}
        if missing or unknown or bad:
            raise ConfigurationError(
                f"deadline days {dict(self.days)!r} are expected to give a non-negative whole number of days "
                f"for each of {list(DEFAULT_DEADLINE_DAYS)} (missing {missing}, unknown {unknown}, bad {bad})",
                code="config.deadline_days",
            )
        _zone_named(self.timezone)
        object.__setattr__(self, "days", dict(self.days))

    @property
    def zone(self) -> ZoneInfo:
        return _zone_named(self.timezone)

    @classmethod
    def from_settings(cls, settings: "Settings | None" = None) -> "DeadlinePolicy":
        """The policy configured by ``GRIDGOV_DEADLINE_DAYS`` and ``GRIDGOV_TIMEZONE`` (:mod:`gis.settings`).

        Dispositions not named keep their default.
        """
        from gis.settings import get_settings

        settings = settings or get_settings()
        return cls(days={**DEFAULT_DEADLINE_DAYS, **dict(settings.deadline_days)}, timezone=settings.timezone)

    def deadline_for(self, disposition: str, start: dt.datetime) -> dt.datetime:
        """Deadline (aware, in the policy zone) for an incident classified at ``start``.

        Raises
        ------
        ValidationError
            If ``disposition`` is unknown or ``start`` is naive.
        """
        if disposition not in self.days:
            raise ValidationError(
                f"disposition was {disposition!r} but is expected to be in {list(self.days)}",
                code="incident.unknown_disposition", params={"disposition": str(disposition)},
            )
        require_aware(start, name="start")
        local = self.zone
        local_day = start.astimezone(local).date()
        due_day = local_day + dt.timedelta(days=int(self.days[disposition]) + 1)
        return dt.datetime.combine(due_day, dt.time(0, 0), tzinfo=local)


def overdue_mask(incidents: pd.DataFrame, *, now: dt.datetime) -> pd.Series:
    """Boolean Series (same index): open incidents whose deadline has passed at ``now``.

    Open means status not in ``closed`` / ``rejected``. Expects columns ``status`` and
    ``deadline`` (aware datetimes or NaT).
    """
    require_aware(now, name="now")
    deadline = pd.to_datetime(incidents["deadline"], utc=True)
    open_ = ~incidents["status"].isin(TERMINAL_STATUSES)
    return (open_ & deadline.notna() & (deadline < pd.Timestamp(now).tz_convert("UTC"))).astype(bool)


def overdue_incidents(incidents: pd.DataFrame, *, now: dt.datetime) -> pd.DataFrame:
    """Copy of the overdue rows with ``overdue_hours`` (hours past the deadline), most overdue first."""
    mask = overdue_mask(incidents, now=now)
    result = incidents.loc[mask].copy()
    deadline = pd.to_datetime(result["deadline"], utc=True)
    result["overdue_hours"] = ((pd.Timestamp(now).tz_convert("UTC") - deadline).dt.total_seconds() / 3600.0).astype(
        float
    )
    return result.sort_values("overdue_hours", ascending=False, kind="stable")
