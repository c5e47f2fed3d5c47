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

__all__ = ["LOADERS", "load_rows"]

#: The loader of each kind of file.
LOADERS = {
    "grids": bulk.load_grids,
    "households": bulk.load_households,
    "incidents": bulk.load_incidents,
    "staff": bulk.load_staff,
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
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _load(conn, load, actor, frame, problems, dry_run=dry_run, **options)
    return _load(bind, load, actor, frame, problems, dry_run=dry_run, **options)


def _load(conn: Connection, load: Any, actor: Actor, frame: Any, problems: Sequence[RowProblem], *,
          dry_run: bool, **options: Any) -> ImportReport:
    trans = conn.begin_nested() if conn.in_transaction() else conn.begin()
    try:
        report = load(conn, frame, problems=list(problems), author=actor.name, **options)
    except BaseException:
        trans.rollback()
        raise
    if dry_run:
        trans.rollback()
        report.changeset_id = None
    else:
        trans.commit()
    return report
