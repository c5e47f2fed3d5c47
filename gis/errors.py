"""Exception hierarchy shared by every GridGov package.

Each specific error also subclasses the builtin it refines, so callers that only know
Python's builtins still catch it (``InvalidGridCodeError`` is a ``ValueError``).
Messages name the bad value and what was expected, so a planner can act on them.

Every error also carries a ``code`` and ``params``: the message (English) is for the command line and
the logs; a page words the error from the catalogue in the reader's language
(:func:`i18n.describe_error`: the entry ``error.<code>``, formatted with ``params``). A subclass has a
default code (e.g. ``not_found``) that a raise site refines (``NotFoundError(msg, code="grid.retired",
params={"code": code})``); a code without a catalogue entry falls back to the class's, so a page never
shows the English message. ``tests/unit/test_error_codes.py`` checks that every code raised has zh and
en entries taking exactly the parameters given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "GridGovError",
    "ConfigurationError",
    "DatabaseUnavailableError",
    "PostGISMissingError",
    "CRSError",
    "CoordinateRangeError",
    "DataSourceError",
    "ValidationError",
    "NotFoundError",
    "StaleVersionError",
]


class GridGovError(Exception):
    """Base class of every error GridGov raises on purpose.

    Parameters
    ----------
    message:
        English, naming the bad value and what was expected (CLI, logs, ``str(exc)``).
    code:
        Catalogue code (``error.<code>`` in :mod:`i18n`) the pages word the error with; default: the
        class's :attr:`code`.
    params:
        The placeholders of that entry (plain values: numbers, codes, lists, datetimes).
    """

    #: Exit code the CLI uses for this error (1: data/validation/not found, 2: usage/environment).
    exit_code: int = 1
    #: Catalogue code of this kind of error (``error.<code>``); raise sites may give a finer one.
    code: str = "failed"

    def __init__(self, message: str = "", *, code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: dict[str, Any] = dict(params or {})


class ConfigurationError(GridGovError, ValueError):
    """A setting (environment variable or option) has a value GridGov cannot use."""

    exit_code = 2
    code = "configuration"


class DatabaseUnavailableError(GridGovError, ConnectionError):
    """The database cannot be reached, or the local cluster cannot be started."""

    exit_code = 2
    code = "db.unavailable"


class PostGISMissingError(GridGovError, RuntimeError):
    """The database server has no PostGIS extension available."""

    exit_code = 2
    code = "db.postgis_missing"


class CRSError(GridGovError, ValueError):
    """A coordinate reference system is missing, unknown or does not match."""

    code = "crs"


class CoordinateRangeError(CRSError):
    """Coordinates fall outside the range their CRS allows (or look swapped)."""

    code = "coordinates.range"


class DataSourceError(GridGovError, OSError):
    """A file cannot be read: missing, truncated, wrong format or wrong encoding."""

    code = "file.unreadable"


class ValidationError(GridGovError, ValueError):
    """Input failed validation. ``findings`` holds every problem found, not just the first."""

    code = "invalid"

    def __init__(self, message: str = "", findings: list | None = None, *, code: str | None = None,
                 params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code=code, params=params)
        self.findings = list(findings or [])


class NotFoundError(GridGovError, LookupError):
    """A grid, household, incident or changeset that was asked for does not exist."""

    code = "not_found"


class StaleVersionError(GridGovError, RuntimeError):
    """Optimistic-locking conflict: someone else changed the object since it was read.

    The message names the object and the newer change, like an HTTP 409 from the
    OpenStreetMap API.
    """

    code = "stale"
