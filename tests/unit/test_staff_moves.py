"""The staff rule of a redraw (governance.staff_moves), without a database."""

from __future__ import annotations

import pandas as pd
import pytest

from governance.staff_moves import moves_that_change, propose_staff_moves, role_flags, with_choices

TEAM = pd.DataFrame({
    "assignment_id": [1, 2, 3, 4, 5, 6],
    "staff_key": ["w1", "p1", "d1", "w2", "p2", "w3"],
    "name": ["甲", "乙", "丙", "丁", "戊", "己"],
    "role": ["micro_worker", "grid_police", "family_doctor", "micro_worker", "grid_police", "micro_worker"],
    "grid_code": ["A", "A", "A", "B", "B", "C"],
})


def test_split_goes_to_the_part_with_most_households_and_covers_the_other() -> None:
    moves = propose_staff_moves(TEAM, lineage=[("A", "A1", "split"), ("A", "A2", "split")],
                                after_codes=["A1", "A2", "B", "C"], households_after={"A1": 10, "A2": 40},
                                retired=["A"], affected=["A1", "A2"])
    assert list(moves["assignment_id"]) == [1, 2, 3]
    assert set(moves["to_codes"]) == {("A2", "A1")} and set(moves["rule"]) == {"split_largest"}
    flags = role_flags(moves, ["A1", "A2"], roles=("micro_worker", "grid_police", "supervisor"))
    assert set(zip(flags["grid_code"], flags["role"], flags["status"])) == {
        ("A1", "micro_worker", "shared"), ("A1", "grid_police", "shared"),
        ("A1", "supervisor", "missing"), ("A2", "supervisor", "missing")}
    planned = with_choices(moves, {1: ["A1"]})
    assert planned.loc[planned["assignment_id"] == 1, "rule"].item() == "planner"
    flags = role_flags(planned, ["A1", "A2"], roles=("micro_worker",))
    assert list(zip(flags["grid_code"], flags["status"])) == [("A2", "missing")]
    with pytest.raises(ValueError, match="assignment 2"):
        with_choices(moves, {2: ["B"]})
    with pytest.raises(ValueError, match="assignment 9"):
        with_choices(moves, {9: ["A1"]})


def test_merge_keeps_both_teams_and_a_kept_grid_keeps_its_own() -> None:
    moves = propose_staff_moves(TEAM, lineage=[("B", "A", "merge")], after_codes=["A", "C"],
                                households_after={"A": 50}, retired=["B"], affected=["A"])
    by_id = dict(zip(moves["assignment_id"], moves["to_codes"]))
    assert by_id == {1: ("A",), 2: ("A",), 3: ("A",), 4: ("A",), 5: ("A",)}
    assert set(moves_that_change(moves)["assignment_id"]) == {4, 5}
    assert dict(zip(moves["assignment_id"], moves["rule"]))[4] == "merge"


def test_a_retired_code_without_successor_must_be_chosen() -> None:
    moves = propose_staff_moves(TEAM, lineage=[], after_codes=["A", "B"], households_after={}, retired=["C"])
    assert list(moves["to_codes"]) == [()] and list(moves["rule"]) == ["no_successor"]
