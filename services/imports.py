"""Importing a file's rows: one use case for every kind, shared by the CLI and the app.

The rows come from an :mod:`etl.readers` reader (a frame in EPSG:4490 and the problems it found);
:func:`load_rows` writes them in one transaction as one changeset whose author is the acting person,
through the loader of :mod:`store.bulk` for that kind. A dry run does the whole load, database checks
included, and rolls it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import may, require
from gis.problems import RowProblem
from store import bulk
from store.bulk import ImportReport
from store.session import read_only, run_in_transaction

__all__ = ["LOADERS", "load_rows", "roster_version"]

#: The loader of each kind of file.
LOADERS = {
    "grids": bulk.load_grids,
    "households": bulk.load_households,
    "incidents": bulk.load_incidents,
    "staff": bulk.load_staff,
    "cameras": bulk.load_cameras,
}


def load_rows(
    bind: Engine | Connection,
    actor: Actor,
    kind: str,
    frame: Any,
    problems: Sequence[RowProblem] = (),
    *,
    dry_run: bool = False,
    **options: Any,
) -> ImportReport:
    """Load ``frame`` (one kind of rows) in one transaction, or (``dry_run``) try it and roll it back.

    Raises :class:`gis.errors.ValidationError` with every bad row when the reader or the database
    checks refuse the file; nothing is written then.
    """
    require(actor.role, "manage_roster" if kind == "staff" and not may(actor.role, "import") else "import")
    if kind not in LOADERS:
        raise ValueError(f"kind was {kind!r} but is expected to be one of {sorted(LOADERS)}")
    load = LOADERS[kind]

    def work(conn: Connection) -> ImportReport:
        return load(conn, frame, problems=list(problems), author=actor.name, **options)

    report = run_in_transaction(bind, actor, work, commit=not dry_run)
    if dry_run:
        report.changeset_id = None
    return report


def roster_version(bind: Engine | Connection, staff_keys: Sequence[str], actor: Actor | None = None) -> str:
    """The version (:func:`store.bulk.roster_token`) of the roster of ``staff_keys``, to base a staff import on.

    Pass it as ``expected_roster`` to :func:`load_rows` (``kind="staff"``): the load is refused
    (:class:`gis.errors.StaleVersionError`) when another write changed those people since.
    """
    with read_only(bind, actor) as db:
        return bulk.roster_token(db, staff_keys)
