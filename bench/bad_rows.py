"""How long refusing a bad file takes: many bad rows, and one polygon with a million vertices.

Reporting problems must be linear in their number (issue #14: the error path was quadratic,
5,000 / 10,000 / 20,000 bad rows took 5.7 / 18.9 / 54.9 s), and an oversized polygon must be
refused before any expensive work (it took 213 s and 3.1 GB). Each case runs the real command
(``python -m cli.main import …``) in its own process and measures its wall-clock time and peak
resident memory (``wait4``); every case must exit 1 with every bad row in the ``--report`` file.

    .venv/bin/python bench/bad_rows.py                        # 5,000 … 100,000 bad rows, 1,000,000 vertices
    .venv/bin/python bench/bad_rows.py --rows 5000,10000 --vertices 0

The database is ``DATABASE_URL`` or the local cluster (``gridgov db up``); nothing is written
to it (the files are refused).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak RSS in MB, stderr's last line) of ``python -m cli.main ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    err = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, seconds, usage.ru_maxrss / 1024, (err.strip().splitlines() or [""])[-1]


def _bad_households(path: Path, n: int) -> Path:
    """``n`` household rows, every one refused (members −3: outside 1–50)."""
    lines = ["户号,地址,人口,经度,纬度"]
    lines += [f"B{i:07d},测试路{i}号,-3,{112.90 + (i % 1000) * 1e-5:.6f},{28.20 + (i // 1000) * 1e-5:.6f}"
              for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _big_polygon(path: Path, vertices: int) -> Path:
    import numpy as np

    t = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    ring = np.column_stack([112.91 + 0.004 * np.cos(t), 28.21 + 0.004 * np.sin(t)]).round(7).tolist()
    ring.append(ring[0])
    feature = {"type": "Feature", "properties": {"code": "430104001001001001", "name": "big"},
               "geometry": {"type": "Polygon", "coordinates": [ring]}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="5000,10000,20000,100000", help="Bad-row counts (comma-separated).")
    parser.add_argument("--vertices", type=int, default=1_000_038, help="Vertices of the big polygon (0: skip).")
    args = parser.parse_args()
    counts = [int(c) for c in args.rows.split(",") if c.strip()]
    print(f"<!-- {platform.node()} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.2f} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · python {platform.python_version()} -->")
    print("| input | refused with | exit | seconds | peak RSS (MB) | problems reported |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-") as tmp:
        work = Path(tmp)
        for n in counts:
            path = _bad_households(work / f"bad_{n}.csv", n)
            report = work / f"report_{n}.csv"
            code, seconds, peak, _ = _run(["import", "households", str(path), "--crs", "4490", "--report", str(report)])
            reported = max(0, len(report.read_text(encoding="utf-8-sig").splitlines()) - 1) if report.exists() else 0
            print(f"| {n:,} bad household rows (CSV) | bad_members | {code} | {seconds:.2f} | {peak:.0f} | {reported:,} |",
                  flush=True)
            print(f"{n:,} rows: {seconds:.2f} s", file=sys.stderr)
        if args.vertices:
            path = _big_polygon(work / "big.geojson", args.vertices)
            code, seconds, peak, line = _run(["import", "grids", str(path), "--dry-run"])
            rule = "GRIDGOV_MAX_VERTICES" if "GRIDGOV_MAX_VERTICES" in line else line[:60]
            print(f"| one polygon of {args.vertices:,} vertices (GeoJSON, {path.stat().st_size / 1e6:.0f} MB) | {rule} | "
                  f"{code} | {seconds:.2f} | {peak:.0f} | 1 |", flush=True)


if __name__ == "__main__":
    main()
