"""The monthly joint-meeting report as a use case: read the month's frames, compute the figures, write the
files (permission-checked and audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from access.scope import Scope
from boundaries.coding import default_scheme
from governance.report import MonthlyReport, build_monthly_report
from store.governance import load_frames, load_grids
from store import audit
from store.session import unit_of_work
from store.sql import Executor

__all__ = ["monthly_report", "write_monthly_report", "ReportFiles"]


def monthly_report(
    db: Executor,
    *,
    month: str | dt.date,
    as_of: dt.datetime | None = None,
    timezone: str | None = None,
    scope: Scope | Sequence[str] | None = None,
) -> MonthlyReport:
    """The report of ``month`` (``YYYY-MM``, local zone) over ``scope`` (default: everything).

    ``as_of`` (aware; default now) decides what is open or overdue "now".
    """
    from gis.settings import get_settings

    timezone = timezone or get_settings().timezone
    frames = load_frames(db, month=month, timezone=timezone, scope=scope)
    grids = load_grids(db, level=default_scheme().finest_level, with_geometry=True, scope=scope)
    return build_monthly_report(frames, grids, month=month, as_of=as_of, timezone=timezone)


def _disclosed(report: MonthlyReport, actor: Actor) -> MonthlyReport:
    """``report`` with its per-grid and per-worker special-household counts as ``actor`` may see them: 1–4
    written as ``<5`` unless ``actor`` is the grid's own worker or grid head (:mod:`access.disclosure`)."""
    import dataclasses

    from access.disclosure import SMALL_COUNT
    from services.overview import SPECIAL_COUNT_COLUMNS, disclose_assessment

    def written(frame, code_column: str):  # noqa: ANN001, ANN202 - a DataFrame
        shown = disclose_assessment(frame, actor, code_column=code_column)
        for column in SPECIAL_COUNT_COLUMNS:
            if column in shown.columns and shown[column].isna().any():
                shown[column] = shown[column].astype(object).where(shown[column].notna(), f"<{SMALL_COUNT}")
        return shown

    return dataclasses.replace(report, per_grid=written(report.per_grid, "grid_code"),
                               workers=written(report.workers, "grid_codes"))


@dataclass(frozen=True)
class ReportFiles:
    """The monthly report's files and what the audit trail recorded of them."""

    month: str
    xlsx: Path
    html: Path
    sha256: dict[str, str]
    hard_cases: int


def write_monthly_report(
    bind: Engine | Connection,
    actor: Actor,
    *,
    month: str,
    xlsx: Path,
    html: Path,
    as_of: dt.datetime | None = None,
    timezone: str | None = None,
    lang: str = "zh",
) -> ReportFiles:
    """Compute the monthly report over ``actor``'s grids and write it as XLSX and HTML in ``lang``
    (``zh`` or ``en``: sheet names, headers, headings and labels), audited.

    Needs the ``make_report`` permission; the report reads what the actor may see (row-level
    security and the actor's scope). The audit entry (action ``export``, object ``monthly_report``)
    records the month, the number of hard cases listed and both files' SHA-256.

    Raises :class:`access.permissions.PermissionDenied` when the actor may not make reports.
    """
    from etl.reports import write_monthly_html, write_monthly_xlsx
    from services.exports import file_sha256

    require(actor.role, "make_report")
    with unit_of_work(bind, actor) as db:
        report = _disclosed(monthly_report(db, month=month, as_of=as_of, timezone=timezone, scope=actor.scope), actor)
        written = {"xlsx": write_monthly_xlsx(report, xlsx, lang=lang), "html": write_monthly_html(report, html, lang=lang)}
        digests = {kind: file_sha256(path) for kind, path in written.items()}
        audit.record(db, "export", object_type="monthly_report", row_count=len(report.hard_cases),
                     details={"month": report.month, "lang": lang, "files": {k: Path(p).name for k, p in written.items()},
                              "sha256": digests, "with_personal_data": False})
    return ReportFiles(report.month, written["xlsx"], written["html"], digests, len(report.hard_cases))
