"""Small counts: figures about special households that could point at a family are not shown below 5.

A count of special households (困难家庭, 留守儿童, 空巢老人 … — sensitive personal information under
PIPL art. 28) per grid, or a heatmap cell built from them, tells a reader "the one family in this
building is …" when it is small. Leaders, planners, inspectors and everyone else who reads such
figures *about* grids (not *for* their own grid) see them aggregated per grid with counts of
1–4 suppressed; the grid's own micro-grid worker and grid head — who visit those families — keep
the exact numbers.

Pure functions: :func:`suppress_small_counts` (the one rule), :func:`keeps_exact_counts` (who is
exempt for which grid) and :func:`disclose_counts` (a frame of per-grid counts as a viewer may see
it). Suppressed values are ``None`` (``pd.NA`` in frames); pages word them from the catalogue
(``count.suppressed``), the CLI and JSON print ``null``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

__all__ = ["SMALL_COUNT", "EXACT_COUNT_ROLES", "suppress_small_counts", "suppress_count", "keeps_exact_counts",
           "disclose_counts", "FAMILY_LIST_ROLES", "sees_families"]

#: Counts below this (and above zero) are suppressed.
SMALL_COUNT = 5
#: Roles that keep exact counts for the grids of their own grants (they work with those families).
EXACT_COUNT_ROLES = frozenset({"worker", "grid_head"})


#: Roles that may see *which* households of their own grids are special (the families they visit and
#: serve: the micro-grid worker, the grid head and the five-role team). Leaders, planners, inspectors
#: and admins read counts only.
FAMILY_LIST_ROLES = EXACT_COUNT_ROLES | {"police", "doctor", "supervisor", "coordinator"}


def sees_families(role: str | None, own_prefixes: Iterable[str], codes: Iterable[object], *,
                  street_wide: bool = False) -> bool:
    """Whether a viewer may see which households of the grids ``codes`` are special: a role of
    :data:`FAMILY_LIST_ROLES`, not street-wide, whose grants cover every one of ``codes`` (at least one)."""
    prefixes = tuple(own_prefixes)
    listed = [c for c in codes if isinstance(c, str) and c]
    if street_wide or role not in FAMILY_LIST_ROLES or not prefixes or not listed:
        return False
    return all(any(c.startswith(p) for p in prefixes) for c in listed)


def suppress_count(value: int | None, *, threshold: int = SMALL_COUNT) -> int | None:
    """``value`` unless it is between 1 and ``threshold - 1``: then ``None``. Zero is shown (nobody to point at)."""
    if value is None or pd.isna(value):
        return None
    number = int(value)
    return None if 0 < number < threshold else number


def suppress_small_counts(counts: pd.Series | Sequence[int], *, threshold: int = SMALL_COUNT) -> pd.Series:
    """``counts`` with every value in ``1 .. threshold - 1`` replaced by ``pd.NA`` (nullable ``Int64``).

    Vectorized; the input is not changed and its index is kept. Zero and counts of ``threshold``
    or more are kept as they are.
    """
    series = counts if isinstance(counts, pd.Series) else pd.Series(list(counts))
    values = pd.to_numeric(series, errors="raise").astype("Int64")
    return values.mask((values > 0) & (values < threshold))


def keeps_exact_counts(role: str | None, own_prefixes: Iterable[str], code: str | None, *,
                       street_wide: bool = False) -> bool:
    """Whether a viewer of ``role`` whose grants are ``own_prefixes`` sees exact counts for grid ``code``.

    Only the grid's own people: a worker or grid head (:data:`EXACT_COUNT_ROLES`) whose grants
    cover ``code`` (the grant is the grid or one of its ancestors). A street-wide account never does
    (its figures are about the street, not its own grid).
    """
    if street_wide or role not in EXACT_COUNT_ROLES or not code:
        return False
    return any(code.startswith(p) for p in own_prefixes)


def disclose_counts(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    role: str | None,
    own_prefixes: Iterable[str] = (),
    street_wide: bool = False,
    code_column: str = "code",
    threshold: int = SMALL_COUNT,
) -> pd.DataFrame:
    """A copy of ``frame`` (one row per grid) with ``columns`` suppressed where the viewer does not keep exact counts.

    A row keeps its exact values when :func:`keeps_exact_counts` says so for its ``code_column``;
    every other row has counts of 1 to ``threshold - 1`` replaced by ``pd.NA``. Suppressed columns
    become nullable ``Int64``.
    """
    prefixes = tuple(own_prefixes)
    exact = frame[code_column].map(
        lambda c: keeps_exact_counts(role, prefixes, c if isinstance(c, str) else None, street_wide=street_wide)
    ).astype(bool)
    out = frame.copy()
    for column in columns:
        values = pd.to_numeric(frame[column], errors="raise").astype("Int64")
        out[column] = values.where(exact, suppress_small_counts(values, threshold=threshold))
    return out
