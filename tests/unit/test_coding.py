"""Grid code scheme: parsing, levels, parents, allocation, and lineage resolution."""

from __future__ import annotations

import pandas as pd
import pytest

from boundaries.coding import CodeScheme, default_scheme, lineage_edges, resolve_code
from boundaries.model import LineageLink
from boundaries.coding import InvalidGridCodeError
from gis.settings import Settings

S = CodeScheme()


def test_default_scheme_levels_and_lengths() -> None:
    assert S.widths == (12, 3, 3)
    assert S.levels == 3
    assert [S.length(k) for k in (1, 2, 3)] == [12, 15, 18]


def test_level_follows_code_length() -> None:
    assert S.level_of("420102001001") == 1
    assert S.level_of("420102001001002") == 2
    assert S.level_of("420102001001002003") == 3


def test_parse_returns_parts() -> None:
    assert S.parse("420102001001002003") == ("420102001001", "002", "003")


@pytest.mark.parametrize(
    ("code", "match"),
    [
        ("42010200100", "11 digits"),
        ("4201020010010", "13 digits"),
        ("42010200100A", "non-digit 'A' at position 12"),
        (" 420102001001", "no spaces"),
        ("", "no spaces"),
        ("420102001001000", "level-2 sequence"),
        ("420102001001001000", "level-3 sequence"),
    ],
)
def test_parse_says_which_part_is_wrong(code: str, match: str) -> None:
    with pytest.raises(InvalidGridCodeError, match=match):
        S.parse(code)


def test_non_string_code_is_refused() -> None:
    with pytest.raises(InvalidGridCodeError, match="leading zeros"):
        S.parse(420102001001)  # type: ignore[arg-type]


def test_parent_and_ancestors() -> None:
    assert S.parent_of("420102001001") is None
    assert S.parent_of("420102001001002") == "420102001001"
    assert S.parent_of("420102001001002003") == "420102001001002"
    assert S.ancestors_of("420102001001002003") == ["420102001001", "420102001001002"]
    assert S.is_ancestor("420102001001", "420102001001002003")
    assert not S.is_ancestor("420102001002", "420102001001002003")


def test_validate_level() -> None:
    assert S.validate("420102001001002", level=2) == "420102001001002"
    with pytest.raises(InvalidGridCodeError, match="level 3 expects 18 digits"):
        S.validate("420102001001002", level=3)


def test_next_free_code_skips_retired_and_never_fills_gaps() -> None:
    parent = "420102001001"
    taken = [parent + "001", parent + "002", parent + "005"]  # 005 retired, 003/004 never used
    assert S.next_free_code(parent, taken) == parent + "006"
    assert S.next_free_codes(parent, taken, 3) == [parent + "006", parent + "007", parent + "008"]
    assert S.next_free_code(parent, []) == parent + "001"


def test_finest_level_has_no_children() -> None:
    with pytest.raises(InvalidGridCodeError, match="finest level"):
        S.next_free_code("420102001001002003", [])
    with pytest.raises(InvalidGridCodeError, match="finest level"):
        S.child_code("420102001001002003", 1)


def test_sequence_overflow() -> None:
    with pytest.raises(InvalidGridCodeError, match="1..999"):
        S.child_code("420102001001", 1000)


@pytest.mark.parametrize(
    ("widths", "code", "level", "parent"),
    [
        ((14,), "42010200100101", 1, None),
        ((6, 3, 3, 3), "420102001002003", 4, "420102001002"),
        ((6, 3, 3, 3), "420102", 1, None),
        ((12, 3, 3, 2), "42010200100100200301", 4, "420102001001002003"),
        ((12, 3, 3, 2), "420102001001002", 2, "420102001001"),
    ],
)
def test_other_widths(widths: tuple[int, ...], code: str, level: int, parent: str | None) -> None:
    scheme = CodeScheme(widths)
    assert scheme.level_of(code) == level
    assert scheme.parent_of(code) == parent


def test_other_widths_reject_wrong_lengths() -> None:
    with pytest.raises(InvalidGridCodeError, match="14 \\(level 1\\)"):
        CodeScheme((14,)).parse("420102001001")
    with pytest.raises(InvalidGridCodeError, match="level-4 sequence"):
        CodeScheme((12, 3, 3, 2)).parse("42010200100100200300")
    assert CodeScheme((12, 3, 3, 2)).next_free_code("420102001001002003", []) == "42010200100100200301"


@pytest.mark.parametrize("widths", [(), (3, 3, 3, 3, 3, 3), (12, 0)])
def test_bad_scheme(widths: tuple[int, ...]) -> None:
    with pytest.raises(InvalidGridCodeError):
        CodeScheme(widths)


def test_default_scheme_reads_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env({"GRIDGOV_CODE_WIDTHS": "6,3,3,3"})
    assert settings.code_widths == (6, 3, 3, 3)
    assert default_scheme((6, 3, 3, 3)).levels == 4
    assert default_scheme((12, 3, 3)) == CodeScheme()


# --- lineage ------------------------------------------------------------------------------
A, B, C = "420102001001001001", "420102001001001002", "420102001001001003"


def test_active_code_resolves_to_itself() -> None:
    assert resolve_code(A, [], {A}) == [A]


def test_split_then_merge_resolves_transitively() -> None:
    p = "420102001001001"
    # A split into 004 and 005; 005 then merged into B; 004 renumbered to 006
    lineage = [
        (A, p + "004", "split"),
        (A, p + "005", "split"),
        (p + "005", B, "merge"),
        (p + "004", p + "006", "renumber"),
    ]
    active = {B, C, p + "006"}
    assert resolve_code(A, lineage, active) == sorted([B, p + "006"])
    assert resolve_code(p + "005", lineage, active) == [B]


def test_lineage_forms_and_cycles() -> None:
    links = [LineageLink(A, B, "merge"), LineageLink(B, A, "renumber")]
    assert resolve_code(A, links, {C}) == []  # cycle, nothing active: terminates
    frame = pd.DataFrame({"old_code": [A], "new_code": [C], "kind": ["merge"]})
    assert resolve_code(A, frame, {C}) == [C]
    assert resolve_code(A, [{"old_code": A, "new_code": C}], {C}) == [C]
    assert lineage_edges(links) == [(A, B), (B, A)]


def test_unknown_code_resolves_to_nothing() -> None:
    assert resolve_code("420102001009", [(A, B, "merge")], {B}) == []
