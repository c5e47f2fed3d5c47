"""The end-of-run scan for personal data (tests/pii_scan.py) on crafted files: what it finds and what it must not."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pii_scan import Finding, is_id_number, register_unmasked, registered, scan_file, scan_roots, scan_text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


ID = id_number("43060319850612401")           # born 1985-06-12
GRID_CODE = "430603001001002003"               # 18 digits, no birth date inside
PHONE = "13912345678"


def test_id_numbers_need_the_check_character_and_a_birth_date() -> None:
    assert is_id_number(ID)
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert not is_id_number(wrong)
    assert not is_id_number(GRID_CODE)
    assert not is_id_number(id_number("43060318800101001"))  # born 1880: implausible
    assert not is_id_number(id_number("43060320991231001"))  # born in the future
    assert not is_id_number(id_number("43060319851332001"))  # month 13
    with_x = next(n for n in (id_number(f"110101194910010{k:02d}") for k in range(100)) if n.endswith("X"))
    assert is_id_number(with_x) and is_id_number(with_x[:17] + "x")


def test_what_the_text_scan_finds() -> None:
    text = "\n".join([
        f"resident {ID} called",                      # 1: an ID number
        f"grid {GRID_CODE} ok",                       # 2: a grid code: not personal
        f"phone {PHONE}.",                            # 3: a mobile number
        "masked 430603********1234 and 139****5678",  # 4: masked: fine
        f"long 9{PHONE} and {PHONE}0",                # 5: part of longer numbers: no
        f"lat 29.{PHONE} lon 113.5",                  # 6: a decimal fraction: no
        "landline 0730-8888888, count 12345678901",   # 7: not a mobile (12… is no mobile prefix)
        f"x{ID}y",                                    # 8: glued to letters: not a token
    ])
    found = scan_text(text, path=Path("t.log"))
    assert [(f.line, f.kind, f.value) for f in found] == [(1, "id_number", ID), (3, "phone", PHONE)]
    assert "t.log:1: id_number 430603…" in str(found[0]) and ID not in str(found[0])  # the report masks too
    assert scan_text(text, path=Path("t.log"), allowed=frozenset({PHONE, ID})) == []


def test_files_archives_and_parquet(tmp_path) -> None:
    plain = register_unmasked(tmp_path / "export.csv")
    plain.write_text(f"name,id\n张三,{ID}\n", encoding="utf-8-sig")
    book = register_unmasked(tmp_path / "export.xlsx")
    with zipfile.ZipFile(book, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<sst><si><t>{PHONE}</t></si></sst>")
        archive.writestr("xl/media/image1.png", f"{ID}")  # images are skipped
    table = register_unmasked(tmp_path / "export.parquet")
    pd.DataFrame({"phone": [PHONE], "code": [GRID_CODE]}).to_parquet(table)
    image = tmp_path / "shot.png"
    image.write_bytes(b"\x89PNG" + ID.encode())

    assert [(f.line, f.kind) for f in scan_file(plain)] == [(2, "id_number")]
    xlsx = scan_file(book)
    assert [(f.member, f.kind) for f in xlsx] == [("xl/sharedStrings.xml", "phone")]
    assert [f.kind for f in scan_file(table)] == ["phone"]
    assert scan_file(image) == []
    assert {plain, book, table} <= registered()


def test_roots_since_skip_and_log_offsets(tmp_path) -> None:
    old = register_unmasked(tmp_path / "old.log")
    old.write_text(f"{PHONE}\n")
    past = time.time() - 3600
    os.utime(old, (past, past))
    start = time.time() - 1
    new = register_unmasked(tmp_path / "sub" / "new.log")
    new.parent.mkdir()
    new.write_text(f"ok\nleak {ID}\n")
    skipped = register_unmasked(tmp_path / "personal.csv")
    skipped.write_text(f"{ID}\n")
    log = register_unmasked(tmp_path / "server.log")
    log.write_text(f"before the run {PHONE}\n")
    offset = log.stat().st_size
    with log.open("a") as handle:
        handle.write(f"during the run {ID}\n")

    found = scan_roots([tmp_path / "sub", old, skipped], since=start, skip=[skipped], logs=[(log, offset)])
    assert sorted((f.path.name, f.line, f.kind) for f in found) == [("new.log", 2, "id_number"),
                                                                   ("server.log", 1, "id_number")]
    assert all(isinstance(f, Finding) for f in found)
    assert scan_roots([tmp_path / "missing"]) == []


@pytest.mark.parametrize("line", [f"{ID}", f"id={ID};", f"[{ID}]", f"\t{ID}\t", f'"{ID}"'])
def test_an_id_number_between_separators_is_found(line: str) -> None:
    assert [f.kind for f in scan_text(line, path=Path("x"))] == ["id_number"]


def test_only_the_given_phones_count_when_a_set_is_given() -> None:
    text = f"resident {PHONE}\nstaff 13800000001\nid {ID}\n"
    found = scan_text(text, path=Path("x"), phones=frozenset({PHONE}))
    assert [(f.line, f.kind) for f in found] == [(1, "phone"), (3, "id_number")]
    assert [f.kind for f in scan_text(text, path=Path("x"), phones=frozenset())] == ["id_number"]
