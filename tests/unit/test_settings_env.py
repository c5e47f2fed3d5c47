"""Configuration is read in one place: gis/settings.py, and every variable it reads is documented.

* No module outside ``gis/settings.py`` reads ``os.environ`` / ``os.getenv`` (reads count,
  writes too: a module that sets a variable for itself hides configuration just as well).
  ``store/cluster.py`` is *not* exempt today: it starts PostgreSQL without touching the
  environment. Should it ever need to pass ``os.environ`` on to a subprocess
  (``env={**os.environ, ...}``), allow exactly that module here with that reason.
* Every ``GRIDGOV_*`` name (and ``DATABASE_URL``) in gis/settings.py has a row in the
  configuration table of README.md.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Top-level packages and modules of the project (as in test_architecture.py).
PROJECT = ("gis", "boundaries", "governance", "access", "i18n", "store", "etl", "services", "demo", "cli", "api",
           "app_pages", "app", "serve")
#: Modules allowed to read the environment, each with the reason.
ALLOWED = {
    "gis/settings.py": "the one frozen Settings is read from the environment here",
}


def _sources(root: Path) -> list[Path]:
    out: list[Path] = []
    for name in PROJECT:
        if (root / name).is_dir():
            out += sorted(p for p in (root / name).rglob("*.py") if "__pycache__" not in p.parts)
        elif (root / f"{name}.py").is_file():
            out.append(root / f"{name}.py")
    return out


def environment_reads(root: Path = ROOT) -> list[str]:
    """``file:line what`` for every use of ``os.environ``, ``os.environb``, ``os.getenv`` or ``os.putenv``."""
    found = []
    for path in _sources(root):
        rel = path.relative_to(root).as_posix()
        if rel in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "os":
                for alias in node.names:
                    if alias.name in {"environ", "environb", "getenv", "getenvb", "putenv"}:
                        found.append(f"{rel}:{node.lineno} imports os.{alias.name}")
            elif (isinstance(node, ast.Attribute) and node.attr in {"environ", "environb", "getenv", "getenvb", "putenv"}
                  and isinstance(node.value, ast.Name) and node.value.id == "os"):
                found.append(f"{rel}:{node.lineno} uses os.{node.attr}")
    return found


def test_only_settings_reads_the_environment() -> None:
    assert environment_reads() == []


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ("import os\nx = os.environ.get('GRIDGOV_X')\n", True),
        ("import os\nx = os.getenv('GRIDGOV_X')\n", True),
        ("from os import environ\nx = environ['X']\n", True),
        ("import os\nos.environ['X'] = '1'\n", True),
        ("import os\nx = os.path.join('a', 'b')\n", False),
        ("from gis.settings import get_settings\nx = get_settings().actor\n", False),
    ],
)
def test_the_scan_can_fail(tmp_path: Path, snippet: str, found: bool) -> None:
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "probe.py").write_text(snippet)
    assert bool(environment_reads(tmp_path)) is found


def _settings_names() -> set[str]:
    text = (ROOT / "gis" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"\bGRIDGOV_[A-Z0-9_]+\b", text)) | {"DATABASE_URL"}


def _configuration_table() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_every_setting_has_a_row_in_the_readme_table() -> None:
    names = _settings_names()
    assert {"GRIDGOV_REGION", "GRIDGOV_ACTOR", "GRIDGOV_LOG_LEVEL", "GRIDGOV_DEADLINE_DAYS",
            "GRIDGOV_APP_ADDRESS"} <= names
    assert names - _configuration_table() == set()


def test_the_readme_table_lists_nothing_settings_does_not_read() -> None:
    assert _configuration_table() - _settings_names() == set()
