"""Evaluation slips written once (etl/slips.py) and batches of reference codes (governance.feedback)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pytest

from etl.slips import SLIP_COLUMNS, check_slips_path, qr_svg, slip_url, slips_html, write_slips
from gis.errors import ValidationError
from governance.evaluation import Slip
from governance.feedback import new_references, parse_reference

SLIPS = (Slip("ABCD-EFGH-JKMN-PQR0", "430603001001001001", 1, 2, dt.date(2026, 12, 31)),
         Slip("ZZZZ-YYYY-XXXX-WWW1", "430603001001001001", 2, 2, dt.date(2026, 12, 31)))
BASE = "https://grid.example.cn/"


def url(slip: Slip) -> str:
    return slip_url(BASE, 7, slip.code)


def test_slip_url_opens_the_public_page_with_round_and_code():
    assert url(SLIPS[0]) == "https://grid.example.cn/public/evaluate?round=7&code=ABCD-EFGH-JKMN-PQR0"
    with pytest.raises(ValidationError):
        slip_url("/relative", 7, "ABCD")


def test_csv_has_one_row_per_slip(tmp_path: Path):
    out = write_slips(SLIPS, tmp_path / "codes.csv", url, title="测评")
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == SLIP_COLUMNS and [r["code"] for r in rows] == [s.code for s in SLIPS]
    assert rows[1]["url"] == url(SLIPS[1]) and rows[0]["expires_on"] == "2026-12-31"


def test_html_slips_have_a_qr_code_each_and_escape_the_title(tmp_path: Path):
    out = write_slips(SLIPS, tmp_path / "codes.html", url, title="<b>测评</b>", grid_names={SLIPS[0].grid_code: "一网格"})
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and page.count('width="30mm"') == 2
    assert "<b>测评</b>" not in page and "&lt;b&gt;测评&lt;/b&gt;" in page
    assert "网格：一网格" in page and "第 2/2 张" in page and "有效期至 2026-12-31" in page
    assert "code=ABCD-EFGH-JKMN-PQR0" in page
    assert slips_html(SLIPS, url, title="x", language="en").count("Valid until") == 2


def test_qr_codes_differ_with_their_content():
    assert qr_svg("https://a.example/1") != qr_svg("https://a.example/2")
    assert qr_svg("x", size_mm=20).startswith('<svg width="20mm" height="20mm"')


@pytest.mark.parametrize("name", ["codes.txt", "codes.xlsx", "codes"])
def test_other_formats_are_refused_before_anything_is_written(name: str, tmp_path: Path):
    with pytest.raises(ValidationError, match=r"\.csv or \.html"):
        check_slips_path(tmp_path / name)
    with pytest.raises(ValidationError):
        write_slips(SLIPS, tmp_path / name, url, title="x")
    assert not (tmp_path / name).exists()


def test_a_batch_of_reference_codes_is_all_different_and_well_formed():
    repeat = random.Random(1)
    # a source that repeats itself: the batch still has no duplicate
    values = [repeat.getrandbits(60) for _ in range(3)]
    source = iter(values * 3 + [repeat.getrandbits(60) for _ in range(20)])
    codes = new_references(5, randbits=lambda bits: next(source) % (1 << bits))
    assert len(codes) == len(set(codes)) == 5
    assert all(parse_reference(c) == c for c in codes)
    assert len(set(new_references(2000))) == 2000
