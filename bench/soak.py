#!/usr/bin/env python3
"""The soak: mixed load at a steady rate through nginx in front of two `reactbin serve`
and two `reactbin worker` processes (scripts/cluster.py), for a long time.

    python bench/soak.py --minutes 30            # `make soak`
    python bench/soak.py --minutes 2 --rate 10   # a short try
    python bench/soak.py --throughput            # also wrk: 1 vs 2 API processes

Everything is on 127.0.0.1 and stopped at the end (also on failure or Ctrl-C).
Passes when: no request failed; each process's RSS grew by at most --rss-bound-mb from
the end of the warm-up to the end; p99 latency of the last window is within 1.5x of
the first window's; as many PostgreSQL connections and no more spool files at the end
as after the warm-up. Writes bench/results/soak-<date>.json and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import cluster as rig  # noqa: E402
import httpx  # noqa: E402
import mixedload  # noqa: E402
import psutil  # noqa: E402

from bench import loadgen  # noqa: E402
from bench.uploads import percentile  # noqa: E402

RESULTS = REPO / "bench" / "results"
SAMPLE_EVERY_S = 10.0
P99_RATIO_LIMIT = 1.5
# What the configuration allows (docs/deploy.md): per API process a pool of 20 with as
# many again of overflow, the cache listener and 4 for the queue; per worker a pool of
# 2 (+2), 4 for the queue and its listener. More at the end, idle, would be a leak.
PG_CONNECTION_BOUND = 2 * (40 + 1 + 4) + 2 * (4 + 4 + 1)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=25.0, help="reads per second")
    parser.add_argument("--upload-every", type=float, default=3.0, help="seconds")
    parser.add_argument("--edit-every", type=float, default=3.0, help="seconds")
    parser.add_argument("--window-minutes", type=float, default=5.0)
    parser.add_argument("--rss-bound-mb", type=float, default=40.0)
    parser.add_argument("--seed-images", type=int, default=40)
    parser.add_argument("--throughput", action="store_true", help="wrk: 1 vs 2 API processes")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    return parser.parse_args(argv)


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY_S: RSS and open files of each process, PostgreSQL backends of
    reactbin, spool files, the machine's load average."""

    def __init__(self, cluster: rig.Cluster, spool: Path, postmaster: int, started: float) -> None:
        super().__init__(daemon=True)
        self.cluster, self.spool, self.started = cluster, spool, started
        self.postmaster = psutil.Process(postmaster)
        self.samples: list[dict[str, Any]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.samples.append(self.sample())
            self.stop_event.wait(SAMPLE_EVERY_S)

    def sample(self) -> dict[str, Any]:
        rss, fds = {}, {}
        for name, pid in self.cluster.pids().items():
            try:
                process = psutil.Process(pid)
                rss[name] = round(process.memory_info().rss / 2**20, 1)
                fds[name] = process.num_fds()
            except psutil.Error:
                continue
        backends = 0
        for child in self.postmaster.children():
            try:
                backends += "reactbin" in " ".join(child.cmdline())
            except psutil.Error:
                continue
        body_temp = self.cluster.proxy.dir / "client_body"
        return {
            "t": round(time.monotonic() - self.started, 1),
            "rss_mb": rss,
            "fds": fds,
            "pg_connections": backends,
            "spool_files": sum(1 for _ in self.spool.iterdir()) if self.spool.exists() else 0,
            "proxy_body_files": sum(1 for _ in body_temp.rglob("*") if _.is_file()),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }


async def seed_library(url: str, token: str, count: int) -> list[mixedload.Uploaded]:
    seeder = mixedload.MixedLoad(url, token, rate=0.001, upload_every=0, edit_every=0)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for index in range(count):
            await seeder._upload(client, 10_000_000 + index)
    if len(seeder.uploaded) != count:
        raise SystemExit(f"soak: seeding failed: {seeder.failures()[:3]}")
    return seeder.uploaded


async def token_for(cluster: rig.Cluster) -> str:
    async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as client:
        return await mixedload.login(client, *cluster.owner)


def window(outcomes: list[mixedload.Outcome], start: float, end: float) -> dict[str, Any]:
    chosen = [o.seconds * 1000 for o in outcomes if start <= o.at < end and o.kind != "upload"]
    uploads = [o.seconds * 1000 for o in outcomes if start <= o.at < end and o.kind == "upload"]
    return {
        "from_s": round(start),
        "to_s": round(end),
        "requests": len(chosen),
        "p50_ms": round(percentile(chosen, 50), 1),
        "p99_ms": round(percentile(chosen, 99), 1),
        "upload_p99_ms": round(percentile(uploads, 99), 1),
    }


def verdict(
    args: argparse.Namespace,
    load: mixedload.MixedLoad,
    samples: list[dict[str, Any]],
    damaged: list[str],
) -> dict[str, Any]:
    seconds = args.minutes * 60
    span = min(args.window_minutes * 60, seconds / 3)
    first, last = window(load.outcomes, 0, span), window(load.outcomes, seconds - span, seconds)
    warm = next((s for s in samples if s["t"] >= span), samples[0])
    end = samples[-1]
    growth = {n: round(end["rss_mb"].get(n, 0) - mb, 1) for n, mb in warm["rss_mb"].items()}
    failures = load.failures()
    checks = {
        "no_failed_request": not failures,
        "no_skipped_tick": load.skipped == 0,
        "every_upload_intact": not damaged,
        "rss_growth_within_bound": all(g <= args.rss_bound_mb for g in growth.values()),
        "p99_last_within_1.5x_first": last["p99_ms"] <= P99_RATIO_LIMIT * first["p99_ms"],
        "no_leaked_pg_connections": end["pg_connections"] <= PG_CONNECTION_BOUND,
        "no_leftover_spool_files": end["spool_files"] == 0 and end["proxy_body_files"] == 0,
    }
    kinds: dict[str, int] = {}
    for outcome in load.outcomes:
        kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
    return {
        "passed": all(checks.values()),
        "checks": checks,
        "requests": len(load.outcomes),
        "requests_by_kind": kinds,
        "rate_per_s": round(len(load.outcomes) / seconds, 1),
        "failures": [vars(f) for f in failures[:20]],
        "failure_count": len(failures),
        "skipped": load.skipped,
        "uploads_201": len(load.uploaded),
        "damaged_uploads": damaged,
        "first_window": first,
        "last_window": last,
        "rss_mb_after_warmup": warm["rss_mb"],
        "rss_mb_end": end["rss_mb"],
        "rss_growth_mb": growth,
        "rss_bound_mb": args.rss_bound_mb,
        "pg_connections_after_warmup": warm["pg_connections"],
        "pg_connections_end": end["pg_connections"],
        "load_average_max": max(s["load_average"][0] for s in samples),
        "load_average_mean": round(sum(s["load_average"][0] for s in samples) / len(samples), 2),
    }


def run_soak(args: argparse.Namespace, services: dict[str, str], workdir: Path) -> dict[str, Any]:
    spool = workdir / "spool"
    spool.mkdir()
    extra = {"UPLOAD_TMP_DIR": str(spool)}
    with rig.Cluster(services, extra_env=extra, keep=args.keep) as cluster:
        token = asyncio.run(token_for(cluster))
        seeded = asyncio.run(seed_library(cluster.url, token, args.seed_images))
        load = mixedload.MixedLoad(
            cluster.url,
            token,
            rate=args.rate,
            upload_every=args.upload_every,
            edit_every=args.edit_every,
        )
        load.uploaded.extend(seeded)
        postmaster = _postmaster_pid(services)
        sampler = Sampler(cluster, spool, postmaster, time.monotonic())
        sampler.start()
        print(
            f"soak: {args.minutes:g} min at {args.rate:g} reads/s through {cluster.url}", flush=True
        )
        asyncio.run(load.run(args.minutes * 60))
        drain(spool, cluster)
        sampler.stop_event.set()
        sampler.join()
        sampler.samples.append(sampler.sample())
        damaged = asyncio.run(mixedload.damaged_uploads(cluster.url, load.uploaded))
        result = verdict(args, load, sampler.samples, damaged)
        result["samples"] = sampler.samples
        return result


def drain(spool: Path, cluster: rig.Cluster, budget_s: float = 120.0) -> None:
    """Wait for the work in hand (uploads ending, the workers' jobs) to leave the spool."""
    deadline = time.monotonic() + budget_s
    body_temp = cluster.proxy.dir / "client_body"
    while time.monotonic() < deadline:
        left = [*spool.iterdir(), *(p for p in body_temp.rglob("*") if p.is_file())]
        if not left:
            return
        time.sleep(1)


def _postmaster_pid(services: dict[str, str]) -> int:
    return int((Path(services["REACTBIN_TEST_PGDATA"]) / "postmaster.pid").read_text().split()[0])


def run_throughput(services: dict[str, str], seconds: int = 15) -> list[dict[str, Any]]:
    """wrk through the proxy at 1 and 2 API processes (no workers): searches, cached and afresh."""
    wrk = loadgen.ensure_wrk()
    figures = []
    paths = [f"/api/v1/images?q={word}" for word in mixedload.WORDS]
    paths += ["/api/v1/images?limit=20", *(f"/api/v1/images?tag={w}" for w in mixedload.WORDS)]
    for count in (1, 2):
        with (
            rig.Cluster(services, api_processes=count, workers=0) as cluster,
            tempfile.TemporaryDirectory() as tmp,
        ):
            for fresh in (False, True):
                figure = loadgen.run_wrk(
                    wrk,
                    cluster.url,
                    paths,
                    connections=16,
                    duration_s=seconds,
                    workdir=Path(tmp),
                    fresh=fresh,
                )
                figure |= {
                    "api_processes": count,
                    "afresh": fresh,
                    "load_average": os.getloadavg()[0],
                }
                mode = "afresh" if fresh else "cached"
                print(f"soak: {count} API, {mode}: {figure['rps']} req/s", flush=True)
                figures.append(figure)
    return figures


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    started = datetime.datetime.now(datetime.UTC)
    result: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "args": {k: str(v) for k, v in vars(args).items()},
        "cores": os.cpu_count(),
    }
    with (
        rig.backing_services() as services,
        tempfile.TemporaryDirectory(prefix="reactbin-soak-") as tmp,
    ):
        # One library for both parts: the throughput figures read what the soak's seeding uploaded.
        result["soak"] = run_soak(args, services, Path(tmp))
        if args.throughput:
            result["throughput"] = run_throughput(services)
    out = args.out or RESULTS / f"soak-{started:%Y-%m-%d}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: v for k, v in result["soak"].items() if k != "samples"}
    print(json.dumps(summary, indent=1))
    print(f"soak: {'PASSED' if summary['passed'] else 'FAILED'}; results in {out}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
