"""Domain errors carry a code and parameters, and every code has words in both languages.

The raise sites are read from the source (AST), as ``tests/unit/test_architecture.py`` reads imports:
every construction of a :class:`gis.errors.GridGovError` (sub)class in the packages the pages reach
passes ``code=`` (or is one of the few classes that set their code themselves), every code has an
``error.<code>`` entry in zh and en, and each entry takes exactly the parameters the raise site gives.
Then each entry is formatted with sample values of the kind its placeholders ask for, in both
languages, and the Chinese text must not fall back to English or show ``None``/``nan``.
"""

from __future__ import annotations

import ast
import importlib
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from i18n.catalogue import CATALOGUE, LANGUAGES, describe_error, describe_finding, translate

ROOT = Path(__file__).resolve().parents[2]
#: Packages whose errors can reach a page (the CLI prints the English message; pages word the code).
PACKAGES = ("services", "store", "boundaries", "governance", "access", "gis", "etl")
#: Raise sites in these files need not carry a code: environment set-up and the command line's own
#: plumbing (their errors are shown as the class's words, e.g. "系统配置有误").
EXEMPT_FILES = {"gis/settings.py", "gis/io.py", "gis/crs.py", "gis/geometry.py", "gis/webmap.py", "gis/measure.py",
                "gis/join.py", "gis/_grid_kernels.py", "gis/sketch.py", "gis/fonts.py", "gis/progress.py",
                "etl/export.py", "etl/transform.py", "etl/cards.py", "etl/reports.py"}
ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[ ,'’\-]+[A-Za-z]+){2,}")


def _error_classes() -> dict[str, type]:
    """Every GridGovError subclass of the project, by class name (the modules are imported)."""
    from gis.errors import GridGovError

    for path in _sources():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if "migrations" in module:
            continue
        importlib.import_module(module)
    found: dict[str, type] = {}
    todo = [GridGovError]
    while todo:
        klass = todo.pop()
        found[klass.__name__] = klass
        todo.extend(klass.__subclasses__())
    return found


def _sources() -> list[Path]:
    out = []
    for package in PACKAGES:
        out += [p for p in sorted((ROOT / package).rglob("*.py")) if "__pycache__" not in p.parts]
    return out


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    code: str
    params: frozenset[str] | None  # None: not a literal (checked at run time where possible)
    #: a helper that gives every code the same params (``_refuse``: ``codes``): the words may leave some out
    uniform: bool = False


#: Classes that set their code in ``__init__`` from their arguments: (class, first argument) → code.
SELF_CODED = {"LoginRefused", "PermissionDenied", "GridNotFoundAtPoint", "ForeignDataError", "IdNumberError",
              "EvaluationCodeError", "ReferenceCodeError", "PublicCodeError"}


def _literal_keys(node: ast.AST | None) -> frozenset[str] | None:
    if node is None:
        return frozenset()
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return frozenset(k.value for k in node.keys)  # type: ignore[union-attr]
    return None


def raise_sites() -> tuple[list[Site], list[str]]:
    """(every coded construction of an error, every construction without a code: ``path:line Class``)."""
    classes = _error_classes()
    sites: list[Site] = []
    uncoded: list[str] = []
    for path in _sources():
        rel = str(path.relative_to(ROOT))
        if "migrations" in rel:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            keywords = {k.arg: k.value for k in node.keywords}
            if name == "_refuse" and node.args and isinstance(node.args[0], ast.Constant):
                sites.append(Site(rel, node.lineno, f"edit.{node.args[0].value}", frozenset({"codes"}), uniform=True))
                continue
            if name == "problem" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                sites.append(Site(rel, node.lineno, node.args[1].value,
                                  frozenset(k for k in keywords if k is not None)))
                continue
            if name not in classes or name in ("GridGovError",) and not keywords:
                continue
            code = keywords.get("code")
            if code is None:
                if name in SELF_CODED or _inside_class_init(tree, node):
                    continue
                if rel not in EXEMPT_FILES:
                    uncoded.append(f"{rel}:{node.lineno} {name}")
                continue
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                sites.append(Site(rel, node.lineno, code.value, _literal_keys(keywords.get("params"))))
            elif isinstance(code, ast.JoinedStr):
                sites.append(Site(rel, node.lineno, ast.unparse(code), None))
            elif not (isinstance(code, ast.Name) and code.id == "code"):  # a pass-through of a parameter
                uncoded.append(f"{rel}:{node.lineno} {name} (code is not a literal)")
    return sites, uncoded


def _inside_class_init(tree: ast.AST, call: ast.Call) -> bool:
    """A ``super().__init__`` style call inside an error class's ``__init__`` (the class sets the code)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            if any(child is call for child in ast.walk(node)):
                return True
    return False


#: f-string codes and what their placeholder takes.
DYNAMIC = {
    "f'incident.note_required.{action}'": ("incident.note_required.", ("reject", "handle", "reopen"), {"id"}),
    "f'id_number.{reason}'": ("id_number.", ("missing", "malformed", "check_digit", "birth_date"), set()),
    "f'public_code.{reason}'": ("public_code.", ("malformed", "unknown", "used", "not_open", "expired",
                                                  "rate_limited"), None),
    "f'edit.{rule}'": ("edit.", (), {"codes"}),  # the _refuse helpers: each rule is a site of its own
    "f'login.{reason}'": ("login.", ("wrong", "disabled", "no_account"), set()),
}


def _placeholders(key: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for lang, text in CATALOGUE[key].items():
        out[lang] = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    return out


def _codes() -> dict[str, set[tuple[frozenset[str] | None, bool]]]:
    """Every code raised → the (params, uniform) its raise sites give."""
    sites, _ = raise_sites()
    codes: dict[str, set[tuple[frozenset[str] | None, bool]]] = {}
    for site in sites:
        if site.code in DYNAMIC:
            prefix, suffixes, params = DYNAMIC[site.code]
            for suffix in suffixes:
                codes.setdefault(prefix + suffix, set()).add((None if params is None else frozenset(params), False))
            continue
        assert not site.code.startswith("f'"), f"{site.path}:{site.line}: add {site.code} to DYNAMIC"
        codes.setdefault(site.code, set()).add((site.params, site.uniform))
    return codes


def test_every_error_raised_in_reach_of_a_page_carries_a_code() -> None:
    _, uncoded = raise_sites()
    assert uncoded == [], "give these raise sites code=… (and params=…): " + "; ".join(uncoded)


def test_the_scan_finds_the_raise_sites() -> None:
    sites, _ = raise_sites()
    codes = {s.code for s in sites}
    # one of each shape: a literal, a helper (_refuse), a nested problem, a store error
    assert {"incident.not_allowed", "edit.line_misses_grid", "visit.too_far", "grid.retired"} <= codes
    assert len(sites) > 150, len(sites)


def test_every_code_has_words_in_both_languages_with_the_params_given() -> None:
    problems = []
    for code, param_sets in sorted(_codes().items()):
        key = f"error.{code}"
        if key not in CATALOGUE:
            problems.append(f"{key} is not in the catalogue")
            continue
        fields = _placeholders(key)
        if fields["zh"] != fields["en"]:
            problems.append(f"{key}: zh takes {sorted(fields['zh'])}, en {sorted(fields['en'])}")
        for params, uniform in param_sets:
            if params is None:
                continue
            if (not fields["zh"] <= set(params)) if uniform else set(params) != fields["zh"]:
                problems.append(f"{key}: the raise site gives {sorted(params)}, the words take {sorted(fields['zh'])}")
    assert problems == [], "\n".join(problems)


def test_every_error_class_has_words_of_its_own() -> None:
    missing = []
    for name, klass in _error_classes().items():
        code = vars(klass).get("code")
        if code is not None and f"error.{code}" not in CATALOGUE:
            missing.append(f"{name}.code = {code!r}")
        if code is not None and f"error.{code}" in CATALOGUE:
            assert _placeholders(f"error.{code}")["zh"] == set(), f"{name}: a class's words take no params"
    assert missing == []


def _sample(spec: str) -> object:
    import datetime as dt

    if spec == "list":
        return ["4306030010010010", "4306030010010020"]
    if spec.endswith("*"):
        prefix = spec[:-1]
        return [next(k for k in CATALOGUE if k.startswith(prefix + ".")).split(".", len(prefix.split(".")))[-1]]
    if spec == "key":
        return "field.category"
    if spec == "duration":
        return 30.5
    if spec == "errors":
        from gis.errors import ValidationError

        return [ValidationError("no kind", code="visit.kind_missing"), ValidationError("x", code="location.half")]
    if spec in ("time", "date"):
        return dt.datetime(2026, 11, 30, 18, 5, tzinfo=dt.UTC)
    if spec and not spec[0].isalpha() or spec in ("d", "f", "g"):
        return 12.5 if "f" in spec or "g" in spec else 12
    if spec:
        return next(k for k in CATALOGUE if k.startswith(spec + ".")).split(".")[-1]
    return "4306030010010010"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_error_entry_formats_with_values_of_its_kinds(lang: str) -> None:
    bad = []
    for key in sorted(k for k in CATALOGUE if k.startswith("error.")):
        specs = {f: spec for _, f, spec, _ in string.Formatter().parse(CATALOGUE[key]["zh"]) if f}
        text = translate(key, lang, **{f: _sample(spec or "") for f, spec in specs.items()})
        if lang == "zh" and (ENGLISH_RUN.search(text) or re.search(r"\b(None|nan|NaN)\b", text)):
            bad.append(f"{key}: {text}")
    assert bad == []


def test_a_page_words_an_error_by_its_code_not_its_message() -> None:
    from gis.errors import NotFoundError, ValidationError
    from governance.workflow import IncidentState, TransitionError, apply_transition
    import datetime as dt

    with pytest.raises(TransitionError) as caught:
        apply_transition(IncidentState(id=7, status="closed"), "accept", actor="x", at=dt.datetime.now(dt.UTC))
    zh = describe_error(caught.value, "zh")
    assert "7" in zh and "已办结" in zh and "重新办理" in zh and "accept" not in zh, zh
    assert "Closed" in describe_error(caught.value, "en")
    assert str(caught.value).startswith("cannot accept incident 7")  # the CLI keeps its English line
    # an unknown code falls back to its class's words, never to the English message
    assert describe_error(NotFoundError("grid 1 gone", code="no.such.code"), "zh") == translate("error.not_found")
    # params that do not fit the words fall back to the class's words, too
    odd = ValidationError("x", code="incident.not_found", params={"wrong": 1})
    assert describe_error(odd, "zh") == translate("error.invalid")


def test_nested_problems_are_worded_one_by_one() -> None:
    import datetime as dt

    from gis.errors import ValidationError
    from governance.visits import VisitRecord, validate_visit

    with pytest.raises(ValidationError) as caught:
        validate_visit(VisitRecord(household_id=0, staff_id=3, visited_at=dt.datetime(2026, 1, 1), kind="zzz", note="a\x00"),
                       now=dt.datetime.now(dt.UTC))
    zh = describe_error(caught.value, "zh")
    assert "住户" in zh and "zzz" in zh and "控制字符" in zh and "visit" not in zh.lower(), zh


def test_findings_are_worded_by_rule() -> None:
    from boundaries.validation import RULES

    for rule in RULES:
        assert f"finding.{rule}" in CATALOGUE and f"rule.{rule}" in CATALOGUE, rule
    assert "4306" in describe_finding("gap", "zh", codes=["4306"])
    assert describe_finding("no_such_rule", "zh").startswith(translate("finding.other", "zh", rule="no_such_rule",
                                                                        codes=[])[:4])
