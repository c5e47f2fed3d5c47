"""Shared set-up of the street-practice database tests (tests/db/test_street_*.py): one committed
copy of the demo per test module, its owner and application engines, and ``login(name)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Engine, text

from testdb import demo_copy


@dataclass
class StreetDB:
    url: str
    owner: Engine
    app: Engine
    login: Callable[[str], Any]

    def scalar(self, sql: str, **params: object) -> Any:
        with self.owner.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: object) -> list[Any]:
        with self.owner.connect() as conn:
            return conn.execute(text(sql), params).all()

    def dispose(self) -> None:
        self.owner.dispose()
        self.app.dispose()


def street_db(dbs: Any, data: Any) -> StreetDB:
    """A committed demo copy of its own (tests here write), with engines and logins."""
    from services.auth import owner_session
    from store.engine import OWNER, make_engine

    url = demo_copy(dbs, data)
    owner = make_engine(url, role=OWNER)
    app = make_engine(dbs.app_url(url))
    return StreetDB(url, owner, app, lambda name: owner_session(owner, app, name))
