"""Scope: which grids a person may see, as grid-code prefixes.

A grid code extends its parent's code (``430603001`` → ``430603001002`` → ``430603001002003``),
so "grid G and everything below it" is "every code starting with G". A scope is a set of such
prefixes, or *everything* (the whole street: leaders, planners, inspectors, admins). Household,
incident and visit rows carry the code of their micro-grid, so a scope filters them by prefix;
PostgreSQL row-level security applies the same prefixes below the application.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gis.errors import NotFoundError, ValidationError

__all__ = ["Scope", "OutsideScopeError"]


class OutsideScopeError(NotFoundError):
    """Grid ``code`` was asked for but lies outside the grids the person may see (it is treated as
    absent: nothing about it is shown)."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"grid {code} is outside the grids you may see")


@dataclass(frozen=True)
class Scope:
    """Grid-code prefixes a person may see (``everything``: no restriction).

    An empty scope sees nothing (fail closed).
    """

    prefixes: tuple[str, ...] = ()
    everything: bool = False

    def __post_init__(self) -> None:
        bad = [p for p in self.prefixes if not (isinstance(p, str) and p.isdigit())]
        if bad:
            raise ValidationError(f"scope prefixes {bad!r} are expected to be digits (grid codes or their prefixes)",
                                  code="scope.invalid", params={"prefixes": list(bad)})
        # Keep only the outermost prefixes, sorted: equal scopes compare (and cache) equal.
        kept: list[str] = []
        for prefix in sorted(set(self.prefixes), key=lambda p: (len(p), p)):
            if not any(prefix.startswith(k) for k in kept):
                kept.append(prefix)
        object.__setattr__(self, "prefixes", tuple(sorted(kept)))

    @classmethod
    def all(cls) -> "Scope":
        return cls(everything=True)

    @classmethod
    def none(cls) -> "Scope":
        return cls()

    @classmethod
    def of(cls, prefixes: Iterable[str]) -> "Scope":
        return cls(tuple(str(p) for p in prefixes))

    @classmethod
    def coerce(cls, value: "Scope | Iterable[str] | None") -> "Scope":
        """A :class:`Scope` from a scope, ``None`` (everything) or an iterable of prefixes."""
        if value is None:
            return cls.all()
        if isinstance(value, Scope):
            return value
        if isinstance(value, str):
            return cls((value,))
        return cls.of(value)

    def covers(self, code: str | None) -> bool:
        """Whether a row with grid ``code`` is in scope (an unassigned row only for ``everything``)."""
        if self.everything:
            return True
        return code is not None and any(code.startswith(p) for p in self.prefixes)

    def overlaps(self, code: str) -> bool:
        """Whether grid ``code`` is in scope or is an ancestor of a grid in scope (shown for context)."""
        return self.everything or any(code.startswith(p) or p.startswith(code) for p in self.prefixes)

    @property
    def key(self) -> str:
        """A stable text for cache keys: ``*`` for everything, else the prefixes joined by ``,``."""
        return "*" if self.everything else ",".join(self.prefixes)

    def __str__(self) -> str:
        return "the whole street" if self.everything else (", ".join(self.prefixes) or "nothing")
