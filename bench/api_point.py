"""Point lookup over HTTP under a bounded load: ``GET /api/point/4490/{lon},{lat}`` from N concurrent clients.

usage::

    .venv/bin/python bench/api_point.py --url http://127.0.0.1:8501 --token "$TOKEN"                 # 50 clients, 60 s
    .venv/bin/python bench/api_point.py --url http://127.0.0.1:8501 --token "$TOKEN" --clients 4 --seconds 3   # a check

Each client sends one request at a time (a closed loop: the load is bounded by ``--clients``) for
``--seconds``, at random points inside the extent of the micro-grids (read once from
``/ogc/collections/grids-level-3``; ``--bbox`` overrides it), each answer checked to be 200 with JSON.
The token needs a rate limit above the load (``gridgov token create --user NAME --rate 10000000``).
Prints a Markdown table: requests, requests/s, p50/p90/p99 latency in ms, errors, and the
server's resident memory when ``--pid`` names its process. Targets (issue #15): ≥ 1,000 requests/s
and p99 < 20 ms with 50 clients on 127.0.0.1 for 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

import httpx
import numpy as np


def _extent(url: str, token: str) -> tuple[float, float, float, float]:
    answer = httpx.get(f"{url}/ogc/collections/grids-level-3", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    return tuple(answer.json()["extent"]["spatial"]["bbox"][0])


def _rss_mb(pid: int | None) -> str:
    if pid is None:
        return "n/a"
    try:
        for line in open(f"/proc/{pid}/status", encoding="ascii"):
            if line.startswith("VmRSS:"):
                return f"{int(line.split()[1]) / 1024:.0f}"
    except OSError:
        pass
    return "n/a"


async def _client(http: httpx.AsyncClient, box: tuple[float, float, float, float], until: float, seed: int,
                  latencies: list[float], errors: list[str]) -> None:
    rng = random.Random(seed)
    x0, y0, x1, y1 = box
    while time.perf_counter() < until:
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        started = time.perf_counter()
        try:
            answer = await http.get(f"/api/point/4490/{lon:.7f},{lat:.7f}")
            ok = answer.status_code == 200 and isinstance(answer.json(), dict)
        except (httpx.HTTPError, ValueError) as exc:
            ok, answer = False, exc
        latencies.append(time.perf_counter() - started)
        if not ok:
            errors.append(str(getattr(answer, "status_code", answer)))


async def run(url: str, token: str, clients: int, seconds: float, box: tuple[float, float, float, float]) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=30) as http:
        await http.get(f"/api/point/4490/{(box[0] + box[2]) / 2},{(box[1] + box[3]) / 2}")  # warm-up
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client(http, box, until, i, latencies, errors) for i in range(clients)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": float(np.percentile(ms, 50)),
            "p90": float(np.percentile(ms, 90)), "p99": float(np.percentile(ms, 99)), "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="server root, e.g. http://127.0.0.1:8501")
    parser.add_argument("--token", required=True, help="API token (with a rate limit above the load)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--bbox", help="lon_min,lat_min,lon_max,lat_max EPSG:4490 (default: the micro-grids' extent)")
    parser.add_argument("--pid", type=int, help="the server's process id, for its resident memory")
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    box = tuple(float(v) for v in args.bbox.split(",")) if args.bbox else _extent(url, args.token)
    print(f"{args.clients} clients, {args.seconds:g} s, points in {box}", file=sys.stderr)
    r = asyncio.run(run(url, args.token, args.clients, args.seconds, box))
    print("| clients | seconds | requests | requests/s | p50 ms | p90 ms | p99 ms | errors | server RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.clients} | {args.seconds:g} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p90']:.1f} "
          f"| {r['p99']:.1f} | {r['errors']} | {_rss_mb(args.pid)} |")
    if r["errors"]:
        print(f"errors: {r['error_kinds']}", file=sys.stderr)
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
