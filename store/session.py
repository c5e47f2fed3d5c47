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

__all__ = ["unit_of_work", "read_only"]


@contextmanager
def unit_of_work(bind: Engine | Connection, actor: Actor | None = None) -> Iterator[Connection]:
    """A transaction for ``actor`` on ``bind`` (see the module docstring)."""
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
