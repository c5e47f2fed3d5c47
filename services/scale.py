"""Assignment beyond one process: ``gridgov assign --engine dask`` (docs/scaling.md).

The points (households and incidents from the database, or a GeoParquet file of points) are
assigned to the current leaf grids on a ``dask.distributed`` cluster by
:func:`gis.distributed.assign_distributed` — the rule and answers of :mod:`gis.join` — and, for
the database, written back through the same staging-and-COPY path and checked database function
as the single-process engine (:func:`store.grids.reassign_points`, :func:`store.grids.apply_assignment`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine

from access.actor import Actor
from access.permissions import require
from boundaries.coding import default_scheme
from gis.distributed import assign_distributed
from store.grids import assignment_counts, leaf_grids_at, reassign_points
from store.session import read_only, run_in_transaction

__all__ = ["DaskRun", "reassign_on_dask", "assign_file_on_dask", "prefix_digits"]

TABLES = ("households", "incidents")


@dataclass
class DaskRun:
    """What a Dask assignment did: per table (or the file) partitions and points per worker."""

    partitions: dict[str, int] = field(default_factory=dict)
    partitioned_by: dict[str, str] = field(default_factory=dict)
    points_per_worker: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"partitions": dict(self.partitions), "partitioned_by": dict(self.partitioned_by),
                "points_per_worker": {k: dict(v) for k, v in self.points_per_worker.items()}}


def prefix_digits() -> int:
    """Digits of the admin-code prefix the points are partitioned by: the code of the level above
    the micro-grids (its parent grid), or the level-1 code for a one-level scheme."""
    scheme = default_scheme()
    return scheme.length(max(1, scheme.levels - 1))


def _prefixes(codes: Sequence[Any], digits: int) -> np.ndarray | None:
    values = np.asarray(codes, dtype=object)
    out = np.array([c[:digits] if isinstance(c, str) and c else None for c in values], dtype=object)
    return out if any(v is not None for v in out) else None


def reassign_on_dask(
    bind: Engine | Connection,
    actor: Actor,
    client: Any,
    *,
    dry_run: bool = False,
    n_partitions: int | None = None,
) -> tuple[dict[str, Any], DaskRun]:
    """Re-assign every household and incident on the cluster of ``client``; ``(moves and counts, run)``.

    The same transaction, checks and writes as the single-process ``gridgov assign`` (only the
    computation of the codes runs on the cluster): points are partitioned by the prefix of the
    grid code they carry (:func:`prefix_digits`), and along a Z-order curve where none does.
    ``dry_run`` rolls everything back. Needs the ``import`` permission (as ``gridgov assign``'s
    writes go through ``gridgov.apply_assignment``).
    """
    require(actor.role, "import")
    run = DaskRun()
    digits = prefix_digits()

    def work(conn: Connection) -> dict[str, Any]:
        codes, geoms = leaf_grids_at(conn)
        out: dict[str, Any] = {}
        for table in TABLES:
            def assigner(db: Any, x: np.ndarray, y: np.ndarray, old: np.ndarray, table: str = table) -> np.ndarray:
                result = assign_distributed(client, (x, y), geoms, codes, n_partitions=n_partitions,
                                            prefixes=_prefixes(old, digits))
                run.partitions[table] = result.partitions
                run.partitioned_by[table] = result.partitioned_by
                run.points_per_worker[table] = result.points_per_worker
                return result.keys(codes)

            moves = reassign_points(conn, table, assigner=assigner)
            out[table] = (moves, assignment_counts(conn, table))
        return out

    result = run_in_transaction(bind, actor, work, commit=not dry_run)
    return result, run


def assign_file_on_dask(
    bind: Engine | Connection,
    actor: Actor | None,
    client: Any,
    points: Path,
    out: Path,
    *,
    n_partitions: int | None = None,
) -> tuple[dict[str, Any], DaskRun]:
    """Assign the points of a GeoParquet file (EPSG:4490, or reprojected to it) to the current leaf grids.

    Writes ``out`` (Parquet): ``row`` (0-based row of the input), ``lon``, ``lat`` (EPSG:4490
    degrees) and ``grid_code`` (``None`` outside every grid). An ``admin_code`` column in the file,
    when present, partitions the points by its prefix (:func:`prefix_digits`). Nothing in the
    database changes. Returns ``({"points", "assigned", "unassigned", "out"}, run)``.
    """

    from etl.readers import read_point_coordinates

    with read_only(bind, actor) as db:
        codes, geoms = leaf_grids_at(db)
    x, y, admin = read_point_coordinates(points)
    result = assign_distributed(client, (x, y), geoms, codes, n_partitions=n_partitions,
                                prefixes=_prefixes(admin, prefix_digits()) if admin is not None else None)
    assigned = result.keys(codes)
    _write_assigned(out, x, y, assigned)
    run = DaskRun({"points": result.partitions}, {"points": result.partitioned_by},
                  {"points": result.points_per_worker})
    n_assigned = int((result.positions >= 0).sum())
    return {"points": len(x), "assigned": n_assigned, "unassigned": len(x) - n_assigned, "out": str(out)}, run


def _write_assigned(out: Path, x: np.ndarray, y: np.ndarray, codes: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"row": pa.array(np.arange(len(x), dtype=np.int64)), "lon": pa.array(x), "lat": pa.array(y),
                      "grid_code": pa.array(codes, type=pa.string(), from_pandas=True)})
    pq.write_table(table, out)
