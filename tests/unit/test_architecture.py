"""The package structure, checked from the source: imports run one way and SQL lives in store/.

Layers (docs/architecture.md)::

    gis  ←  boundaries, governance, access, i18n  ←  store  ←  etl, services  ←  demo, cli, api, app_pages, app.py, serve.py

Every import counts, including those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: What each package may import from the project (besides itself and third-party packages).
ALLOWED: dict[str, set[str]] = {
    "gis": set(),
    "boundaries": {"gis"},
    "governance": {"gis", "boundaries"},
    "access": {"gis", "boundaries", "governance"},
    "i18n": {"gis", "boundaries", "governance", "access"},
    "store": {"gis", "boundaries", "governance", "access"},
    "etl": {"gis", "boundaries", "governance", "access", "i18n", "store"},
    "services": {"gis", "boundaries", "governance", "access", "i18n", "store", "etl"},
    "demo": {"gis", "boundaries", "governance", "access", "i18n", "store", "etl", "services"},
    "cli": {"gis", "boundaries", "governance", "access", "i18n", "store", "etl", "services", "demo"},
    "api": {"gis", "boundaries", "governance", "access", "i18n", "store", "etl", "services"},
    "app_pages": {"gis", "boundaries", "governance", "access", "i18n", "store", "etl", "services"},
    "app": {"gis", "boundaries", "governance", "access", "i18n", "store", "etl", "services", "app_pages"},
    "serve": {"gis", "boundaries", "governance", "access", "i18n", "store", "etl", "services", "app_pages", "api", "app"},
}
PROJECT = set(ALLOWED)

#: Packages that must not contain SQL (everything but store/).
NO_SQL = sorted(PROJECT - {"store"})

_SQL_CALLS = {"text", "select", "insert", "update", "delete"}
_SQL_STRING = re.compile(
    r"\b(SELECT\b[\s\S]*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TEMP(ORARY)?\s+)?TABLE|"
    r"ALTER\s+TABLE|DROP\s+TABLE|TRUNCATE\s+\w+|COPY\s+\w+|SET\s+LOCAL|WITH\s+\w+\s+AS\s*\()"
)


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _sources(packages: set[str] | list[str]) -> Iterator[Path]:
    for name in sorted(packages):
        directory = ROOT / name
        if directory.is_dir():
            yield from sorted(p for p in directory.rglob("*.py") if "__pycache__" not in p.parts)
        elif (ROOT / f"{name}.py").is_file():
            yield ROOT / f"{name}.py"


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def import_violations() -> list[str]:
    """Every ``file:line imports package`` that runs against the layer order."""
    problems = []
    for path in _sources(PROJECT):
        package = _package_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in _imports(tree):
            if target in PROJECT and target != package and target not in ALLOWED[package]:
                problems.append(f"{path.relative_to(ROOT)}:{line} ({package}) imports {target}")
    return problems


def _sqlalchemy_names(tree: ast.AST) -> set[str]:
    """Local names bound to SQLAlchemy's statement constructors (``from sqlalchemy import text``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            for alias in node.names:
                if alias.name in _SQL_CALLS:
                    names.add(alias.asname or alias.name)
    return names


def sql_violations(packages: list[str] = NO_SQL) -> list[str]:
    """Every SQLAlchemy statement constructor or SQL string outside store/."""
    problems = []
    for path in _sources(packages):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        constructors = _sqlalchemy_names(tree)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in constructors:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno} calls sqlalchemy {func.id}()")
                elif (isinstance(func, ast.Attribute) and func.attr in _SQL_CALLS
                      and isinstance(func.value, ast.Name) and func.value.id in {"sqlalchemy", "sa"}):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno} calls sqlalchemy.{func.attr}()")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if _SQL_STRING.search(node.value):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno} has SQL in a string: {node.value[:60]!r}")
    return problems


def test_every_project_package_is_known() -> None:
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert top - {"tests"} <= PROJECT, f"packages missing from the layer table: {sorted(top - PROJECT - {'tests'})}"


def test_imports_run_one_way() -> None:
    assert import_violations() == []


def test_no_sql_outside_store() -> None:
    assert sql_violations() == []


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ("from sqlalchemy import text\nq = text('x')\n", True),
        ("import sqlalchemy\nq = sqlalchemy.select()\n", True),
        ("q = 'SELECT code FROM grids'\n", True),
        ("q = 'UPDATE grids SET name = 1'\n", True),
        ("label = 'Select a grid from the list'\n", False),
        ("def f():\n    '''SELECT x FROM y in a docstring is documentation.'''\n", False),
        ("import re\nre.compile('x').sub('', 'y')\n", False),
    ],
)
def test_the_sql_scan_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snippet: str, found: bool) -> None:
    """The scanner itself: it flags SQL constructors and SQL strings, not words that look alike."""
    package = tmp_path / "gis"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "probe.py").write_text(snippet)
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert bool(sql_violations(["gis"])) is found


def test_the_import_scan_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, body in (("gis", "def f():\n    from store import models\n"), ("store", "")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        (tmp_path / name / "probe.py").write_text(body)
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert import_violations() == ["gis/probe.py:2 (gis) imports store"]
