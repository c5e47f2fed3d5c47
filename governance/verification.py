"""Quarterly refresh (季度更新): who verified which household and resident record, and what is overdue (pure).

Every household and resident record carries ``last_verified_at`` (aware; when a worker last
confirmed it with the household) and ``verified_by`` (the staff id). Records are verified
once per calendar quarter (Asia/Shanghai, :func:`gis.clock.quarter_bounds`). On a day
``as_of`` a record is

``verified``
    verified in the current quarter (on or after its first day, up to ``as_of``);
``pending``
    verified in the previous quarter but not yet in this one: due by the quarter's end;
``overdue``
    not verified in the current or the previous quarter, or never.

Shares are counted per micro-grid and per worker (the records in the grids of their
``micro_worker`` assignments active on ``as_of``), households and residents separately.
A resident's grid is its household's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from gis.clock import local_date, quarter_bounds, quarter_label, require_aware
from governance._frames import match_prefix, require_columns, utc
from governance.visits import worker_grids

__all__ = ["RECORD_KINDS", "VerificationReport", "verification_status", "verification_report"]

RECORD_KINDS = ("household", "resident")
_COUNTS = ("records", "verified", "pending", "overdue")


@dataclass(frozen=True)
class VerificationReport:
    """The quarter's refresh figures.

    Attributes
    ----------
    quarter:
        ``YYYY-Qn`` of ``as_of``.
    records:
        One row per record: ``kind`` (household / resident), ``id``, ``household_id``,
        ``grid_code``, ``last_verified_at``, ``verified_by``, ``status``.
    grids:
        Per ``grid_code``: for each kind ``<kind>s``, ``<kind>s_verified``, ``<kind>s_pending``,
        ``<kind>s_overdue`` and ``<kind>s_share`` (verified / records, NaN when none).
    workers:
        The same per ``staff_id`` over the records in the worker's grids, plus
        ``verified_by_worker`` (records the worker verified themself this quarter).
    overdue:
        The overdue records with the ``staff_id`` responsible (``NA`` when no worker), by
        grid and id.
    """

    quarter: str
    as_of: dt.datetime
    records: pd.DataFrame
    grids: pd.DataFrame
    workers: pd.DataFrame
    overdue: pd.DataFrame


def verification_status(last_verified_at: pd.Series, *, as_of: dt.datetime, timezone: str = "Asia/Shanghai") -> pd.Series:
    """``verified`` / ``pending`` / ``overdue`` for each timestamp (see the module docstring)."""
    require_aware(as_of, name="as_of")
    start, _ = quarter_bounds(local_date(as_of, timezone), timezone)
    previous, _ = quarter_bounds(local_date(start - dt.timedelta(days=1), timezone), timezone)
    values = utc(last_verified_at)
    now = pd.Timestamp(as_of).tz_convert("UTC")
    this_quarter = values.notna() & (values >= pd.Timestamp(start).tz_convert("UTC")) & (values <= now)
    last_quarter = values.notna() & (values >= pd.Timestamp(previous).tz_convert("UTC")) & ~this_quarter & (values <= now)
    status = pd.Series("overdue", index=last_verified_at.index, dtype=object)
    status[last_quarter] = "pending"
    status[this_quarter] = "verified"
    return status


def _counts(records: pd.DataFrame, key: str) -> pd.DataFrame:
    table = pd.crosstab([records[key], records["kind"]], records["status"]).reindex(
        columns=["verified", "pending", "overdue"], fill_value=0
    )
    table["records"] = table.sum(axis=1)
    wide = table.unstack("kind", fill_value=0)
    out = pd.DataFrame(index=wide.index)
    for kind in RECORD_KINDS:
        for count in _COUNTS:
            name = f"{kind}s" if count == "records" else f"{kind}s_{count}"
            out[name] = wide[(count, kind)].astype("int64") if (count, kind) in wide.columns else 0
        out[f"{kind}s_share"] = (out[f"{kind}s_verified"] / out[f"{kind}s"].where(out[f"{kind}s"] > 0)).astype(float)
    return out


def verification_report(
    households: pd.DataFrame,
    residents: pd.DataFrame,
    assignments: pd.DataFrame | None = None,
    *,
    as_of: dt.datetime,
    timezone: str = "Asia/Shanghai",
) -> VerificationReport:
    """The quarter's verification shares per grid and worker, and the overdue list.

    Parameters
    ----------
    households:
        ``id``, ``grid_code``, ``last_verified_at`` (aware or NaT), ``verified_by``.
    residents:
        ``id``, ``household_id``, ``last_verified_at``, ``verified_by``.
    assignments:
        Staff assignments (``staff_id``, ``grid_code``, ``role``, ``start_date``, ``end_date``);
        ``None``: no per-worker figures.
    """
    columns = ("last_verified_at", "verified_by")
    require_columns(households, ("id", "grid_code", *columns), name="households")
    require_columns(residents, ("id", "household_id", *columns), name="residents")
    require_aware(as_of, name="as_of")
    grid_of = households.set_index("id")["grid_code"]
    hh = pd.DataFrame({
        "kind": "household", "id": households["id"].astype("int64").to_numpy(),
        "household_id": households["id"].astype("int64").to_numpy(),
        "grid_code": households["grid_code"].to_numpy(dtype=object),
        "last_verified_at": utc(households["last_verified_at"]).to_numpy(),
        "verified_by": pd.to_numeric(households["verified_by"], errors="coerce").to_numpy(),
    })
    rs = pd.DataFrame({
        "kind": "resident", "id": residents["id"].astype("int64").to_numpy(),
        "household_id": residents["household_id"].astype("int64").to_numpy(),
        "grid_code": residents["household_id"].map(grid_of).to_numpy(dtype=object),
        "last_verified_at": utc(residents["last_verified_at"]).to_numpy(),
        "verified_by": pd.to_numeric(residents["verified_by"], errors="coerce").to_numpy(),
    })
    records = pd.concat([hh, rs], ignore_index=True)
    records["last_verified_at"] = pd.to_datetime(records["last_verified_at"], utc=True)
    records["verified_by"] = records["verified_by"].astype("Int64")
    records["status"] = verification_status(records["last_verified_at"], as_of=as_of, timezone=timezone)

    located = records.loc[records["grid_code"].notna()]
    grids = _counts(located, "grid_code").reset_index()

    staff = pd.Series(pd.NA, index=records.index, dtype="Int64")
    workers = pd.DataFrame(columns=["staff_id"])
    if assignments is not None:
        pairs = worker_grids(assignments, on=local_date(as_of, timezone))
        match = match_prefix(records["grid_code"], pairs["grid_code"]).merge(pairs, left_on="target", right_on="grid_code")
        owned = records.loc[match["row"].to_numpy()].assign(staff_id=match["staff_id"].to_numpy())
        owned = owned.drop_duplicates(["staff_id", "kind", "id"])
        if len(owned):
            workers = _counts(owned, "staff_id")
            self_verified = owned.loc[(owned["status"] == "verified") & (owned["verified_by"] == owned["staff_id"])]
            workers["verified_by_worker"] = self_verified.groupby("staff_id").size().reindex(workers.index).fillna(0).astype("int64")
            workers = workers.reset_index()
        first = match.assign(_depth=match["target"].str.len()).sort_values(
            ["row", "_depth", "staff_id"], ascending=[True, False, True], kind="stable").drop_duplicates("row")
        staff.loc[first["row"].to_numpy()] = first["staff_id"].to_numpy()
    overdue = records.assign(staff_id=staff).loc[records["status"] == "overdue"]
    overdue = overdue.sort_values(["grid_code", "kind", "id"], kind="stable", na_position="last").reset_index(drop=True)
    return VerificationReport(
        quarter=quarter_label(local_date(as_of, timezone)), as_of=as_of, records=records,
        grids=grids, workers=workers, overdue=overdue,
    )
