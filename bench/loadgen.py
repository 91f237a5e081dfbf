"""The load generator: `wrk` (Debian's package, installed with apt-get when missing).

Why wrk and not a Python driver: on a 2-core machine the load generator competes
with the server and PostgreSQL for the CPU. wrk is an epoll loop in C that
keeps 16 connections busy at a few percent of one core, where an async httpx
driver needs a good part of a core for the same request rate and would lower
the figures it is measuring. wrk's percentiles come from its own latency
histogram (microsecond resolution); `wrk_report.lua` prints them as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

LUA_SCRIPT = Path(__file__).with_name("wrk_report.lua")
REQUEST_TIMEOUT_S = 10


class LoadError(Exception):
    pass


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise LoadError("the benchmark needs wrk: `sudo apt-get install wrk`")
    print("bench: installing wrk (apt-get install wrk)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"]
    for step in ([install], [["apt-get", "update", "-q"], install]):
        ok = True
        for argv in step:
            result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            ok = ok and result.returncode == 0
        if ok and shutil.which("wrk"):
            return str(shutil.which("wrk"))
    raise LoadError("could not install wrk with apt-get; install it and run again")


def _busy_seconds() -> float:
    # Not steal, guest or guest_nice (guest time is already counted in user).
    times = psutil.cpu_times()
    busy = times.user + times.system + getattr(times, "nice", 0.0)
    return float(busy + getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0))


class CpuMeter:
    """CPU seconds used by groups of processes between start() and stop(), as a
    percentage of one core over the wall-clock time; `other` is what the rest of
    the machine used meanwhile (anything above a few % makes the figure suspect)."""

    def __init__(self, groups: dict[str, list[psutil.Process]]) -> None:
        self.groups = {**groups, "bench": [psutil.Process()]}
        self._before: dict[str, dict[int, float]] = {}
        self._children_before = 0.0
        self._busy_before = 0.0
        self._started = 0.0

    @staticmethod
    def _cpu(processes: list[psutil.Process]) -> dict[int, float]:
        seen = {}
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                seen[process.pid] = times.user + times.system
        return seen

    @staticmethod
    def _children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def start(self) -> None:
        self._before = {name: self._cpu(group) for name, group in self.groups.items()}
        self._children_before = self._children_cpu()
        self._busy_before = _busy_seconds()
        self._started = time.perf_counter()

    def stop(self, refresh: dict[str, list[psutil.Process]] | None = None) -> dict[str, float]:
        """CPU used per group, in percent of one core."""
        wall = time.perf_counter() - self._started
        return {name: round(100 * s / wall, 1) for name, s in self.seconds(refresh).items()}

    def seconds(self, refresh: dict[str, list[psutil.Process]] | None = None) -> dict[str, float]:
        """CPU seconds used per group since start()."""
        groups = {**self.groups, **(refresh or {})}
        used = {}
        for name, group in groups.items():
            before = self._before.get(name, {})
            after = self._cpu(group)
            used[name] = sum(max(t - before.get(pid, 0.0), 0.0) for pid, t in after.items())
        used["load_generator"] = self._children_cpu() - self._children_before
        machine = _busy_seconds() - self._busy_before
        used["other"] = max(machine - sum(used.values()), 0.0)
        used["machine"] = machine
        return used


def wait_until_quiet(groups: dict[str, list[psutil.Process]], budget: list[float]) -> float:
    """Wait (within what is left of `budget[0]` seconds, shared by the whole run)
    until processes other than ours use under a quarter of a core; return the
    last reading (percent of one core)."""
    while True:
        meter = CpuMeter(groups)
        meter.start()
        time.sleep(0.5)
        other = meter.stop()["other"]
        if other < 25 or budget[0] <= 0:
            return other
        budget[0] -= 2.5
        time.sleep(2.0)


def run_wrk(
    wrk: str,
    base_url: str,
    paths: Sequence[str],
    *,
    connections: int,
    duration_s: int,
    workdir: Path,
    cpu: CpuMeter | None = None,
    cpu_refresh: Any = None,
    fresh: bool = False,
) -> dict[str, Any]:
    """GET `paths` in turn over `connections` keep-alive connections for `duration_s`;
    `fresh`: with `Cache-Control: no-cache`, so the server's response cache is bypassed."""
    paths_file = workdir / "wrk-paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    argv = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--timeout",
        f"{REQUEST_TIMEOUT_S}s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(paths_file),
        *(["no-cache"] if fresh else []),
    ]
    if cpu is not None:
        cpu.start()
    wall_started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # stopped by us, also on Ctrl-C
    )
    try:
        stdout, stderr = process.communicate(timeout=duration_s + REQUEST_TIMEOUT_S + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    wall = time.perf_counter() - wall_started
    used = cpu.seconds(cpu_refresh() if cpu_refresh else None) if cpu is not None else {}
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise LoadError(f"wrk failed ({process.returncode}): {stderr.strip() or stdout.strip()}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    return {
        "connections": connections,
        "duration_s": round(seconds, 2),
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1),
        "mb_per_s": round(raw["bytes"] / seconds / 1e6, 2),
        "mean_ms": round(latency["mean"] / 1000, 2),
        "p50_ms": round(latency["p50"] / 1000, 2),
        "p90_ms": round(latency["p90"] / 1000, 2),
        "p95_ms": round(latency["p95"] / 1000, 2),
        "p99_ms": round(latency["p99"] / 1000, 2),
        "max_ms": round(latency["max"] / 1000, 2),
        "errors": {k: v for k, v in raw["errors"].items() if v},
        "cpu_percent": {name: round(100 * sec / wall, 1) for name, sec in used.items()},
        # CPU work per request: unlike latency, hardly changed by other load on the machine.
        "cpu_ms_per_request": {
            name: round(1000 * used[name] / raw["requests"], 3)
            for name in ("server", "postgres", "seaweedfs")
            if name in used and raw["requests"]
        },
    }
