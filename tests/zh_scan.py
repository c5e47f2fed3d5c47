"""What a Chinese page must not show (issue #13.6) — the one home of the rule, used by the AppTest scan
(tests/apptest/test_zh_everywhere.py), the browser scan (tests/e2e/test_zh_browser.py) and the tests of
the files GridGov writes (the monthly report).

:func:`problems_in` finds, in a text a person reads,

* an English sentence: three or more English words in a row (data values such as grid names and
  account names are Chinese or codes, so any such run is UI text that was not translated);
* a raw key: a domain code shown instead of its label (``dispute``, ``reported``, ``worker`` …) or a
  catalogue key (``nav.map``);
* ``None``, ``nan``, ``NaN``, ``NaT``, ``null``, ``undefined``;
* ``Traceback`` or a server path;
* a command-line flag (``--by``, ``--expected-version``).
"""

from __future__ import annotations

import re

__all__ = ["problems_in", "DEMO_ACCOUNTS", "ENGLISH_SENTENCE", "RAW_CODES", "ALLOWED_RUNS", "CODE_PREFIXES"]

#: One demo account per role (README: the demo accounts), as the scans log in.
DEMO_ACCOUNTS = {
    "admin": "admin", "leader": "leader", "planner": "planner", "grid_head": "head-001", "worker": "worker-001",
    "police": "police", "doctor": "doctor", "supervisor": "supervisor", "coordinator": "coordinator",
    "inspector": "inspector",
}

ENGLISH_SENTENCE = re.compile(r"(?<![\w./-])[A-Za-z]{2,}(?:[ ,;:'’]+[A-Za-z]{2,}){2,}")
NONE_NAN = re.compile(r"(?<![\w])(None|nan|NaN|NaT|null|undefined)(?![\w])")
TRACEBACK = re.compile(r"Traceback|File \"/|/work/|site-packages|\w+Error:")
CLI_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
CATALOGUE_KEY = re.compile(r"(?<![\w.])[a-z_]+(?:\.[a-z_0-9]+)+(?![\w.])")
#: Label prefixes whose keys are domain codes that must be shown by their label.
CODE_PREFIXES = ("category", "status", "disposition", "account_role", "role", "action", "special", "severity",
                 "visit_kind", "rule", "audit_action", "audit_object")
#: Words that are fine in Chinese text (units, formats, product names, standard abbreviations).
ALLOWED_RUNS = {"Noto Sans CJK SC"}


def _raw_codes() -> set[str]:
    from i18n.catalogue import CATALOGUE

    codes = set()
    for key in CATALOGUE:
        prefix, _, code = key.rpartition(".")
        if prefix in CODE_PREFIXES and re.fullmatch(r"[a-z][a-z_]+", code) and len(code) > 3:
            codes.add(code)
    return codes


RAW_CODES = _raw_codes()
RAW_CODE = re.compile(r"(?<![\w.-])(" + "|".join(sorted(map(re.escape, RAW_CODES), key=len, reverse=True))
                      + r")(?![\w.-])") if RAW_CODES else None


def problems_in(text: str) -> list[str]:
    """What a Chinese page must not show, found in ``text`` (one entry per kind and match)."""
    from i18n.catalogue import CATALOGUE

    found = []
    for match in ENGLISH_SENTENCE.finditer(text):
        if match.group(0) not in ALLOWED_RUNS:
            found.append(f"English: {match.group(0)!r}")
    found += [f"None/nan: {m.group(0)!r}" for m in NONE_NAN.finditer(text)]
    found += [f"traceback: {m.group(0)!r}" for m in TRACEBACK.finditer(text)]
    found += [f"CLI flag: {m.group(0)!r}" for m in CLI_FLAG.finditer(text)]
    found += [f"catalogue key: {m.group(0)!r}" for m in CATALOGUE_KEY.finditer(text) if m.group(0) in CATALOGUE]
    if RAW_CODE is not None:
        found += [f"raw code: {m.group(0)!r}" for m in RAW_CODE.finditer(text)]
    return found
