"""Issue 6 CLI mirror: gridgov edit split/merge/transfer with --dry-run, history, rollback, validate."""

from __future__ import annotations

import json

import pytest
import shapely
from sqlalchemy import create_engine, text

from tests.db._cli import main




def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
               ("grids", "households", "incidents", "changesets", "grid_versions")}
        out["assigned"] = conn.execute(text("SELECT count(*) FROM households WHERE grid_code IS NOT NULL")).scalar()
    engine.dispose()
    return out


def _split_line(url: str, code: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM grids WHERE code = :c"), {"c": code}).scalar()
    engine.dispose()
    geom = shapely.from_wkb(bytes(wkb))
    minx, miny, maxx, maxy = geom.bounds
    y = geom.centroid.y
    return shapely.LineString([(minx - 0.001, y), (maxx + 0.001, y)]).wkt


def test_split_dry_run_save_history_rollback(demo_url, capsys, monkeypatch) -> None:
    from gis.settings import get_settings

    code = "430603003001001001"
    before = _counts(demo_url)
    line = _split_line(demo_url, code)

    assert main(["edit", "split", code, "--line", line, "--dry-run"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["can_save"] and preview["retired"] == [code] and len(preview["added"]) >= 2
    assert all(c.startswith(code[:15]) and len(c) == 18 for c in preview["added"])
    assert _counts(demo_url) == before, "a dry run wrote something"
    moved_preview = sum(f["households"] for f in preview["impact"]["flows"])

    assert main(["edit", "split", code, "--line", line]) == 2  # no reason: refused
    assert "--reason" in capsys.readouterr().err

    assert main(["--as", "planner", "edit", "split", code, "--line", line, "--reason", "new estate", "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert sum(m["count"] for m in saved["households_moved"]) == moved_preview
    after = _counts(demo_url)
    assert after["households"] == before["households"] and after["assigned"] == before["assigned"]
    assert after["grids"] == before["grids"] + len(preview["added"]) - 1

    assert main(["validate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    assert main(["history", code, "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert history[0]["id"] == saved["changeset_id"] and history[0]["reason"] == "new estate"
    assert history[0]["author"] == "planner"

    assert main(["resolve", code, "--json"]) == 0
    assert sorted(json.loads(capsys.readouterr().out)["current"]) == sorted(preview["added"])

    after_split = _counts(demo_url)
    assert main(["rollback", str(saved["changeset_id"]), "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["changeset_id"] is None and sorted(dry["retired"]) == sorted(preview["added"])
    assert _counts(demo_url) == after_split, "a dry-run rollback wrote something"

    monkeypatch.setenv("GRIDGOV_ACTOR", "planner")
    get_settings.cache_clear()
    assert main(["rollback", str(saved["changeset_id"]), "--json"]) == 0
    capsys.readouterr()
    assert main(["history", code, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["author"] == "planner"  # the owner acts as GRIDGOV_ACTOR
    restored = _counts(demo_url)
    assert restored["grids"] == before["grids"] and restored["assigned"] == before["assigned"]
    assert main(["lookup", "--code", code, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["code"] == code
    # The split-off codes are retired now and never come back.
    assert main(["lookup", "--code", preview["added"][0]]) == 1
    assert "retired" in capsys.readouterr().err


def test_merge_refused_for_non_neighbours(demo_url, capsys) -> None:
    before = _counts(demo_url)
    assert main(["edit", "merge", "430603003001001001", "430603003201004001", "--reason", "x"]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "Traceback" not in err
    assert _counts(demo_url) == before


def test_diff_between_changesets_names_the_change(demo_url, capsys) -> None:
    code = "430603003001001002"
    line = _split_line(demo_url, code)
    assert main(["edit", "split", code, "--line", line, "--reason", "split for diff", "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert main(["diff", "2025-06-01", "now", "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["retired"] == [code] and sorted(diff["added"]) == sorted(saved["added"])
    assert {r["code"] for r in diff["reshaped"]} == set()  # the parents' outline is unchanged
    assert main(["diff", str(saved["changeset_id"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": [], "retired": [], "reshaped": [], "renamed": []}


def _columns_matching(frame, pattern: str) -> list[str]:
    """Columns (of any name: shapefiles shorten them) whose every non-empty value matches ``pattern``."""
    out = []
    for column in frame.columns:
        if column == "geometry":
            continue
        values = frame[column].dropna().astype(str)
        values = values[values != ""]
        if len(values) > 1000 and values.str.fullmatch(pattern).all():
            out.append(column)
    return out


@pytest.mark.parametrize("fmt", ["gpkg", "xlsx", "geojson", "shp"])
def test_export_households_masks_personal_data_unless_asked(demo_url, tmp_path, fmt, capsys) -> None:
    import geopandas as gpd
    import pandas as pd

    def read(path):
        return pd.read_excel(path, dtype=str) if fmt == "xlsx" else gpd.read_file(path)

    masked = read(tmp_path / f"hh.{fmt}") if main(["export", "households", "--out", str(tmp_path / f"hh.{fmt}")]) == 0 else None
    assert masked is not None and len(masked) == 6297
    assert masked["grid_code"].astype(str).str.len().eq(18).all()
    assert _columns_matching(masked, r"HH\d+|[A-Z0-9-]+")  # the natural key travels along
    assert _columns_matching(masked, r"\d{6}\*{8}\d{3}[\dX]"), "ID numbers are not masked"
    assert _columns_matching(masked, r"1\d{2}\*{4}\d{4}"), "phones are not masked"
    assert not _columns_matching(masked, r"\d{6}(19|20)\d{9}[\dX]")
    from pii_scan import register_unmasked

    for suffix in (fmt, "dbf", "shx", "prj", "cpg"):  # written unmasked on purpose (a shapefile: every part)
        register_unmasked(tmp_path / f"full.{suffix}")
    assert main(["export", "households", "--out", str(tmp_path / f"full.{fmt}"), "--with-personal-data"]) == 0
    full = read(tmp_path / f"full.{fmt}")
    assert _columns_matching(full, r"\d{6}(19|20)\d{9}[\dX]"), "--with-personal-data should export full ID numbers"


def test_cli_reshape_is_the_editors_reshape(demo_url, capsys) -> None:
    """`gridgov edit reshape A B --area` runs the same catalogue operation as the editor's 调整边界."""
    from services.editing import preview_edit, start_edit
    from store.grids import load_plan

    engine = create_engine(demo_url)
    with engine.connect() as conn:
        plan = load_plan(conn)
        micro = plan[plan["level"] == 3].reset_index(drop=True)
        tree = shapely.STRtree(micro.geometry.to_numpy())
        left, right = tree.query(micro.geometry.to_numpy(), predicate="touches")
        a, b = next((micro.iloc[i], micro.iloc[j]) for i, j in zip(left, right)
                    if micro.iloc[i]["parent_code"] == micro.iloc[j]["parent_code"])
        shared = shapely.intersection(a.geometry.boundary, b.geometry.boundary)
        strip = shapely.intersection(b.geometry, shapely.buffer(shared, 0.0003, cap_style="flat"))
        new_a = shapely.union(a.geometry, strip)
        expected = preview_edit(conn, start_edit(conn), "reshape", code_a=a["code"], code_b=b["code"],
                                new_line_or_area=new_a).to_dict()
    engine.dispose()
    assert main(["edit", "reshape", a["code"], b["code"], "--area", new_a.wkt, "--dry-run"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["operation"] == "reshape" and got["reshaped"] == expected["reshaped"] and got["can_save"]
    assert set(got["reshaped"]) >= {a["code"], b["code"]}
    # exactly one of --line / --area
    assert main(["edit", "reshape", a["code"], b["code"], "--dry-run"]) == 2
