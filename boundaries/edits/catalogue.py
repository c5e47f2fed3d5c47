"""The edit operations and the parameters each takes: one catalogue for the editor, the CLI and the API.

The boundary editor asks for exactly these parameters (and draws the geometry kind they need), the
``gridgov edit`` commands map their options onto them, and :func:`services.editing.preview_edit`
checks a request against them before running the operation. Geometries are shapely objects in
EPSG:4490.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from boundaries.edits.annex import annex_area
from boundaries.edits.operations import merge_grids, replace_children, reshape_boundary, split_grid, transfer_area
from boundaries.edits.reshape import reshape_grid
from gis.errors import ValidationError

__all__ = ["Parameter", "Operation", "OPERATIONS", "GEOMETRY_KINDS"]

#: Parameter kinds: a grid code, several codes, free text, or a geometry of a kind.
PARAMETER_KINDS = ("code", "codes", "text", "line", "area", "line_or_area", "areas")
#: The geometry kinds (what a person draws on the map for the operation).
GEOMETRY_KINDS = ("line", "area", "line_or_area", "areas")


@dataclass(frozen=True)
class Parameter:
    """One parameter of an edit operation: its keyword, its kind, whether it must be given."""

    name: str
    kind: str
    required: bool = True

    def __post_init__(self) -> None:
        if self.kind not in PARAMETER_KINDS:
            raise ValueError(f"parameter kind {self.kind!r} is not one of {PARAMETER_KINDS}")


@dataclass(frozen=True)
class Operation:
    """An edit operation: its name, the pure function that performs it, and its parameters."""

    name: str
    function: Callable[..., Any]
    parameters: tuple[Parameter, ...]

    @property
    def geometry_kind(self) -> str | None:
        """What the person draws for this operation (``None``: nothing, e.g. a merge)."""
        return next((p.kind for p in self.parameters if p.kind in GEOMETRY_KINDS), None)

    def check(self, given: Mapping[str, Any]) -> None:
        """Refuse unknown or missing parameters (one :class:`ValidationError` naming all of them)."""
        names = {p.name for p in self.parameters}
        unknown = sorted(set(given) - names)
        missing = [p.name for p in self.parameters if p.required and given.get(p.name) is None]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if unknown:
                parts.append(f"unknown {unknown}")
            raise ValidationError(
                f"edit '{self.name}' takes {[p.name for p in self.parameters]}: {'; '.join(parts)}",
                code="edit.parameters", params={"operation": self.name},
            )

    def run(self, plan: Any, **kwargs: Any) -> Any:
        return self.function(plan, **kwargs)


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("split", split_grid, (Parameter("code", "code"), Parameter("line", "line"))),
        Operation("merge", merge_grids, (Parameter("codes", "codes"),)),
        Operation("reshape", reshape_boundary,
                  (Parameter("code_a", "code"), Parameter("code_b", "code"), Parameter("new_line_or_area", "line_or_area"))),
        Operation("transfer", transfer_area,
                  (Parameter("from_code", "code"), Parameter("to_code", "code"), Parameter("area", "area"))),
        Operation("reshape_grid", reshape_grid, (Parameter("code", "code"), Parameter("geometry", "area"))),
        Operation("annex", annex_area,
                  (Parameter("parent_code", "code"), Parameter("area", "area"), Parameter("name", "text", required=False))),
        Operation("replace", replace_children, (Parameter("parent_code", "code"), Parameter("new_children_geoms", "areas"))),
    )
}
