"""Small-count suppression of special-household figures (access.disclosure): the one rule and who is exempt."""

from __future__ import annotations

import pandas as pd
import pytest

from access.disclosure import (SMALL_COUNT, disclose_counts, keeps_exact_counts, suppress_count,
                               suppress_small_counts)

GRID = "430603001001001"   # a micro-grid (level 3)
OTHER = "430603001002001"  # a micro-grid of another level-2 grid


@pytest.mark.parametrize(("value", "shown"), [(0, 0), (1, None), (4, None), (5, 5), (17, 17), (None, None)])
def test_suppress_count(value, shown) -> None:  # noqa: ANN001
    assert suppress_count(value) == shown
    assert SMALL_COUNT == 5


def test_suppress_small_counts_is_vectorized_and_keeps_the_input() -> None:
    counts = pd.Series([0, 1, 2, 3, 4, 5, 6, 40], index=list("abcdefgh"))
    out = suppress_small_counts(counts)
    assert out.dtype == "Int64" and list(out.index) == list("abcdefgh")
    assert out.isna().tolist() == [False, True, True, True, True, False, False, False]
    assert out.dropna().tolist() == [0, 5, 6, 40]
    assert counts.tolist() == [0, 1, 2, 3, 4, 5, 6, 40]  # not mutated
    assert suppress_small_counts([2, 9], threshold=10).isna().tolist() == [True, True]
    with pytest.raises(ValueError):
        suppress_small_counts(pd.Series(["three"]))


def test_who_keeps_exact_counts() -> None:
    # the grid's own worker / grid head: their grant is the grid or an ancestor
    assert keeps_exact_counts("worker", [GRID], GRID)
    assert keeps_exact_counts("grid_head", [GRID[:9]], GRID)
    # another grid, another role, a street-wide account, no code: suppressed
    assert not keeps_exact_counts("worker", [GRID], OTHER)
    assert not keeps_exact_counts("worker", [GRID], GRID[:12])  # the level-2 grid above: not only her families
    for role in ("leader", "planner", "inspector", "admin", "police", "doctor", "supervisor", "coordinator", None):
        assert not keeps_exact_counts(role, [GRID], GRID), role
    assert not keeps_exact_counts("grid_head", [GRID[:9]], GRID, street_wide=True)
    assert not keeps_exact_counts("worker", [GRID], None)


def test_disclose_counts_per_row() -> None:
    frame = pd.DataFrame({"code": [GRID, OTHER, "430603001003001"], "households": [3, 2, 120],
                          "special_households": [2, 3, 12], "special_elderly": [0, 1, 4]})
    worker = disclose_counts(frame, ["special_households", "special_elderly"], role="worker", own_prefixes=[GRID])
    assert worker["special_households"].tolist()[0] == 2 and pd.isna(worker["special_households"].iloc[1])
    assert worker["special_households"].iloc[2] == 12 and pd.isna(worker["special_elderly"].iloc[2])
    assert worker["special_elderly"].iloc[0] == 0
    assert worker["households"].tolist() == [3, 2, 120]  # not a special count: untouched
    leader = disclose_counts(frame, ["special_households"], role="leader", own_prefixes=[GRID[:9]])
    assert leader["special_households"].isna().tolist() == [True, True, False]
    assert frame["special_households"].tolist() == [2, 3, 12]  # the input is not changed
