"""Topology-safe boundary edits: split, merge, reshape, transfer, replace, reshape-to-outline, annex."""

from __future__ import annotations

from boundaries.edits.annex import annex_area
from boundaries.edits.operations import *  # noqa: F401,F403
from boundaries.edits.operations import __all__ as _operations_all
from boundaries.edits.reshape import reshape_grid

__all__ = [*_operations_all, "annex_area", "reshape_grid"]
