"""environment.yml (conda-forge) and pyproject.toml must list the same runtime packages and versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# PyPI name -> conda-forge name where they differ.
CONDA_NAMES = {"psycopg[binary]": "psycopg", "matplotlib": "matplotlib-base", "dask": "dask-core"}


def _pyproject_pins() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for dep in deps:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([\w.]+)", dep).groups()
        pins[CONDA_NAMES.get(name, name).lower()] = version
    return pins


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.fullmatch(r"\s+-\s+([A-Za-z0-9_.\-]+)=([\w.]+)", line)
        if match and match.group(1) != "python":
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_environment_yml_lists_the_same_runtime_packages_as_pyproject() -> None:
    assert _environment_pins() == _pyproject_pins()


def test_every_runtime_dependency_is_pinned() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all("==" in d for d in deps), [d for d in deps if "==" not in d]
