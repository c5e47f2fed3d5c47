"""Exporting data to a file: one use case for the CLI, the app and the API, permission-checked and audited.

Every export needs the ``export`` permission; one with personal data unmasked needs
``export_personal``. Without it, personal data appears as the exporting person sees it on the
pages (their role's masking). Every export is audited: who, what, how many rows, the file's
SHA-256, whether personal data was in it. Text cells that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR at the start) are written as text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import MASKING, require
from store import audit
from store.session import unit_of_work

__all__ = ["ExportResult", "export_to_file", "export_roster", "file_sha256"]


@dataclass(frozen=True)
class ExportResult:
    what: str
    rows: int
    path: Path
    sha256: str
    with_personal_data: bool


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_to_file(
    bind: Engine | Connection, actor: Actor, what: str, out: Path, *, fmt: str | None = None, level: int | None = None,
    as_of: Any = None, with_personal_data: bool = False,
) -> ExportResult:
    """Write ``what`` (grids, households, incidents, staff) to ``out``; see the module docstring.

    Raises :class:`access.permissions.PermissionDenied` when the actor may not export (this way).
    """
    from etl.export import export_frame, query_export, write_staff

    require(actor.role, "export")
    if with_personal_data:
        require(actor.role, "export_personal")
    # a file leaves the system: phones in full only in an export with personal data (export_personal), not
    # for a worker's or grid head's own grids as on their pages
    own = actor.scope.prefixes if with_personal_data and not actor.scope.everything else ()
    with unit_of_work(bind, actor) as db:
        frame = query_export(db, what, level=level, as_of=as_of, with_personal_data=with_personal_data,
                             policy=MASKING.get(actor.role or ""), own_prefixes=own)
        if what == "staff":
            write_staff(frame, out, format=fmt)
        else:
            export_frame(frame, out, format=fmt)
        digest = file_sha256(out) if Path(out).is_file() else ""
        audit.record(db, "export", object_type=what, row_count=len(frame),
                     details={"file": Path(out).name, "sha256": digest, "format": fmt or Path(out).suffix.lstrip("."),
                              "with_personal_data": with_personal_data, "level": level,
                              "as_of": None if as_of is None else str(as_of)})
    return ExportResult(what, len(frame), Path(out), digest, with_personal_data)


def export_roster(
    bind: Engine | Connection, actor: Actor, out: Path | BinaryIO, *, on: dt.date | None = None,
    fmt: str | None = None, name: str | None = None,
) -> ExportResult:
    """Write the roster (one row per assignment in the actor's view; ``on``: only those active that day)
    as the file ``gridgov import staff`` reads back (XLSX or CSV), audited like every export.

    ``out`` is a path or a binary buffer (the roster page's download; ``name`` is then the file
    name recorded). Needs the ``export`` permission.
    """
    from etl.export import write_staff
    from store.governance import load_roster

    require(actor.role, "export")
    with unit_of_work(bind, actor) as db:
        roster = load_roster(db, on=on, scope=actor.scope)
        write_staff(roster, out, format=fmt)
        if isinstance(out, (str, Path)):
            digest, file_name = file_sha256(Path(out)), Path(out).name
        else:
            digest, file_name = hashlib.sha256(out.getvalue()).hexdigest(), name or "roster"
        audit.record(db, "export", object_type="roster", row_count=len(roster),
                     details={"file": file_name, "sha256": digest, "format": fmt or Path(file_name).suffix.lstrip("."),
                              "with_personal_data": False, "on": None if on is None else on.isoformat()})
    return ExportResult("roster", len(roster), Path(file_name), digest, False)
