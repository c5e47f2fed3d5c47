"""Resident evaluation (民主测评) in the database: rounds, code records, responses.

The tables (migration 0003) keep the design of :mod:`governance.evaluation`: a code record has no
household and no time, a response has no code and no household. The application role may insert
code records but never read or change them, and cannot read a round's ``salt``; it reaches both only
through the ``gridgov.evaluation_*`` functions (one code record by its hash; the salt of a round for
the public page; counts of issued codes per grid and worker). A response is written only by
``gridgov.evaluation_submit``, which flips the code to used with ``… WHERE NOT used`` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text

from gis.errors import NotFoundError, StaleVersionError
from governance.evaluation import RESPONSE_COLUMNS, CodeRecord, EvaluationResponse, EvaluationRound
from store.bulk import _stage
from store.sql import Executor, rows_frame

__all__ = [
    "RoundRow",
    "insert_round",
    "list_rounds",
    "round_row",
    "public_rounds",
    "close_round",
    "insert_codes",
    "issued_counts",
    "households_in",
    "responses",
    "code_record",
    "submit_response",
]


@dataclass(frozen=True)
class RoundRow:
    """A stored round as the application role reads it (no salt)."""

    id: int
    title: str
    period: str
    grid_codes: tuple[str, ...]
    questions: tuple[str, ...]
    opens_at: dt.datetime
    closes_at: dt.datetime
    min_group: int
    status: str
    closed_at: dt.datetime | None
    created_by: str
    version: int

    def to_dict(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


_ROUND_COLUMNS = ("id, title, period, grid_codes, questions, opens_at, closes_at, min_group, status, closed_at, "
                  "created_by, version")


def _round(row) -> RoundRow:  # noqa: ANN001 - a result row
    return RoundRow(
        id=int(row.id), title=row.title, period=row.period, grid_codes=tuple(row.grid_codes),
        questions=tuple(row.questions), opens_at=row.opens_at, closes_at=row.closes_at, min_group=int(row.min_group),
        status=row.status, closed_at=row.closed_at, created_by=row.created_by, version=int(row.version),
    )


def insert_round(db: Executor, round_: EvaluationRound, *, min_group: int = 5) -> int:
    """Store a validated round (its salt included); its id."""
    return int(db.execute(text(
        "INSERT INTO evaluation_rounds (title, period, grid_codes, questions, opens_at, closes_at, salt, min_group) "
        "VALUES (:title, :period, :grids, :questions, :opens, :closes, :salt, :min_group) RETURNING id"),
        {"title": round_.title, "period": round_.period, "grids": list(round_.grid_codes),
         "questions": list(round_.questions), "opens": round_.opens_at, "closes": round_.closes_at,
         "salt": bytes(round_.salt), "min_group": int(min_group)},
    ).scalar_one())


def list_rounds(db: Executor) -> list[RoundRow]:
    """Every round, newest first."""
    return [_round(r) for r in db.execute(text(f"SELECT {_ROUND_COLUMNS} FROM evaluation_rounds ORDER BY id DESC"))]


def round_row(db: Executor, round_id: int) -> RoundRow:
    """One round (no salt); :class:`NotFoundError` when there is none."""
    row = db.execute(text(f"SELECT {_ROUND_COLUMNS} FROM evaluation_rounds WHERE id = :id"), {"id": int(round_id)}).first()
    if row is None:
        raise NotFoundError(f"evaluation round {round_id} does not exist", code="evaluation.round_not_found",
                            params={"id": round_id})
    return _round(row)


def public_rounds(db: Executor, round_id: int | None = None) -> list[tuple[EvaluationRound, str]]:
    """Rounds with their salt (``gridgov.evaluation_round_public``) and status: one round, or those
    closed less than 90 days ago (a code typed without its round is tried against each)."""
    rows = db.execute(text("SELECT * FROM gridgov.evaluation_round_public(:id)"),
                      {"id": None if round_id is None else int(round_id)}).all()
    return [
        (EvaluationRound(id=int(r.id), title=r.title, period=r.period, grid_codes=tuple(r.grid_codes),
                         opens_at=r.opens_at, closes_at=r.closes_at, questions=tuple(r.questions), salt=bytes(r.salt)),
         r.status)
        for r in rows
    ]


def close_round(db: Executor, round_id: int, *, expected_version: int | None = None) -> RoundRow:
    """Close a round now (codes expire); refused when someone changed it since ``expected_version``."""
    current = round_row(db, round_id)
    version = current.version if expected_version is None else int(expected_version)
    row = db.execute(text(
        "UPDATE evaluation_rounds SET status = 'closed', closed_at = now(), closes_at = least(closes_at, now()), "
        "version = version + 1 WHERE id = :id AND version = :v AND status = 'open' RETURNING id"),
        {"id": int(round_id), "v": version}).first()
    if row is None:
        if current.status == "closed":
            raise StaleVersionError(f"evaluation round {round_id} was already closed (at {current.closed_at})",
                                    code="evaluation.round_already_closed", params={"id": round_id})
        raise StaleVersionError(f"evaluation round {round_id} was changed by someone else since you read it "
                                f"(version {version}, now {current.version}); nothing was saved",
                                code="evaluation.round_stale", params={"id": round_id})
    return round_row(db, round_id)


def insert_codes(db: Executor, records: pd.DataFrame) -> int:
    """Store code records (:data:`governance.evaluation.CODE_RECORD_COLUMNS`) with one COPY; rows written."""
    rows = [
        (int(r.round_id), str(r.code_hash), str(r.grid_code), None if pd.isna(r.staff_id) else int(r.staff_id),
         r.expires_at.isoformat(), bool(r.used))
        for r in records.itertuples(index=False)
    ]
    if not rows:
        return 0
    stage = _stage(db, {"round_id": "bigint", "code_hash": "text", "grid_code": "text", "staff_id": "bigint",
                        "expires_at": "timestamptz", "used": "boolean"}, rows)
    written = db.execute(text(
        f"INSERT INTO evaluation_codes (round_id, code_hash, grid_code, staff_id, expires_at, used) "
        f"SELECT round_id, code_hash, grid_code, staff_id, expires_at, used FROM {stage} ORDER BY code_hash")).rowcount
    db.execute(text(f"DROP TABLE {stage}"))
    return int(written or 0)


def issued_counts(db: Executor, round_id: int) -> pd.DataFrame:
    """``grid_code``, ``staff_id``, ``issued``, ``used`` of a round's codes in the reader's grids."""
    frame = rows_frame(db, "SELECT grid_code, staff_id, issued, used FROM gridgov.evaluation_issued(:id)",
                       {"id": int(round_id)})
    frame["staff_id"] = pd.array(frame["staff_id"].tolist(), dtype="Int64") if len(frame) else pd.Series([], dtype="Int64")
    for column in ("issued", "used"):
        frame[column] = frame[column].astype("int64")
    return frame


def households_in(db: Executor, grid_codes: Sequence[str]) -> pd.DataFrame:
    """``id``, ``grid_code`` of the households in the grids (and below) the reader may see."""
    patterns = [str(c) + "%" for c in grid_codes]
    return rows_frame(db, "SELECT id, grid_code FROM households WHERE grid_code LIKE ANY(:p) ORDER BY id", {"p": patterns})


def responses(db: Executor, round_ids: Sequence[int]) -> pd.DataFrame:
    """The stored responses of rounds (:data:`governance.evaluation.RESPONSE_COLUMNS`), in the reader's grids."""
    frame = rows_frame(db, f"SELECT {', '.join(RESPONSE_COLUMNS)} FROM evaluation_responses "
                           "WHERE round_id = ANY(:ids) ORDER BY round_id, grid_code, id",
                       {"ids": [int(i) for i in round_ids]})
    frame["staff_id"] = pd.array(frame["staff_id"].tolist(), dtype="Int64") if len(frame) else pd.Series([], dtype="Int64")
    return frame


