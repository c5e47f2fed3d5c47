"""The plausibility rules, one test each (issue #14, point 2): text, counts, moments, vertices, visits, roster
dates, the coverage errors a change adds, ids and coordinates on the command line, database errors."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.errors import DatabaseUnavailableError, ValidationError
from gis.plausibility import (
    Limits,
    check_moment,
    check_text,
    control_character,
    moment_problems,
    range_problems,
    text_problems,
    vertex_problems,
)

SH = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SH)
LIMITS = Limits(earliest=dt.date(2000, 1, 1), skew=dt.timedelta(minutes=5))


# -- text ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "kind", "found"), [
    ("a\x00b", "name", (1, "\x00")),
    ("tab\there", "name", (3, "\t")),
    ("tab\there", "address", None),  # an address may span lines
    ("line\nbreak", "text", None),
    ("esc\x1b", "text", (3, "\x1b")),
    ("del\x7f", "address", (3, "\x7f")),
    ("c1\u0085", "name", (2, "\u0085")),
    ("岳麓区 <b>&amp;</b> '; DROP TABLE x; --", "name", None),  # payloads are text, not control characters
])
def test_control_characters(text, kind, found) -> None:
    assert control_character(text, kind=kind) == found


def test_text_problems_name_the_row_column_and_character() -> None:
    mask, problems = text_problems(["ok", "a\x00b", None, "x" * 201, 7], column="网格名称", kind="name",
                                   keys=["A", "B", "C", "D", "E"])
    assert mask.tolist() == [False, True, False, True, False]
    nul, long = problems
    assert (nul.row, nul.key, nul.rule) == (1, "B", "control_character")
    assert "'网格名称'" in nul.message and "NUL (U+0000)" in nul.message and "position 2" in nul.message
    assert (long.row, long.rule) == (3, "text_too_long") and "201" in long.message and "200" in long.message


def test_check_text_refuses_one_value() -> None:
    assert check_text("fine", what="--note", kind="text") == "fine"
    with pytest.raises(ValidationError, match=r"--note contains a control character, ESC \(U\+001B\)"):
        check_text("a\x1bb", what="--note", kind="text")
    with pytest.raises(ValidationError, match="5,001 characters long; at most 5,000"):
        check_text("x" * 5001, what="--note", kind="text")


# -- counts ----------------------------------------------------------------------------------
def test_counts_outside_their_bounds_are_refused_never_replaced() -> None:
    raw = ["3", "-3", "1000000000", "2.5", "abc", None, "50", "0"]
    numbers = pd.to_numeric(pd.Series(raw, dtype="string"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    mask, problems = range_problems(numbers, column="人口", low=1, high=50, raw=raw, rule="bad_members")
    assert mask.tolist() == [False, True, True, True, True, False, False, True]
    messages = {p.row: p.message for p in problems}
    assert "not a number" in messages[4] and "not a whole number" in messages[3]
    assert all(p.rule == "bad_members" for p in problems) and "refused, not corrected" in messages[1]


# -- moments ---------------------------------------------------------------------------------
def test_moments_in_the_future_or_before_the_earliest_date() -> None:
    check_moment(NOW + dt.timedelta(minutes=4), what="visit time", limits=LIMITS, now=NOW)  # within the skew
    with pytest.raises(ValidationError, match="in the future"):
        check_moment(NOW + dt.timedelta(minutes=6), what="visit time", limits=LIMITS, now=NOW)
    with pytest.raises(ValidationError, match="before 2000-01-01.*GRIDGOV_EARLIEST_DATE"):
        check_moment(dt.datetime(1999, 12, 31, tzinfo=SH), what="visit time", limits=LIMITS, now=NOW)
    with pytest.raises(ValidationError, match="no time zone"):
        check_moment(dt.datetime(2026, 1, 1), what="visit time", limits=LIMITS, now=NOW)


def test_moment_problems_per_row() -> None:
    stamps = pd.Series([pd.Timestamp("2099-01-01", tz=SH), pd.Timestamp("1900-01-01", tz="UTC"), pd.NaT,
                        pd.Timestamp("2025-06-01", tz=SH)])
    mask, problems = moment_problems(stamps, column="上报时间", keys=["a", "b", "c", "d"], limits=LIMITS, now=NOW)
    assert mask.tolist() == [True, True, False, False]
    assert [(p.row, p.rule) for p in problems] == [(0, "in_the_future"), (1, "before_earliest")]


# -- vertices --------------------------------------------------------------------------------
def test_vertex_limit_counts_only() -> None:
    big = shapely.Polygon(np.column_stack([np.cos(np.linspace(0, 6.28, 5000)), np.sin(np.linspace(0, 6.28, 5000))]))
    mask, problems = vertex_problems(np.array([big, shapely.box(0, 0, 1, 1)], dtype=object), limit=1000, keys=["x", "y"])
    assert mask.tolist() == [True, False]
    assert problems[0].rule == "too_many_vertices" and "GRIDGOV_MAX_VERTICES" in problems[0].message


def test_limits_come_from_the_settings(monkeypatch) -> None:
    from gis.settings import get_settings

    monkeypatch.setenv("GRIDGOV_EARLIEST_DATE", "2010-05-01")
    monkeypatch.setenv("GRIDGOV_MAX_VERTICES", "1234")
    monkeypatch.setenv("GRIDGOV_CLOCK_SKEW_S", "60")
    get_settings.cache_clear()
    try:
        limits = Limits.from_settings()
        assert (limits.earliest, limits.max_vertices, limits.skew) == (dt.date(2010, 5, 1), 1234, dt.timedelta(seconds=60))
    finally:
        get_settings.cache_clear()


# -- visits ----------------------------------------------------------------------------------
def test_who_may_visit() -> None:
    from governance.visits import may_visit

    day = dt.date(2026, 11, 20)
    worker = [("430104001001001001", "micro_worker", dt.date(2024, 1, 1), None)]
    head = [("430104001001001", "grid_head", dt.date(2024, 1, 1), None)]
    police_above = [("430104001001001", "grid_police", dt.date(2024, 1, 1), None)]
    ended = [("430104001001001001", "micro_worker", dt.date(2024, 1, 1), dt.date(2026, 11, 19))]
    assert may_visit(worker, "430104001001001001", on=day)
    assert not may_visit(worker, "430104001001001002", on=day)  # another grid's worker
    assert may_visit(head, "430104001001001002", on=day)  # a grid head visits in the grids under theirs
    assert not may_visit(police_above, "430104001001001002", on=day)  # other roles only in their own grid
    assert not may_visit(ended, "430104001001001001", on=day)  # not on that day
    assert not may_visit(worker, None, on=day)  # a household outside every grid


def test_validate_visit_with_its_context() -> None:
    from governance.visits import VisitContext, VisitRecord, validate_visit

    context = VisitContext("430104001001001001", 112.905, 28.205,
                           (("430104001001001001", "micro_worker", dt.date(2024, 1, 1), None),))
    ok = VisitRecord(1, 2, NOW - dt.timedelta(hours=1), lon=112.9052, lat=28.2051)
    assert validate_visit(ok, now=NOW, context=context, limits=LIMITS, max_distance_m=500) is ok
    far = VisitRecord(1, 2, NOW - dt.timedelta(hours=1), lon=70.0, lat=20.0)
    with pytest.raises(ValidationError, match="m from the household; at most 500 m"):
        validate_visit(far, now=NOW, context=context, limits=LIMITS, max_distance_m=500)
    other = VisitContext("430104001001001002", 112.915, 28.205, context.assignments)
    with pytest.raises(ValidationError, match="not assigned to the household's grid 430104001001001002"):
        validate_visit(VisitRecord(1, 2, NOW - dt.timedelta(hours=1)), now=NOW, context=other, limits=LIMITS)
    with pytest.raises(ValidationError, match="visit kind 'chat' is not one of routine"):
        validate_visit(VisitRecord(1, 2, NOW, kind="chat"), now=NOW, limits=LIMITS)
    with pytest.raises(ValidationError, match="finite"):
        validate_visit(VisitRecord(1, 2, NOW, lon=float("nan"), lat=1.0), now=NOW, limits=LIMITS)


# -- roster dates ----------------------------------------------------------------------------
def test_roster_dates() -> None:
    from governance.roster import check_roster

    rows = pd.DataFrame({
        "staff_key": ["A", "B", "C", "D"], "name": ["甲", "乙", "丙", "丁"],
        "grid_code": ["430104001001001001"] * 4, "role": ["微网格员"] * 4,
        "start_date": ["1999-05-01", "2026-12-25", "2024-01-01", "2024-01-01"],
        "end_date": [None, None, "2030-01-01", "1990-01-01"],
    })
    _, problems = check_roster(rows, limits=LIMITS, today=dt.date(2026, 11, 20))
    found = {(p.row, p.rule) for p in problems}
    assert {(0, "before_earliest"), (1, "in_the_future"), (3, "before_earliest")} <= found
    assert not any(p.row == 2 for p in problems)  # a planned end date is fine


def test_unknown_role_is_an_error_naming_both_languages() -> None:
    from governance.roster import check_roster

    rows = pd.DataFrame({"staff_key": ["A"], "name": ["甲"], "grid_code": ["430104001001001001"], "role": ["扫地僧"]})
    _, problems = check_roster(rows, limits=LIMITS, today=dt.date(2026, 11, 20))
    (problem,) = [p for p in problems if p.rule == "unknown_role"]
    assert problem.severity == "error" and "微网格员" in problem.message and "Micro-grid worker" in problem.message


# -- coverage: the errors a change adds ------------------------------------------------------
def test_new_errors_keep_gaps_naming_only_the_parent() -> None:
    from boundaries.validation import new_errors, validate_plan

    l1, l2 = "430104001001", "430104001001001"
    whole = shapely.box(0.0, 0.0, 0.02, 0.01)
    plan = gpd.GeoDataFrame({"code": [l1, l2, l2 + "001", l2 + "002"], "level": [1, 2, 3, 3],
                             "parent_code": [None, l1, l2, l2], "name": list("abcd")},
                            geometry=[whole, whole, shapely.box(0.0, 0.0, 0.01, 0.01),
                                      shapely.box(0.01, 0.0, 0.02, 0.01)], crs=4490)
    holed = plan.copy()
    holed.loc[2, "geometry"] = shapely.box(0.0, 0.0, 0.01, 0.01).difference(shapely.box(0.004, 0.004, 0.006, 0.006))
    report = validate_plan(holed)
    gaps = [f for f in new_errors(report, validate_plan(plan)) if f.rule == "gap"]
    assert [f.codes for f in gaps] == [(l2,)] and "a hole in" in gaps[0].message and l2 + "001" in gaps[0].message
    assert new_errors(report, report) == []  # an error the stored plan already had is not the change's


# -- the command line ------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "words"), [
    ("abc", "positive whole number"), ("0", "positive whole numbers"), ("-3", "positive whole numbers"),
    ("9223372036854775808", "out of range"), ("1.5", "positive whole number"), ("١٢", "positive whole number"),
])
def test_ids_have_their_own_messages(value, words) -> None:
    from cli.main import GridGovUsage, parse_id

    with pytest.raises(GridGovUsage, match=words):
        parse_id(value, what="incident id")
    assert parse_id("9223372036854775807") == 2**63 - 1


@pytest.mark.parametrize(("lon", "lat", "words"), [
    (float("nan"), 28.0, "--lon was nan"), (112.0, float("inf"), "--lat was inf"), (181.0, 28.0, "-180..180"),
])
def test_coordinates_must_be_finite_degrees(lon, lat, words) -> None:
    from cli.main import GridGovUsage, check_lonlat

    with pytest.raises(GridGovUsage, match=words):
        check_lonlat(lon, lat)


def test_database_errors_are_translated() -> None:
    import psycopg
    from sqlalchemy.exc import OperationalError

    from store.session import ConcurrentWriteError, database_error

    class Deadlock(psycopg.errors.DeadlockDetected):
        pass

    lost = OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly\n\tThis"))
    assert isinstance(database_error(lost), DatabaseUnavailableError)
    assert "\n" not in str(database_error(lost)) and "gridgov db status" in str(database_error(lost))
    nul = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    assert isinstance(database_error(nul), ValidationError)
    assert isinstance(database_error(OperationalError("x", {}, Deadlock("deadlock detected"))), ConcurrentWriteError)
    assert database_error(ValueError("not a database error")) is None
