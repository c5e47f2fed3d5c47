"""Units of work: one transaction per use case, bound to the acting person.

:func:`unit_of_work` is the one way services open a transaction. Given an ``Engine`` it begins a
transaction (committed on success, rolled back on any error); given a ``Connection`` already in a
transaction (a test, or a caller composing use cases) it runs in a SAVEPOINT inside it. The actor
is bound to the transaction, so the database can enforce the actor's scope below the application.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from access.actor import Actor

__all__ = ["unit_of_work", "read_only", "acting_as"]


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
    elif bind.in_transaction():
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin():
            yield bind


@contextmanager
def read_only(bind: Engine | Connection, actor: Actor | None = None) -> Iterator[Connection]:
    """A transaction for reads (rolled back at the end, so nothing it did persists)."""
    if isinstance(bind, Engine):
        with bind.connect() as conn, conn.begin() as trans:
            try:
                yield conn
            finally:
                trans.rollback()
    else:
        with unit_of_work(bind, actor) as conn:
            yield conn
