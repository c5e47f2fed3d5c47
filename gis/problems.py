"""Problems found in input rows: one record type shared by readers, loaders and their reports.

A reader, a validation step or a database check that finds something wrong with row *n* of an
input file says so with a :class:`RowProblem` (which row, which record, which rule, a message a
planner can act on, and where the row is). :data:`ERROR` problems reject the row; :data:`WARNING`
problems keep it (e.g. a repaired geometry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ERROR", "WARNING", "RowProblem"]

#: Severity of a row problem that rejects the row.
ERROR = "error"
#: Severity of a row problem that was repaired or is informational (the row is kept).
WARNING = "warning"

@dataclass(frozen=True)
class RowProblem:
    """One problem with one input row.

    Attributes
    ----------
    row:
        0-based position of the row in the file's data rows (spreadsheet line = row + 2).
    id:
        The row's natural key (grid code, household id ...) when known (also as ``.key``).
    rule:
        Machine-readable rule name (``duplicate_key``, ``swapped_lon_lat``, ``invalid_geometry`` ...).
    message:
        Human-readable explanation naming the bad value.
    lon, lat:
        Where the row is, in EPSG:4490 degrees (or as read when it could not be transformed).
    severity:
        :data:`ERROR` (row rejected) or :data:`WARNING` (row kept, e.g. repaired).
    """

    row: int
    id: str | None
    rule: str
    message: str
    lon: float | None = None
    lat: float | None = None
    severity: str = ERROR

    @property
    def key(self) -> str | None:
        """Alias of :attr:`id`."""
        return self.id

    def to_record(self) -> dict[str, Any]:
        """``{"row", "id", "rule", "message", "lon", "lat", "severity"}`` (a plain dict: fast for
        100,000 problems, unlike ``dataclasses.asdict``'s deep copies)."""
        return {"row": self.row, "id": self.id, "rule": self.rule, "message": self.message,
                "lon": self.lon, "lat": self.lat, "severity": self.severity}