def code_record(db: Executor, round_id: int, code_hash: str) -> CodeRecord | None:
    """The code record of a hash (``gridgov.evaluation_code``), or ``None``."""
    row = db.execute(text("SELECT * FROM gridgov.evaluation_code(:r, :h)"), {"r": int(round_id), "h": code_hash}).first()
    if row is None:
        return None
    return CodeRecord(round_id=int(row.round_id), code_hash=row.code_hash, grid_code=row.grid_code,
                      staff_id=None if row.staff_id is None else int(row.staff_id), expires_at=row.expires_at,
                      used=bool(row.used))


def submit_response(db: Executor, code_hash: str, response: EvaluationResponse) -> str:
    """Write one response through ``gridgov.evaluation_submit``: ``ok``, ``used``, ``unknown``,
    ``not_open`` or ``expired`` (nothing is written unless ``ok``)."""
    return str(db.execute(text(
        "SELECT gridgov.evaluation_submit(:r, :h, CAST(:s AS smallint), CAST(:p AS smallint), CAST(:x AS smallint), "
        ":k, :c, :d)"),
        {"r": int(response.round_id), "h": code_hash, "s": response.service, "p": response.responsiveness,
         "x": response.resolution, "k": response.knows_worker, "c": response.comment, "d": response.submitted_on},
    ).scalar_one())
