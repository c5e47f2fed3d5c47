"""Notices (信息推送) in the database: the notice, the grids it was sent to, read receipts.

Every signed-in account reads notices and their targets; publishing needs ``publish_notice`` and
the targets must lie in the publisher's write scope (row-level security on ``notice_targets``). A
person records only their own read receipt (``staff_id`` = the session's staff record). The
public page reads current public notices through ``gridgov.public_notices``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import text

from gis.errors import NotFoundError
from governance.notices import Attachment, Notice
from store.sql import Executor, rows_frame

__all__ = ["insert_notice", "load_notices", "notice", "reads", "mark_read", "public_notices"]


def _notice(row) -> Notice:  # noqa: ANN001 - a result row
    attachments = row.attachments if isinstance(row.attachments, list) else json.loads(row.attachments or "[]")
    return Notice(
        id=int(row.id), kind=row.kind, title=row.title, body=row.body, valid_from=row.valid_from, valid_to=row.valid_to,
        grid_codes=tuple(row.grid_codes or ()), levels=tuple(int(v) for v in (row.levels or ())),
        attachments=tuple(Attachment(a.get("name", ""), a.get("ref", "")) for a in attachments),
        public=bool(getattr(row, "public", True)), author=getattr(row, "author", "") or "",
    )


def insert_notice(db: Executor, notice: Notice, *, street_wide: bool = False) -> int:
    """Store a validated notice and its target grids; its id."""
    notice_id = int(db.execute(text(
        "INSERT INTO notices (kind, title, body, valid_from, valid_to, levels, public, attachments, author, street_wide) "
        "VALUES (:kind, :title, :body, :vf, :vt, :levels, :public, CAST(:att AS jsonb), :author, :sw) RETURNING id"),
        {"kind": notice.kind, "title": notice.title, "body": notice.body, "vf": notice.valid_from, "vt": notice.valid_to,
         "levels": list(notice.levels), "public": bool(notice.public), "author": notice.author, "sw": bool(street_wide),
         "att": json.dumps([{"name": a.name, "ref": a.ref} for a in notice.attachments], ensure_ascii=False)},
    ).scalar_one())
    if notice.grid_codes:
        db.execute(text("INSERT INTO notice_targets (notice_id, grid_code) VALUES (:n, :g)"),
                   [{"n": notice_id, "g": code} for code in notice.grid_codes])
    return notice_id


_NOTICE_SQL = """
    SELECT n.id, n.kind, n.title, n.body, n.valid_from, n.valid_to, n.levels, n.public, n.attachments, n.author,
           n.created_at, n.withdrawn_at,
           coalesce((SELECT array_agg(t.grid_code ORDER BY t.grid_code) FROM notice_targets t WHERE t.notice_id = n.id),
                    '{}') AS grid_codes
    FROM notices n
"""


def load_notices(db: Executor, *, current_at: dt.datetime | None = None) -> list[Notice]:
    """Every notice not withdrawn (``current_at``: only those valid then), newest first."""
    rows = db.execute(text(
        _NOTICE_SQL + " WHERE n.withdrawn_at IS NULL AND (CAST(:at AS timestamptz) IS NULL OR "
        "(n.valid_from <= :at AND :at < n.valid_to)) ORDER BY n.valid_from DESC, n.id DESC"), {"at": current_at}).all()
    return [_notice(r) for r in rows]


def notice(db: Executor, notice_id: int) -> Notice:
    """One notice; :class:`NotFoundError` when there is none."""
    row = db.execute(text(_NOTICE_SQL + " WHERE n.id = :id"), {"id": int(notice_id)}).first()
    if row is None:
        raise NotFoundError(f"notice {notice_id} does not exist", code="notice.not_found", params={"id": notice_id})
    return _notice(row)


def reads(db: Executor, notice_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Read receipts the reader may see: ``notice_id``, ``staff_id``, ``read_at``."""
    frame = rows_frame(db, "SELECT notice_id, staff_id, read_at FROM notice_reads "
                           "WHERE CAST(:ids AS bigint[]) IS NULL OR notice_id = ANY(:ids) ORDER BY notice_id, staff_id",
                       {"ids": None if notice_ids is None else [int(i) for i in notice_ids]})
    frame["read_at"] = pd.to_datetime(frame["read_at"], utc=True)
    return frame


def mark_read(db: Executor, notice_id: int, staff_id: int) -> bool:
    """Record that ``staff_id`` read the notice (the first read counts); True when it was new."""
    return db.execute(text(
        "INSERT INTO notice_reads (notice_id, staff_id) VALUES (:n, :s) ON CONFLICT DO NOTHING RETURNING notice_id"),
        {"n": int(notice_id), "s": int(staff_id)}).first() is not None


def public_notices(db: Executor, codes: Sequence[str]) -> list[Notice]:
    """Current public notices sent to one of ``codes`` (a grid and its ancestors) or street-wide."""
    rows = db.execute(text("SELECT * FROM gridgov.public_notices(:codes)"), {"codes": list(codes)}).all()
    return [_notice(r) for r in rows]
