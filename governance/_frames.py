"""Private frame helpers shared by the pure governance modules (no database, no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from gis.errors import ValidationError

from gis.clock import require_aware


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, name: str) -> None:
    """Raise :class:`ValidationError` listing every missing column of ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{name} frame lacks columns {missing}; it has {list(map(str, frame.columns))}",
            findings=[{"frame": name, "missing": c} for c in missing], code="data.columns_missing",
        )


def utc(series: pd.Series) -> pd.Series:
    """Aware timestamps in UTC (naive values are refused: their zone is unknown)."""
    if len(series) and pd.api.types.is_datetime64_any_dtype(series) and getattr(series.dt, "tz", None) is None:
        raise ValidationError(f"column {series.name!r} holds naive timestamps; store times timezone-aware",
                              code="time.naive")
    out = pd.to_datetime(series, utc=True)
    return out


def within(series: pd.Series, start: dt.datetime, end: dt.datetime) -> pd.Series:
    """Boolean mask ``start <= t < end`` over aware timestamps (NaT → False)."""
    values = utc(series)
    lo = pd.Timestamp(require_aware(start, name="start")).tz_convert("UTC")
    hi = pd.Timestamp(require_aware(end, name="end")).tz_convert("UTC")
    return ((values >= lo) & (values < hi)).fillna(False).astype(bool)



def active_on(assignments: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Assignments whose ``[start_date, end_date]`` (inclusive, open end) meets ``[start, end]``."""
    s = pd.to_datetime(assignments["start_date"]).dt.date
    e = pd.to_datetime(assignments["end_date"]).dt.date
    starts_ok = s.map(lambda d: d <= end)
    ends_ok = e.map(lambda d: d is None or pd.isna(d) or d >= start)
    return (starts_ok & ends_ok).astype(bool)


def match_prefix(codes: pd.Series, targets: Iterable[str]) -> pd.DataFrame:
    """Pairs (row label of ``codes``, target) where the code equals or descends from the target.

    Vectorized per distinct target length: ``code.str[:len(target)] == target``. Returns a
    frame with columns ``row`` (index label of ``codes``) and ``target``.
    """
    targets = pd.Series(sorted(set(map(str, targets))), dtype=object)
    frames = []
    known = codes.dropna().astype(str)
    for length in sorted(targets.str.len().unique()):
        wanted = targets[targets.str.len() == length]
        head = known.str[: int(length)]
        hit = head[head.isin(set(wanted))]
        frames.append(pd.DataFrame({"row": hit.index.to_numpy(), "target": hit.to_numpy(dtype=object)}))
    if not frames:
        return pd.DataFrame({"row": pd.Series([], dtype=object), "target": pd.Series([], dtype=object)})
    return pd.concat(frames, ignore_index=True)


def has_special(kinds: pd.Series) -> pd.Series:
    """True where the ``special_kinds`` list is non-empty."""
    return kinds.map(lambda v: v is not None and not (np.ndim(v) == 0 and pd.isna(v)) and len(v) > 0).astype(bool)
