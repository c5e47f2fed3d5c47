"""Units of work: one transaction per use case, bound to the acting person.

:func:`unit_of_work` is the one way services open a transaction. Given an ``Engine`` it begins a
transaction (committed on success, rolled back on any error); given a ``Connection`` already in a
transaction (a test, or a caller composing use cases) it runs in a SAVEPOINT inside it. The actor
is bound to the transaction, so the database can enforce the actor's scope below the application.

:func:`run_in_transaction` is :func:`unit_of_work` for a whole use case, retried when PostgreSQL
gives up on it for a concurrent one (a deadlock, ``40P01``, or a serialization failure,
``40001``): the transaction was rolled back, so running it again is safe. The retries are
bounded (:data:`RETRY_ATTEMPTS`) with exponential back-off and jitter; when they are used up
the use case fails with :class:`ConcurrentWriteError` (one line, exit 1). Only a transaction the
helper owns (an ``Engine`` bind) is retried; inside a caller's transaction the error goes up to
the caller, who owns it.

:func:`database_error` says what a database exception means for a person: the server gone or
unreachable (:class:`gis.errors.DatabaseUnavailableError`, exit 2), a value the database cannot
store (:class:`gis.errors.ValidationError`), a concurrent write — or ``None`` for anything else.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from access.actor import Actor
from gis.errors import DatabaseUnavailableError, GridGovError, ValidationError

@contextmanager
def acting_as(actor: Actor | None) -> Iterator[Actor | None]:
    """Bind ``actor`` to every transaction opened in this context (thread or task) until the block ends.

    Application engines then run each transaction in the actor's session (row-level security);
    owner engines record the actor's name in the audit trail. ``None`` binds nobody (fail closed).
    """
    from store.engine import CURRENT_ACTOR_NAME, CURRENT_SESSION

    session = CURRENT_SESSION.set(actor.session_token if actor else None)
    name = CURRENT_ACTOR_NAME.set(actor.name if actor else None)
    try:
        yield actor
    finally:
        CURRENT_SESSION.reset(session)
        CURRENT_ACTOR_NAME.reset(name)
__all__ = [
    "acting_as",
    "unit_of_work",
    "inline_units",
    "read_only",
    "run_in_transaction",
    "ConcurrentWriteError",
    "RefusedByDatabase",
    "database_error",
    "is_retryable",
    "RETRY_ATTEMPTS",
    "retry_counts",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Attempts of a use case that PostgreSQL rolled back for a concurrent one (deadlock, serialization).
RETRY_ATTEMPTS = 6
#: First back-off in seconds; doubled each retry, times a random factor in [0.5, 1.5).
RETRY_BASE_DELAY_S = 0.02

_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
_UNAVAILABLE_CLASSES = ("08", "57P")  # connection exceptions; admin/crash shutdown, cannot connect now

_counts_lock = threading.Lock()
_counts = {"retried": 0, "gave_up": 0}


class RefusedByDatabase(GridGovError, PermissionError):
    """PostgreSQL refused the write: row-level security or a permission check (exit code 1)."""

    code = "db.refused"


class ConcurrentWriteError(GridGovError, RuntimeError):
    """A write kept colliding with concurrent ones (deadlock or serialization failure) after every retry."""

    code = "db.concurrent"


def retry_counts(*, reset: bool = False) -> dict[str, int]:
    """How many transactions this process retried and gave up on (for tests and benchmarks)."""
    with _counts_lock:
        out = dict(_counts)
        if reset:
            _counts.update(retried=0, gave_up=0)
    return out


@contextmanager
def unit_of_work(bind: Engine | Connection, actor: Actor | None = None) -> Iterator[Connection]:
    """A transaction for ``actor`` on ``bind`` (see the module docstring)."""
    if actor is not None and actor.session_token is not None:
        from store.engine import CURRENT_SESSION

        if CURRENT_SESSION.get() != actor.session_token:
            with acting_as(actor), unit_of_work(bind, None) as conn:
                yield conn
            return
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            yield conn
    elif bind.in_transaction() and _INLINE.get() is not None:
        _bind_inline(bind, _INLINE.get())
        yield bind
    elif bind.in_transaction():
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin():
            yield bind


#: Inside :func:`inline_units`: connection id → (its transaction, session, actor name) last bound to it;
#: ``None`` outside (units of work on a connection in a transaction take a SAVEPOINT).
_INLINE: ContextVar[dict[int, tuple[object, str, str]] | None] = ContextVar("gridgov_inline_units", default=None)


def _bind_inline(conn: Connection, bound: dict[int, tuple[object, str, str]]) -> None:
    """Bind the current actor to ``conn``'s transaction unless it is bound already (one round trip saved
    per unit of work when one person does many things in a row)."""
    from store.engine import CURRENT_ACTOR_NAME, CURRENT_SESSION, bind_current_actor

    transaction = conn.get_transaction()
    wanted = (CURRENT_SESSION.get() or "", CURRENT_ACTOR_NAME.get() or "")
    last = bound.get(id(conn))
    if last is not None and last[0] is transaction and last[1:] == wanted:
        return
    bind_current_actor(conn)
    bound[id(conn)] = (transaction, *wanted)


@contextmanager
def inline_units() -> Iterator[None]:
    """Run every :func:`unit_of_work` on a connection already in a transaction directly in that
    transaction — no SAVEPOINT — binding each unit's actor (its session and name) as a new
    transaction would (:func:`store.engine.bind_current_actor`), until the block ends.

    For a caller that composes many use cases into one transaction of its own and wants every row
    they write stamped with that transaction's id (the demo load: :func:`store.seed.foreign_data`
    recognises the demo's rows by it; rows written in a savepoint carry a subtransaction's id). A
    failing use case then fails the whole transaction (nothing is rolled back to a savepoint), and a
    dry run (``run_in_transaction(commit=False)``) still uses a savepoint.
    """
    token = _INLINE.set({})
    try:
        yield
    finally:
        _INLINE.reset(token)


@contextmanager
def read_only(bind: Engine | Connection, actor: Actor | None = None) -> Iterator[Connection]:
    """A transaction for reads (rolled back at the end, so nothing it did persists), bound to ``actor``."""
    if actor is not None and actor.session_token is not None:
        from store.engine import CURRENT_SESSION

        if CURRENT_SESSION.get() != actor.session_token:
            with acting_as(actor), read_only(bind, None) as conn:
                yield conn
            return
    if isinstance(bind, Engine):
        with bind.connect() as conn, conn.begin() as trans:
            try:
                yield conn
            finally:
                trans.rollback()
    else:
        with unit_of_work(bind, actor) as conn:
            yield conn


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None)


def is_retryable(exc: BaseException) -> bool:
    """Whether PostgreSQL rolled the transaction back for a concurrent one (deadlock, serialization failure)."""
    return _sqlstate(exc) in _RETRYABLE_SQLSTATES


class _RollBack(Exception):
    """Leaves a :func:`unit_of_work` with its result but without committing (a dry run)."""

    def __init__(self, result: object) -> None:
        super().__init__("dry run")
        self.result = result


def run_in_transaction(
    bind: Engine | Connection,
    actor: Actor | None,
    work: Callable[[Connection], T],
    *,
    attempts: int = RETRY_ATTEMPTS,
    commit: bool = True,
) -> T:
    """``work(conn)`` in one :func:`unit_of_work`, run again after a deadlock or serialization failure.

    With ``commit=False`` the whole work is done, database checks included, and rolled back (a
    dry run); its result is returned.

    Raises
    ------
    ConcurrentWriteError
        Still colliding after ``attempts`` tries (nothing of it was written).
    """
    owned = isinstance(bind, Engine)
    inline = None if commit else _INLINE.set(None)  # a dry run is rolled back: it needs its savepoint
    try:
        return _run(bind, actor, work, attempts=attempts, commit=commit, owned=owned)
    finally:
        if inline is not None:
            _INLINE.reset(inline)


def _run(bind: Engine | Connection, actor: Actor | None, work: Callable[[Connection], T], *, attempts: int,
         commit: bool, owned: bool) -> T:
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work(bind, actor) as conn:
                result = work(conn)
                if not commit:
                    raise _RollBack(result)
                return result
        except _RollBack as done:
            return done.result  # type: ignore[return-value]
        except DBAPIError as exc:
            if not is_retryable(exc):
                raise
            kind = "a deadlock" if _sqlstate(exc) == "40P01" else "a serialization failure"
            if not owned or attempt == attempts:
                with _counts_lock:
                    _counts["gave_up"] += 1
                raise ConcurrentWriteError(
                    f"the database rolled this change back after {kind} with concurrent changes"
                    + (f", {attempts} times" if owned else "")
                    + "; nothing was saved — try again", code="db.concurrent",
                ) from exc
            with _counts_lock:
                _counts["retried"] += 1
            delay = RETRY_BASE_DELAY_S * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            logger.info("retrying after %s (attempt %d of %d, %.3f s)", kind, attempt + 1, attempts, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return " ".join(text[0].split()) if text else type(orig).__name__


def database_error(exc: BaseException) -> GridGovError | None:
    """The :class:`~gis.errors.GridGovError` a database exception means, or ``None`` if it is none of these.

    * the connection was lost or cannot be made (server stopped, killed, restarting, network):
      :class:`~gis.errors.DatabaseUnavailableError` (exit 2), saying what to do;
    * a deadlock or serialization failure: :class:`ConcurrentWriteError`;
    * a value the database cannot store (class ``22``: NUL in text, number out of range …) or a
      constraint it breaks (class ``23``): :class:`~gis.errors.ValidationError` (exit 1).
    """
    import psycopg

    if isinstance(exc, GridGovError):
        return exc
    orig = getattr(exc, "orig", exc)
    if not isinstance(exc, (DBAPIError, psycopg.Error)):
        return None
    state = _sqlstate(exc) or ""
    line = _first_line(exc)
    invalidated = bool(getattr(exc, "connection_invalidated", False))
    if invalidated or state.startswith(_UNAVAILABLE_CLASSES) or (
        isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)) and not state
    ):
        return DatabaseUnavailableError(
            f"lost the connection to the database ({line}); the command's open transaction was rolled back. "
            "Check the server (`gridgov db status`; `gridgov db up` for the local cluster) and run the command again",
            code="db.connection_lost",
        )
    if state == "42501":  # insufficient_privilege: a row-level security policy or a permission check refused
        if "row-level security" in line:
            return RefusedByDatabase("refused: your account may not change rows outside its grids (or of this kind)",
                                     code="db.refused_rls")
        return RefusedByDatabase(f"refused: {line}", code="db.refused")
    if state in _RETRYABLE_SQLSTATES:
        return ConcurrentWriteError(f"the database rolled this change back after a concurrent change ({line}); try again",
                                    code="db.concurrent")
    if state.startswith("22") or (isinstance(orig, psycopg.DataError) and not state):
        return ValidationError(f"the database cannot store a value of this input: {line}", code="db.bad_value")
    if state.startswith("23"):
        return ValidationError(f"the change conflicts with data already stored: {line}", code="db.conflict")
    return None
