"""The UI string catalogue: complete in both languages, used by the pages, no stray Chinese."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from app_pages.i18n import CATALOGUE, LANGUAGES, _check, translate

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = sorted([ROOT / "app.py", *(ROOT / "app_pages").glob("*.py")])
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def test_every_key_has_both_languages() -> None:
    assert set(LANGUAGES) == {"zh", "en"}
    assert _check(CATALOGUE) == []
    for key, entry in CATALOGUE.items():
        assert set(entry) == {"zh", "en"}, key


def test_both_languages_take_the_same_placeholders() -> None:
    fmt = string.Formatter()
    for key, entry in CATALOGUE.items():
        fields = {lang: {f for _, f, _, _ in fmt.parse(text) if f} for lang, text in entry.items()}
        assert fields["zh"] == fields["en"], key


def test_chinese_is_default_and_english_differs() -> None:
    assert translate("nav.map") == "电子地图"
    assert translate("nav.map", "en") == "Electronic map"
    assert translate("inc.total", "en", count=3) == "Matching incidents: 3"
    with pytest.raises(KeyError, match="not in"):
        translate("no.such.key")


def _ui_literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal in a module except docstrings (comments are not literals)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_contain_no_literal_chinese(path: Path) -> None:
    if path.name == "i18n.py":
        return
    bad = [(n, text) for n, text in _ui_literals(path) if CJK.search(text)]
    assert bad == [], f"{path.name}: move these strings to i18n/catalogue.py: {bad}"


def test_the_literal_check_catches_chinese(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text('"""Doc 文档."""\nimport streamlit as st\nst.title("电子地图")  # 注释\nx = f"共 {1} 个"\n', encoding="utf-8")
    assert sorted({n for n, text in _ui_literals(page) if CJK.search(text)}) == [3, 4]


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in PAGE_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("t", "tr", "translate"):
                if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    keys.add(node.args[0].value)
    return keys


def test_every_literal_key_used_by_the_pages_exists() -> None:
    used = _used_keys()
    assert len(used) > 40
    missing = sorted(k for k in used if k not in CATALOGUE)
    assert missing == []


def test_domain_values_have_labels() -> None:
    from governance.vocab import INCIDENT_STATUSES, SPECIAL_KINDS, STAFF_ROLES

    for prefix, values in (("role", STAFF_ROLES), ("status", INCIDENT_STATUSES), ("special", SPECIAL_KINDS)):
        for value in values:
            assert f"{prefix}.{value}" in CATALOGUE


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_hold_no_sql_and_no_caching(path: Path) -> None:
    """SQL lives in etl/queries.py (and friends); st.cache_* only in app_pages/common.py."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    imports = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    if path.name != "common.py":
        assert not any(name.split(".")[0] == "sqlalchemy" for name in imports), path.name
        assert "st.cache_data" not in source and "st.cache_resource" not in source, path.name
    sql = [text for _, text in _ui_literals(path) if re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s.+\b(FROM|INTO|SET)\b", text)]
    assert sql == [], f"{path.name}: move SQL to etl/: {sql}"
