#!/usr/bin/env python3
"""CPU per request of a running server, afresh (for A/B work on a held library).

    python bench/percall.py --base-url http://127.0.0.1:8000 --server-pid PID \\
        --database-url postgresql://... --queries-from bench/results/X.json [--duration 6]

Runs the benchmark's afresh read scenarios (search common / rare / prefix /
typo, list first page) with wrk at 1 and 16 clients and prints p50, req/s and
the server's and PostgreSQL's CPU milliseconds per request, the figure that
hardly depends on what else the machine does (bench/README.md). Measures only;
start the server yourself (e.g. against `hold.py`'s library). Several
`--base-url`s (and their `--server-pid`s): the clients are split evenly between them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import loadgen  # noqa: E402


def postgres_group(port: int) -> list[psutil.Process]:
    """The postmaster listening on `port` and its children (backends)."""
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            postmaster = psutil.Process(conn.pid)
            return [postmaster, *postmaster.children(recursive=True)]
    raise SystemExit(f"no process listens on port {port}")


def scenarios(queries: dict[str, list[str]]) -> dict[str, list[str]]:
    found = {
        f"search_{kind}": [f"/api/v1/images?q={quote(w)}" for w in queries[kind]]
        for kind in ("common", "rare", "prefix", "typo")
    }
    found["list_first"] = ["/api/v1/images"]
    return found


def measure(
    args: argparse.Namespace,
    wrk: str,
    items: list[str],
    clients: int,
    groups: dict[str, list[psutil.Process]],
    workdir: Path,
    port: int,
) -> dict[str, Any]:
    """One figure; with several servers, the clients split evenly between them
    (one wrk each, at the same time), as a load balancer in front would."""
    urls = args.base_url
    meter = loadgen.CpuMeter(groups)
    if len(urls) == 1:
        return loadgen.run_wrk(
            wrk,
            urls[0],
            items,
            connections=clients,
            duration_s=args.duration,
            workdir=workdir,
            cpu=meter,
            cpu_refresh=lambda: {"postgres": postgres_group(port)},
            fresh=True,
        )

    def one(index: int) -> dict[str, Any]:
        own = workdir / str(index)
        own.mkdir(exist_ok=True)
        return loadgen.run_wrk(
            wrk,
            urls[index],
            items,
            connections=max(clients // len(urls), 1),
            duration_s=args.duration,
            workdir=own,
            fresh=True,
        )

    meter.start()
    with ThreadPoolExecutor(len(urls)) as pool:
        results = list(pool.map(one, range(len(urls))))
    used = meter.seconds({"postgres": postgres_group(port)})
    requests = sum(r["requests"] for r in results)
    wall = max(r["duration_s"] for r in results)
    return {
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "rps": round(requests / wall, 1),
        "errors": {k: v for r in results for k, v in r["errors"].items()},
        "cpu_percent": {k: round(100 * v / wall, 1) for k, v in used.items()},
        "cpu_ms_per_request": {k: 1000 * used[k] / requests for k in ("server", "postgres")},
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", nargs="+", required=True, help="several: load split")
    parser.add_argument("--server-pid", type=int, nargs="+", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--queries-from", type=Path, required=True)
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--clients", default="1,16")
    parser.add_argument("--only", help="scenario names, comma-separated")
    args = parser.parse_args(argv)
    port = urlsplit(args.database_url.replace("+asyncpg", "")).port or 5432
    wrk = loadgen.ensure_wrk()
    paths = scenarios(json.loads(args.queries_from.read_text())["queries"])
    if args.only:
        paths = {k: v for k, v in paths.items() if k in args.only.split(",")}
    servers = [p for pid in args.server_pid for p in psutil.Process(pid).children(True)] + [
        psutil.Process(pid) for pid in args.server_pid
    ]
    with tempfile.TemporaryDirectory() as workdir:
        for name, items in paths.items():
            for clients in (int(c) for c in args.clients.split(",")):
                groups = {"server": servers, "postgres": postgres_group(port)}
                result = measure(args, wrk, items, clients, groups, Path(workdir), port)
                per = result["cpu_ms_per_request"]
                other = result["cpu_percent"].get("other", 0)
                print(
                    f"{name:<14} c={clients:<2} p50 {result['p50_ms']:6.2f} ms  "
                    f"p99 {result['p99_ms']:6.1f}  {result['rps']:7.1f} req/s  "
                    f"server {per.get('server', 0):.2f} + pg {per.get('postgres', 0):.2f} = "
                    f"{per.get('server', 0) + per.get('postgres', 0):.2f} ms/req  "
                    f"(other {other:.0f}%, errors {result['errors'] or 0})",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
