#!/usr/bin/env python
"""The cost of row-level security: the map page's queries and ``gridgov assign``, with and without policies.

Same database, same data, one run, three ways of connecting (taking turns, ``--runs`` rounds, median):

* ``owner`` — the database owner: policies are not applied (the owner of the tables, ``BYPASSRLS`` on
  the local cluster; checked at the start), i.e. the same queries *without* row-level security;
* ``app admin`` — the application role in a street-wide account's session: every policy is evaluated
  and every row passes (the pure overhead of the policies on the same rows);
* ``app worker`` — the application role in a micro-grid worker's session (``--worker``): the policies
  filter to one grid (what a worker's page costs; fewer rows, so not an overhead figure).

Workloads:

* ``map queries``: what the electronic map page reads before its first draw —
  :func:`store.queries.grids_frame` (every grid with geometry), :func:`store.queries.summary_counts`,
  :func:`store.queries.households_frame`, :func:`store.queries.incidents_frame` and
  :func:`store.queries.incident_counts_by_grid` (finest level);
* ``map first draw (server)``: the map queries plus building and rendering the folium map of the grids
  (:func:`app_pages.maps.grid_map`, :func:`app_pages.folium_view.render`; rendering is the same work
  whoever reads, so the difference between the rows is the policies' share of the first draw);
* ``gridgov assign``: :func:`store.grids.reassign_points` of households and incidents plus
  :func:`store.grids.assignment_counts` in one transaction, rolled back (``assign --dry-run``).

The browser's own drawing time (``bench/map_load.py``) comes on top and is the same with or without
policies. Prints a Markdown table (seconds, and the overhead of ``app admin`` over ``owner``) for
``docs/performance.md``. It opens two short sessions of demo accounts (``--admin``, ``--worker``) in
the database of ``DATABASE_URL`` / the local cluster (``make db``) and ends them at the end.

Not a test; pytest never runs it. Small check (what helpers run): ``--runs 1``. The real measurement
(``--runs 7``) belongs on an otherwise idle machine::

    .venv/bin/python bench/rls.py [--runs 7] [--admin admin] [--worker worker-001]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from sqlalchemy import Connection, Engine, text  # noqa: E402

from store.engine import APP, OWNER, make_engine  # noqa: E402
from store.session import acting_as  # noqa: E402


def map_queries(conn: Connection) -> int:
    """The electronic map page's reads; returns the number of rows read (a sanity figure)."""
    from boundaries.coding import default_scheme
    from store import queries

    grids = queries.grids_frame(conn)
    counts = queries.summary_counts(conn)
    households = queries.households_frame(conn)
    incidents = queries.incidents_frame(conn, queries.IncidentFilter())
    by_grid = queries.incident_counts_by_grid(conn, queries.IncidentFilter(), level=default_scheme().finest_level)
    return len(grids) + len(counts) + len(households) + len(incidents) + len(by_grid)


def map_first_draw(conn: Connection) -> int:
    """The map queries, then the folium map of the grids built and rendered to HTML (the server's first draw)."""
    from app_pages import folium_view, maps
    from i18n import translate
    from store import queries

    rows = map_queries(conn)
    grids = queries.grids_frame(conn)
    rendered = folium_view.render(maps.grid_map(grids, tr=lambda key, **kw: translate(key, "zh", **kw)))
    return rows + (1 if rendered else 0)


def assign(conn: Connection) -> int:
    """``gridgov assign --dry-run``'s work (rolled back by the caller)."""
    from store.grids import assignment_counts, reassign_points

    moved = {table: reassign_points(conn, table) for table in ("households", "incidents")}
    totals = {table: assignment_counts(conn, table) for table in moved}
    return sum(sum(m.values()) for m in moved.values()) + sum(t["assigned"] for t in totals.values())


WORKLOADS: dict[str, Callable[[Connection], int]] = {
    "map queries": map_queries, "map first draw (server)": map_first_draw, "gridgov assign (dry run)": assign,
}


def timed(ways: list[tuple[str, Engine, object]], work: Callable[[Connection], int], runs: int
          ) -> dict[str, tuple[float, int]]:
    """Median seconds of ``runs`` transactions (rolled back) of ``work`` for each way of connecting
    (label, engine, actor), after one untimed warm-up round; the ways take turns within each round, so a
    drift of the machine's speed or of the caches hits them alike."""
    seconds: dict[str, list[float]] = {label: [] for label, _, _ in ways}
    rows: dict[str, int] = {}
    for i in range(runs + 1):
        for label, engine, actor in ways:
            with acting_as(actor), engine.connect() as conn:
                trans = conn.begin()
                start = time.perf_counter()
                rows[label] = work(conn)
                elapsed = time.perf_counter() - start
                trans.rollback()
            if i:
                seconds[label].append(elapsed)
    return {label: (statistics.median(seconds[label]), rows[label]) for label in seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per cell (median); 1 for a quick check")
    parser.add_argument("--admin", default="admin", help="a street-wide account (all rows pass the policies)")
    parser.add_argument("--worker", default="worker-001", help="a micro-grid worker's account (rows filtered)")
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append", help="workloads to run (default all)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    from services.auth import end_owner_session, owner_session

    owner, app = make_engine(role=OWNER), make_engine(role=APP)
    with owner.connect() as conn:
        bypass = conn.execute(text("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user")
                              ).scalar_one()
        owns = conn.execute(text("SELECT pg_get_userbyid(relowner) = current_user FROM pg_class "
                                 "WHERE relname = 'households' AND relkind = 'r'")).scalar_one()
        households = conn.execute(text("SELECT count(*) FROM households")).scalar_one()
    if not bypass:
        print(f"the owner role does not bypass row-level security (owns households: {owns}): no baseline",
              file=sys.stderr)
        return 1
    admin, worker = owner_session(owner, app, args.admin), owner_session(owner, app, args.worker)
    cells: dict[tuple[str, str], tuple[float, int]] = {}
    try:
        ways = [("owner", owner, None), ("app admin", app, admin), ("app worker", app, worker)]
        for name in args.only or list(WORKLOADS):
            print(f"{name} …", file=sys.stderr)
            for label, cell in timed(ways, WORKLOADS[name], args.runs).items():
                cells[(name, label)] = cell
    finally:
        for actor in (admin, worker):
            end_owner_session(owner, actor.session_token)
        owner.dispose()
        app.dispose()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Row-level security cost, {households:,} households; median of {args.runs} run(s); "
          f"{platform.node()}, {os.cpu_count()} CPUs, load {load:.2f}; `python bench/rls.py --runs {args.runs}`\n")
    print("| workload | owner (no policies) s | app admin (policies, all rows) s | overhead | "
          "app worker (policies, one grid) s | rows owner / admin / worker |")
    print("|---|---|---|---|---|---|")
    for name in args.only or list(WORKLOADS):
        (o, ro), (a, ra), (w, rw) = (cells[(name, label)] for label in ("owner", "app admin", "app worker"))
        print(f"| {name} | {o:.3f} | {a:.3f} | {(a - o) / o:+.1%} | {w:.3f} | {ro:,} / {ra:,} / {rw:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
