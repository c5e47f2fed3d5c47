"""How long the pure work behind the demo takes: generating the demo street, validating plans.

Measures what tests used to assert as wall-clock limits (tests now assert only correctness):
``demo.generate.generate_demo()`` (seed 7), and ``boundaries.validate_plan`` on the demo-sized
rectangular plan (133 grids) and on a 10,000-grid plan. Median of ``--runs`` runs, one process.

    .venv/bin/python bench/validate_demo.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from boundaries.model import rectangular_plan
    from boundaries.validation import validate_plan
    from demo.generate import generate_demo

    small = rectangular_plan(splits=((7, 1), (3, 6)))
    big = rectangular_plan(splits=((10, 10), (3, 3), (3, 3)), cell_deg=0.0005)
    rows = [
        ("generate_demo() (seed 7)", _median(generate_demo, args.runs)),
        (f"validate_plan, {len(small)} grids", _median(lambda: validate_plan(small), args.runs)),
        (f"validate_plan, {len(big):,} grids", _median(lambda: validate_plan(big), args.runs)),
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"<!-- bench/validate_demo.py --runs {args.runs}; {platform.python_version()}; load {load:.2f} -->")
    print(f"| work | median s (of {args.runs}) |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
