"""Our per-feature validity verdict against GEOS's own XML test cases (an external oracle)."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely

from gis.geometry import explain_invalid, normalize_polygons

CASES_DIR = Path(__file__).resolve().parents[1] / "data" / "real" / "geos_validity_cases"


def _load_is_valid_cases() -> list[tuple[str, str, bool]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.xml")):
        root = ET.parse(path).getroot()
        for case in root.iter("case"):
            for op in case.iter("op"):
                if op.get("name") == "isValid":
                    desc = (case.findtext("desc") or "").strip()
                    cases.append((f"{path.name}: {desc}", case.findtext("a").strip(), op.text.strip() == "true"))
    return cases


def _load_makevalid_cases() -> list[tuple[str, str, str]]:
    root = ET.parse(CASES_DIR / "makevalid.xml").getroot()
    out = []
    for case in root.iter("case"):
        op = case.find("test/op")
        if op is not None and op.get("name") == "makevalid":
            out.append(((case.findtext("desc") or "").strip(), case.findtext("a").strip(), op.text.strip()))
    return out


def _from_wkt(texts: list[str]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a few cases are deliberately degenerate
        return shapely.from_wkt(texts)


def test_case_count_matches_readme() -> None:
    # README claims 839 WKT cases with an expected isValid answer: 87 + 752 in TestValid*.xml.
    cases = _load_is_valid_cases()
    assert len(cases) == 839
    assert len(_load_makevalid_cases()) == 15


def test_explain_invalid_agrees_with_every_geos_case() -> None:
    cases = _load_is_valid_cases()
    geoms = _from_wkt([wkt for _, wkt, _ in cases])
    reasons = explain_invalid(geoms)
    disagreements = [
        (desc, expected, reason)
        for (desc, _, expected), reason in zip(cases, reasons)
        if (reason is None) != expected
    ]
    assert disagreements == []
    # both answers occur, so the test can fail either way
    expected = np.array([e for _, _, e in cases])
    assert expected.sum() > 100 and (~expected).sum() > 40
    assert all(isinstance(r, str) and r for r, e in zip(reasons, expected) if not e)


def test_missing_geometry_has_a_reason() -> None:
    assert list(explain_invalid([None, shapely.box(0, 0, 1, 1)])) == ["missing geometry", None]


@pytest.mark.parametrize("case", _load_makevalid_cases(), ids=lambda c: c[0])
def test_normalize_fix_matches_geos_makevalid_for_polygons(case: tuple[str, str, str]) -> None:
    desc, wkt, expected_wkt = case
    geom = _from_wkt([wkt])[0]
    expected = _from_wkt([expected_wkt])[0]
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        # Non-polygonal cases check shapely's make_valid itself (the repair normalize uses).
        assert shapely.make_valid(geom).normalize().equals(expected.normalize()) or (
            shapely.make_valid(geom).is_empty and expected.is_empty
        )
        return
    result = normalize_polygons([geom], fix=True, grid_size=0)
    out = result.geometries[0]
    assert out.geom_type == "MultiPolygon"
    assert out.is_valid
    expected_poly = shapely.MultiPolygon(
        [p for p in shapely.get_parts(shapely.get_parts(expected)) if p.geom_type == "Polygon"]
    )
    # The XML oracle is GEOS MakeValid's 'linework' method, which XORs overlapping parts;
    # we repair with 'structure' (overlaps are kept, as the conventions ask for grid
    # polygons). Where both methods agree on the area, our result must equal the oracle.
    linework = shapely.make_valid(geom, method="linework")
    structure = shapely.make_valid(geom, method="structure")
    if abs(linework.area - structure.area) < 1e-12:
        assert out.symmetric_difference(expected_poly).area < 1e-9, desc
    else:
        assert out.area > expected_poly.area - 1e-9  # overlaps kept rather than dropped
    if not geom.is_valid:
        assert [r.kind for r in result.repairs if r.index == 0][0] == "made_valid"


# --- normalize_polygons (gis.geometry) ---------------------------------------------------------
def test_normalize_without_fix_collects_every_problem() -> None:
    from gis.errors import ValidationError

    bowtie = shapely.from_wkt("POLYGON((113.3 29.5, 113.301 29.501, 113.3 29.501, 113.301 29.5, 113.3 29.5))")
    geoms = [shapely.box(113.3, 29.5, 113.301, 29.501), bowtie, None, shapely.Point(113.3, 29.5)]
    with pytest.raises(ValidationError, match="3 of 4 geometries") as info:
        normalize_polygons(geoms)
    assert [f["index"] for f in info.value.findings] == [1, 2, 3]
    assert "Self-intersection" in info.value.findings[0]["reason"]
    assert "Point" in info.value.findings[2]["reason"]


def test_normalize_fix_reports_every_repair_and_forces_multipolygons() -> None:
    bowtie = shapely.from_wkt("POLYGON((113.3 29.5, 113.301 29.501, 113.3 29.501, 113.301 29.5, 113.3 29.5))")
    with_line = shapely.GeometryCollection([shapely.box(113.302, 29.5, 113.303, 29.501),
                                            shapely.LineString([(113.3, 29.5), (113.31, 29.51)])])
    fine = shapely.box(113.30000000004, 29.5, 113.301, 29.501)  # off the 1e-7° grid
    result = normalize_polygons([fine, bowtie, with_line], fix=True)
    out = result.geometries
    assert all(g.geom_type == "MultiPolygon" and g.is_valid for g in out)
    assert shapely.get_num_geometries(out[1]) == 2  # bow-tie → two triangles
    assert shapely.get_coordinates(out[0])[:, 0].min() == pytest.approx(113.3, abs=1e-12)  # snapped to the grid
    kinds = {(r.index, r.kind) for r in result.repairs}
    assert (1, "made_valid") in kinds and (2, "dropped_non_polygonal") in kinds
    assert 0 not in result.repaired_indices
    assert all(isinstance(r.to_record()["detail"], str) for r in result.repairs)


def test_normalize_drops_empty_parts_and_reports_collapse() -> None:
    tiny = shapely.box(113.3, 29.5, 113.30000001, 29.50000001)  # collapses on the 1e-7° grid
    multi = shapely.MultiPolygon([shapely.box(113.3, 29.5, 113.301, 29.501), shapely.box(113.305, 29.5, 113.30500001, 29.50000001)])
    result = normalize_polygons([tiny, multi])
    assert result.geometries[0].is_empty and result.geometries[0].geom_type == "MultiPolygon"
    assert shapely.get_num_geometries(result.geometries[1]) == 1
    kinds = {(r.index, r.kind) for r in result.repairs}
    assert (0, "became_empty") in kinds
    assert any(i == 1 for i, _ in kinds)
