"""A scan of the logs and files a test run wrote, for residents' ID numbers and mobile phone numbers.

Personal data may leave GridGov only masked, except in an export made explicitly with personal data
(``--with-personal-data`` / ``with_personal_data=True``; a test that writes one registers its path with
:func:`register_unmasked`). At the end of every pytest session (``tests/conftest.py``,
``pytest_sessionfinish``) :func:`scan_roots` reads every file written during the run under
``var/artifacts``, ``var/log``, pytest's temporary base directory, and the part of the local cluster's
server log written during the run, and fails the session with a ``file:line`` report when it finds:

* an **18-character ID number** (GB 11643-1999: 17 digits and a check character that matches them,
  with a valid birth date between 1890 and today) — 18-digit grid codes do not pass (no such date);
* an **11-digit mainland mobile number** (``1[3-9]`` and 9 more digits, not part of a longer number
  or a decimal fraction).

Staff phones are public by design (the contact card, 公示栏) and are passed as ``allowed``; the end-of-run
scan looks for the *residents'* phones of the demo the run loaded (``phones``: the synthetic staff phones
that unit tests write are not personal data), and for every valid ID number. XLSX/DOCX
(zip) members and Parquet columns are read as text; images are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finding", "is_id_number", "scan_text", "scan_file", "scan_roots", "register_unmasked", "registered",
           "UNMASKED"]

_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9.])(1[3-9]\d{9})(?![0-9])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SKIP_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".ico", ".woff", ".woff2", ".ttf", ".pyc"}
_MAX_BYTES = 256 * 1024 * 1024

#: Files written on purpose with unmasked personal data during this run (see :func:`register_unmasked`).
UNMASKED: set[Path] = set()


def register_unmasked(path: str | Path) -> Path:
    """Declare ``path`` an explicitly unmasked export (written with personal data): the scan skips it."""
    resolved = Path(path).resolve()
    UNMASKED.add(resolved)
    return resolved


def registered() -> frozenset[Path]:
    return frozenset(UNMASKED)


@dataclass(frozen=True)
class Finding:
    """One personal-data value found: where (``path``, ``line``; ``member`` inside an archive) and what."""

    path: Path
    line: int
    kind: str  # "id_number" | "phone"
    value: str
    member: str = ""

    def __str__(self) -> str:
        where = f"{self.path}!{self.member}" if self.member else str(self.path)
        shown = self.value[:6] + "…" + self.value[-2:] if self.kind == "id_number" else self.value[:3] + "…" + self.value[-2:]
        return f"{where}:{self.line}: {self.kind} {shown}"


def is_id_number(text: str, *, today: dt.date | None = None) -> bool:
    """Whether ``text`` (18 characters) is a GB 11643 ID number: check character and birth date both valid."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS))
    if "10X98765432"[total % 11] != text[17].upper():
        return False
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return dt.date(1890, 1, 1) <= birth <= (today or dt.date.today())


def scan_text(text: str, *, path: Path, member: str = "", allowed: frozenset[str] = frozenset(),
              first_line: int = 1, phones: frozenset[str] | None = None) -> list[Finding]:
    """Every ID number and mobile number in ``text`` (line numbers from ``first_line``); with ``phones``,
    only the mobile numbers in that set (the residents' phones the run's data holds)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=first_line):
        if not any(ch.isdigit() for ch in line):
            continue
        for match in _ID.finditer(line):
            if is_id_number(match.group(1)) and match.group(1) not in allowed:
                found.append(Finding(path, number, "id_number", match.group(1), member))
        for match in _MOBILE.finditer(line):
            if match.group(1) not in allowed and (phones is None or match.group(1) in phones):
                found.append(Finding(path, number, "phone", match.group(1), member))
    return found


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    """(member, text) of a file: zip members one by one, Parquet as CSV text, anything else decoded."""
    data = path.read_bytes()[:_MAX_BYTES]
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and Path(info.filename).suffix.lower() not in _SKIP_SUFFIXES:
                        yield info.filename, archive.read(info).decode("utf-8", errors="replace")
            return
        except zipfile.BadZipFile:
            pass
    if data[:4] == b"PAR1":
        try:
            import pyarrow.parquet as pq

            yield "", pq.read_table(path).to_pandas().astype(str).to_csv(index=False)
            return
        except Exception:  # noqa: BLE001 - not readable as Parquet: scan the bytes
            pass
    yield "", data.decode("utf-8", errors="replace")


def scan_file(path: str | Path, *, allowed: frozenset[str] = frozenset(),
              phones: frozenset[str] | None = None) -> list[Finding]:
    """Every finding in one file (images and other binary media are skipped)."""
    path = Path(path)
    if path.suffix.lower() in _SKIP_SUFFIXES:
        return []
    found = []
    for member, text in _texts(path):
        found += scan_text(text, path=path, member=member, allowed=allowed, phones=phones)
    return found


def _files(roots: Iterable[Path], since: float | None) -> Iterator[Path]:
    seen: set[Path] = set()
    for root in roots:
        if root is None or not root.exists():
            continue
        candidates = [root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())
        for path in candidates:
            try:
                if path.is_symlink() or (since is not None and path.stat().st_mtime < since):
                    continue
            except OSError:
                continue
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield resolved


def scan_roots(
    roots: Iterable[Path], *, since: float | None = None, skip: Iterable[Path] = (),
    allowed: frozenset[str] = frozenset(), logs: Iterable[tuple[Path, int]] = (),
    phones: frozenset[str] | None = None,
) -> list[Finding]:
    """Scan every file under ``roots`` modified at or after ``since`` (a ``time.time()``), except ``skip``,
    and each ``(log file, byte offset)`` of ``logs`` from that offset on (what a shared log gained)."""
    skipped = {Path(p).resolve() for p in skip}
    found: list[Finding] = []
    for path in _files(roots, since):
        if path in skipped:
            continue
        try:
            found += scan_file(path, allowed=allowed, phones=phones)
        except OSError:
            continue
    for log, offset in logs:
        try:
            with open(log, "rb") as handle:
                handle.seek(offset)
                text = handle.read(_MAX_BYTES).decode("utf-8", errors="replace")
        except OSError:
            continue
        found += scan_text(text, path=Path(log), allowed=allowed, member=f"from byte {offset}", phones=phones)
    return found
