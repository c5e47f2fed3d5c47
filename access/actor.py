"""Who is acting: the account behind a page, a command or an API call.

Every write records its actor, and every read runs in the actor's scope. An actor comes from a
login session (:func:`services.auth.actor_for_token`); its ``session_token`` is what the database
checks in every transaction (:mod:`store.engine`). An actor without a token (a name only) is used
by the owner's own tools (migrations, the demo load) and by pure tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from access.scope import Scope
from gis.errors import ValidationError

__all__ = ["Actor"]


@dataclass(frozen=True)
class Actor:
    """The acting person: a display ``name`` (recorded as the author of writes) and a ``scope``.

    ``account`` is the login name once accounts exist, ``role`` its role, ``staff_id`` the linked
    staff record (a worker's "my grid" follows from it), ``session_token`` the server-side session
    the database checks per transaction.
    """

    name: str
    scope: Scope = field(default_factory=Scope.all)
    account: str | None = None
    role: str | None = None
    staff_id: int | None = None
    session_token: str | None = field(default=None, repr=False)
    read_only: bool = False
    account_id: int | None = None
    display_name: str = ""

    def __post_init__(self) -> None:
        if not (self.name or "").strip():
            raise ValidationError("the actor has no name: every change records who made it", code="actor.missing")
        object.__setattr__(self, "name", self.name.strip())

    @property
    def label(self) -> str:
        """What a page shows for the person: the display name, else the account name."""
        return self.display_name or self.name

    @classmethod
    def named(cls, name: str | None, *, default: str | None = None) -> "Actor":
        """An actor over the whole street named ``name``, else ``default``, else the configured actor."""
        from gis.settings import get_settings

        chosen = (name or "").strip() or (default or "").strip() or (get_settings().actor or "")
        if not chosen:
            import getpass

            chosen = getpass.getuser() or "cli"
        return cls(name=chosen)
