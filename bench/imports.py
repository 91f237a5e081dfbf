"""How fast does `reactbin import` fill a local server? (issue 6: >= 30 images/s)

    .venv/bin/python bench/imports.py [--count 1000] [--jobs 4] [--name NAME] [--keep]

Starts a throwaway PostgreSQL and SeaweedFS (bench/services.py, the same as
`make test`), runs `reactbin migrate` and `reactbin serve` on a free loopback port
as a user would, writes COUNT distinct animated GIFs of about 200 KB (480x270,
3 noisy frames: bench/media.py's upload GIFs) into a folder tree, then times the
real `reactbin import` process on it, and a second run of the same command (the
resumed run: nothing to send). Prints images/s and writes
bench/results/<date>-import.md. Not a test: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402

from bench import media, services  # noqa: E402

RESULTS = REPO / "bench" / "results"
FOLDERS = ("reactions", "reactions/happy", "reactions/sad", "memes", "memes/cats")


def write_library(folder: Path, count: int) -> int:
    """COUNT distinct ~200 KB GIFs spread over a few tagged sub-folders; total bytes."""
    gifs = media.UploadGifs(media.UPLOAD_SIZES["200KB"], seed=6)
    total = 0
    for serial in range(count):
        sub = folder / FOLDERS[serial % len(FOLDERS)]
        sub.mkdir(parents=True, exist_ok=True)
        data = gifs.make(serial)
        (sub / f"reaction_{serial:05d}.gif").write_bytes(data)
        total += len(data)
    return total


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_import(
    folder: Path, server: services.Server, password: str, jobs: int, journal: Path
) -> tuple[float, str]:
    argv = [
        services.reactbin_executable(),
        "import",
        str(folder),
        "--server",
        server.base_url,
        "--username",
        "owner",
        "--jobs",
        str(jobs),
        "--journal",
        str(journal),
    ]
    env = {**server.env, "REACTBIN_PASSWORD": password, "COLUMNS": "100"}
    started = time.perf_counter()
    result = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise services.ServiceError(f"reactbin import failed:\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout


def count_row(output: str, row: str) -> int:
    match = re.search(re.escape(row) + r"[^│|\n]*[│|]\s*(\d+)", output)
    return int(match.group(1)) if match else -1


def report(args: argparse.Namespace, facts: dict[str, object]) -> str:
    lines = [
        f"# reactbin import: {args.count} GIFs of ~200 KB ({facts['date']})",
        "",
        "`bench/imports.py`: a throwaway PostgreSQL + SeaweedFS, `reactbin serve` (one",
        "process, no worker), then the real `reactbin import FOLDER --jobs "
        f"{args.jobs}` over HTTP on 127.0.0.1.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| machine | {facts['machine']} |",
        f"| load average at start (1 min) | {facts['load']} |",
        f"| files | {args.count} ({facts['megabytes']} MB, 480x270, 3 frames) |",
        f"| uploaded | {facts['uploaded']} |",
        f"| first run | {facts['first_s']} s: **{facts['rate']} images/s** |",
        f"| server CPU per upload (first run) | {facts['server_cpu_ms']} ms |",
        f"| `reactbin import` CPU per file (first run) | {facts['client_cpu_ms']} ms |",
        f"| second run (resumed: nothing sent) | {facts['second_s']} s, "
        f"{facts['skipped']} skipped |",
        "",
        "The whole `reactbin import` process is timed: its start-up (about a second:",
        "it skips the server's imports) and the listing of what the server has included.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--name", default=None, help="results file name (default: <date>-import)")
    parser.add_argument("--keep", action="store_true", help="keep the services' temp dirs")
    args = parser.parse_args()

    today = datetime.date.today().isoformat()
    load = os.getloadavg()[0]
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="reactbin-bench-import-") as tmp:
        workdir = Path(tmp)
        library = workdir / "library"
        print(f"writing {args.count} GIFs ...", flush=True)
        total_bytes = write_library(library, args.count)
        with services.backing_services(keep=args.keep) as environment:
            env = services.server_environment(environment.env, workdir / "data", password)
            services.migrate(env, workdir)
            with services.Server(env, workdir) as server:
                journal = workdir / "journal.jsonl"
                print(f"reactbin import {args.count} files, --jobs {args.jobs} ...", flush=True)
                server_process = psutil.Process(server.pid)
                server_cpu, client_cpu = cpu_seconds(server_process), children_cpu_seconds()
                first_s, first_out = run_import(library, server, password, args.jobs, journal)
                server_cpu = cpu_seconds(server_process) - server_cpu
                client_cpu = children_cpu_seconds() - client_cpu
                second_s, second_out = run_import(library, server, password, args.jobs, journal)
    uploaded = count_row(first_out, "uploaded")
    facts: dict[str, object] = {
        "date": today,
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
        f"{round(psutil.virtual_memory().total / 2**30)} GB, Python {platform.python_version()}",
        "load": f"{load:.2f}",
        "megabytes": round(total_bytes / 1e6, 1),
        "uploaded": uploaded,
        "first_s": round(first_s, 1),
        "rate": round(uploaded / first_s, 1) if first_s else 0,
        "second_s": round(second_s, 1),
        # CPU per file sent: the two cores are shared, so these set the rate.
        "server_cpu_ms": round(1000 * server_cpu / max(uploaded, 1), 1),
        "client_cpu_ms": round(1000 * client_cpu / max(uploaded, 1), 1),
        "skipped": count_row(second_out, "skipped"),
    }
    text = report(args, facts)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{args.name or today + '-import'}.md"
    path.write_text(text)
    print(first_out)
    print(text)
    print(f"{facts['rate']} images/s -> {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
