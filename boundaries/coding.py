"""The grid code scheme: the one place that knows how grid codes are built.

Default scheme (``GRIDGOV_CODE_WIDTHS=12,3,3``): a level-1 grid's code is the 12-digit
statistical code of its village/community (6-digit county + 3-digit township/street +
3-digit village/community); every deeper level appends a fixed-width sequence (3 digits by
default), so a level-2 code has 15 digits and a micro-grid code 18. Codes are strings
(leading zeros matter), immutable and never reused.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gis.errors import GridGovError

__all__ = ["InvalidGridCodeError", "CodeScheme", "default_scheme", "LINEAGE_KINDS", "resolve_code", "lineage_edges"]


class InvalidGridCodeError(GridGovError, ValueError):
    """A grid code does not follow the configured code scheme."""

    code = "code.invalid"

#: Kinds of old code → new code links (same list as the ``code_lineage.kind`` check).
LINEAGE_KINDS = ("split", "merge", "renumber", "transfer", "reshape", "replace")


@dataclass(frozen=True)
class CodeScheme:
    """A hierarchical fixed-width numeric code scheme.

    Parameters
    ----------
    widths:
        Digits contributed by each level: ``widths[0]`` is the whole level-1 code length,
        ``widths[k]`` the sequence length added at level ``k + 1``. 1 to 5 levels.
    """

    widths: tuple[int, ...] = (12, 3, 3)

    def __post_init__(self) -> None:
        if not 1 <= len(self.widths) <= 5 or any(int(w) <= 0 for w in self.widths):
            raise InvalidGridCodeError(
                f"code widths were {self.widths!r} but are expected to be 1 to 5 positive integers", code="code.scheme_invalid"
            )

    # -- shape -------------------------------------------------------------------------
    @property
    def levels(self) -> int:
        """Number of levels; the finest level (micro-grid) equals this number."""
        return len(self.widths)

    @property
    def finest_level(self) -> int:
        return self.levels

    def length(self, level: int) -> int:
        """Total code length (digits) at ``level`` (1-based)."""
        self._check_level(level)
        return sum(self.widths[:level])

    def _check_level(self, level: int) -> None:
        if not 1 <= level <= self.levels:
            raise InvalidGridCodeError(f"level was {level} but is expected to be in 1..{self.levels}", code="code.level_invalid", params={"level": level, "levels": self.levels})

    # -- parsing -----------------------------------------------------------------------
    def level_of(self, code: str) -> int:
        """Level of ``code`` (from its length); raises :class:`InvalidGridCodeError`."""
        return len(self.parse(code))

    def parse(self, code: str) -> tuple[str, ...]:
        """Split ``code`` into its parts (level-1 code, then one sequence per level).

        Raises
        ------
        InvalidGridCodeError
            With a message saying which part is wrong.
        """
        if not isinstance(code, str):
            raise InvalidGridCodeError(
                f"grid code {code!r} is a {type(code).__name__} but is expected to be a string of digits "
                "(read codes as text so leading zeros survive)", code="code.not_text", params={"code": str(code)}
            )
        text = code.strip()
        if text != code or not text:
            raise InvalidGridCodeError(f"grid code {code!r} is expected to be digits with no spaces", code="code.spaces", params={"code": code})
        if not text.isascii() or not text.isdigit():
            bad = next(i for i, ch in enumerate(text) if not ("0" <= ch <= "9"))
            raise InvalidGridCodeError(
                f"grid code {code!r} has a non-digit {text[bad]!r} at position {bad + 1}; codes are digits only", code="code.non_digit", params={"code": code, "position": bad + 1}
            )
        lengths = [self.length(level) for level in range(1, self.levels + 1)]
        if len(text) not in lengths:
            raise InvalidGridCodeError(
                f"grid code {code!r} has {len(text)} digits but a code of this scheme has "
                + " or ".join(f"{n} (level {i + 1})" for i, n in enumerate(lengths))
                + " digits", code="code.length", params={"code": code, "digits": len(text), "lengths": lengths}
            )
        parts: list[str] = []
        start = 0
        for level, width in enumerate(self.widths, start=1):
            if start >= len(text):
                break
            part = text[start : start + width]
            if level > 1 and set(part) == {"0"}:
                raise InvalidGridCodeError(
                    f"grid code {code!r}: the level-{level} sequence (digits {start + 1}-{start + width}) "
                    f"is {part!r}; sequences start at {'0' * (width - 1)}1", code="code.zero_sequence", params={"code": code, "level": level}
                )
            parts.append(part)
            start += width
        return tuple(parts)

    def is_valid(self, code: object) -> bool:
        try:
            self.parse(code)  # type: ignore[arg-type]
        except InvalidGridCodeError:
            return False
        return True

    def validate(self, code: str, *, level: int | None = None) -> str:
        """Return ``code`` if it is well formed (and at ``level`` when given)."""
        actual = self.level_of(code)
        if level is not None and actual != level:
            raise InvalidGridCodeError(
                f"grid code {code!r} is a level-{actual} code ({len(code)} digits) but level {level} "
                f"expects {self.length(level)} digits", code="code.wrong_level", params={"code": code, "level": level, "actual": actual}
            )
        return code

    def parent_of(self, code: str) -> str | None:
        """Parent code of ``code`` (``None`` for a level-1 code)."""
        level = self.level_of(code)
        if level == 1:
            return None
        return code[: self.length(level - 1)]

    def ancestors_of(self, code: str) -> list[str]:
        """All ancestor codes, nearest parent last (level-1 code first)."""
        level = self.level_of(code)
        return [code[: self.length(k)] for k in range(1, level)]

    def is_ancestor(self, ancestor: str, code: str) -> bool:
        return len(ancestor) < len(code) and code.startswith(ancestor) and self.is_valid(ancestor)

    # -- allocation --------------------------------------------------------------------
    def child_code(self, parent: str, sequence: int) -> str:
        """The child code number ``sequence`` (1-based) under ``parent``."""
        level = self.level_of(parent) + 1
        if level > self.levels:
            raise InvalidGridCodeError(
                f"grid {parent!r} is at the finest level ({self.levels}) and cannot have children", code="code.finest_level", params={"code": parent}
            )
        width = self.widths[level - 1]
        if not 1 <= sequence < 10**width:
            raise InvalidGridCodeError(
                f"sequence {sequence} under {parent!r} is expected to be in 1..{10**width - 1}", code="code.sequence_range", params={"code": parent, "sequence": sequence}
            )
        return f"{parent}{sequence:0{width}d}"

    def next_free_code(self, parent: str, taken: Iterable[str]) -> str:
        """Lowest unused child code under ``parent``.

        ``taken`` must include retired codes: codes are never reused, so a retired
        sequence number is skipped as if it were in use.
        """
        return self.next_free_codes(parent, taken, 1)[0]

    def next_free_codes(self, parent: str, taken: Iterable[str], count: int) -> list[str]:
        """``count`` new child codes under ``parent``, above the highest code ever used there.

        New codes go after the highest sequence ever allocated (never into a gap a retired
        code left), so a code always names one grid's lineage.
        """
        level = self.level_of(parent) + 1
        if level > self.levels:
            raise InvalidGridCodeError(
                f"grid {parent!r} is at the finest level ({self.levels}) and cannot have children", code="code.finest_level", params={"code": parent}
            )
        n = self.length(level)
        used = [int(c[len(parent):]) for c in taken if len(c) == n and c.startswith(parent)]
        start = max(used, default=0) + 1
        return [self.child_code(parent, start + i) for i in range(count)]


def default_scheme(widths: tuple[int, ...] | None = None) -> CodeScheme:
    """The scheme from settings (``GRIDGOV_CODE_WIDTHS``) unless ``widths`` is given."""
    if widths is None:
        from gis.settings import get_settings

        widths = get_settings().code_widths
    return CodeScheme(tuple(widths))


def lineage_edges(lineage: Any) -> list[tuple[str, str]]:
    """(old_code, new_code) pairs from any lineage representation.

    Accepts a DataFrame with ``old_code`` / ``new_code`` columns, objects with
    ``old_code`` / ``new_code`` attributes (e.g. :class:`boundaries.model.LineageLink`),
    mappings with those keys, or tuples ``(old_code, new_code, ...)``.
    """
    if lineage is None:
        return []
    if hasattr(lineage, "columns"):
        return list(zip(lineage["old_code"].astype(str), lineage["new_code"].astype(str)))
    edges: list[tuple[str, str]] = []
    for item in lineage:
        if hasattr(item, "old_code"):
            edges.append((str(item.old_code), str(item.new_code)))
        elif isinstance(item, dict):
            edges.append((str(item["old_code"]), str(item["new_code"])))
        else:
            edges.append((str(item[0]), str(item[1])))
    return edges


def resolve_code(code: str, lineage: Any, active_codes: Iterable[str]) -> list[str]:
    """Today's grid code(s) an old (possibly retired) ``code`` corresponds to.

    Follows the lineage graph (old → new links from splits, merges, renumbering...)
    transitively, breadth first, and returns the sorted active codes reached. An active
    code resolves to itself. A code with no path to an active code resolves to ``[]``.
    Cycles are harmless (each code is visited once).

    Parameters
    ----------
    code:
        Any code ever allocated.
    lineage:
        Lineage links in any form :func:`lineage_edges` accepts.
    active_codes:
        Codes of the current plan.
    """
    active = set(active_codes)
    if code in active:
        return [code]
    graph: dict[str, list[str]] = defaultdict(list)
    for old, new in lineage_edges(lineage):
        if old != new:
            graph[old].append(new)
    found: set[str] = set()
    seen = {code}
    queue: deque[str] = deque([code])
    while queue:
        current = queue.popleft()
        for nxt in graph.get(current, ()):
            if nxt in seen:
                continue
            seen.add(nxt)
            if nxt in active:
                found.add(nxt)  # an active grid is a destination: do not follow it further
            else:
                queue.append(nxt)
    return sorted(found)
