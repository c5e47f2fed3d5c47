"""Exception hierarchy shared by every GridGov package.

Each specific error also subclasses the builtin it refines, so callers that only know
Python's builtins still catch it (``InvalidGridCodeError`` is a ``ValueError``).
Messages name the bad value and what was expected, so a planner can act on them.
"""

from __future__ import annotations

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
    """Base class of every error GridGov raises on purpose."""

    #: Exit code the CLI uses for this error (1: data/validation/not found, 2: usage/environment).
    exit_code: int = 1


class ConfigurationError(GridGovError, ValueError):
    """A setting (environment variable or option) has a value GridGov cannot use."""

    exit_code = 2


class DatabaseUnavailableError(GridGovError, ConnectionError):
    """The database cannot be reached, or the local cluster cannot be started."""

    exit_code = 2


class PostGISMissingError(GridGovError, RuntimeError):
    """The database server has no PostGIS extension available."""

    exit_code = 2


class CRSError(GridGovError, ValueError):
    """A coordinate reference system is missing, unknown or does not match."""


class CoordinateRangeError(CRSError):
    """Coordinates fall outside the range their CRS allows (or look swapped)."""


class DataSourceError(GridGovError, OSError):
    """A file cannot be read: missing, truncated, wrong format or wrong encoding."""


class ValidationError(GridGovError, ValueError):
    """Input failed validation. ``findings`` holds every problem found, not just the first."""

    def __init__(self, message: str, findings: list | None = None) -> None:
        super().__init__(message)
        self.findings = list(findings or [])


class NotFoundError(GridGovError, LookupError):
    """A grid, household, incident or changeset that was asked for does not exist."""


class StaleVersionError(GridGovError, RuntimeError):
    """Optimistic-locking conflict: someone else changed the object since it was read.

    The message names the object and the newer change, like an HTTP 409 from the
    OpenStreetMap API.
    """

