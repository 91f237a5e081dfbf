#!/usr/bin/env python3
"""reactbin benchmark: grow a library of 1k / 10k / 100k images, start the server as a
user would, and measure it over loopback (see bench/README.md).

    python bench/run.py --quick          # 1k and 10k images, 3 s per figure (a few minutes)
    python bench/run.py                  # 1k, 10k and 100k images, 8 s per figure (~20 min)
    python bench/run.py --update-docs    # ... and refresh docs/benchmarks.md
    python bench/run.py --profile        # ... and py-spy + auto_explain at the largest size

Writes bench/results/<date>[-quick].json, .md and -search.png. Everything it
starts (PostgreSQL, SeaweedFS, the server, wrk) is stopped and its temporary
files removed when it ends, fails or is interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import functools
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402

from bench import (  # noqa: E402
    answers,
    corpus,
    loadgen,
    media,
    profiling,
    report,
    seed,
    services,
    uploads,
)

RESULTS = REPO / "bench" / "results"
DOCS = REPO / "docs" / "benchmarks.md"
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CLIENTS = (1, 16)
UPLOAD_CLIENTS = (1, 4)
MAX_WALK_PAGES = 2000
# Routes a given version of reactbin may not have (measured only when they answer).
OPTIONAL_SCENARIOS = ("tenor_search",)


def log(message: str) -> None:
    print(f"bench: {message}", flush=True)


class Interrupted(Exception):
    pass


def _on_signal(signum: int, _frame: object) -> None:
    # Blocked again during cleanup, so a second Ctrl-C cannot cut it short.
    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    raise Interrupted(signal.Signals(signum).name)


# --------------------------------------------------------------------------- machine


def machine_info(wrk: str) -> dict[str, Any]:
    cpu_model = "?"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    os_name = platform.platform()
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))}, Linux {platform.release()}"
    weed = os.environ.get("REACTBIN_WEED") or str(Path(sys.executable).parent / "weed")
    weed_version = "?"
    if Path(weed).exists():
        out = subprocess.run([weed, "version"], capture_output=True, text=True, check=False)
        found = re.search(r"\b\d+\.\d+(\.\d+)?\b", out.stdout)
        weed_version = found.group(0) if found else out.stdout.strip()[:40]
    wrk_out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": os_name,
        "python": platform.python_version(),
        "postgresql": "?",
        "seaweedfs": weed_version,
        "wrk": (wrk_out.stdout or wrk_out.stderr).split(" [")[0].strip() or "wrk",
    }


def machine_load() -> dict[str, Any]:
    """Load average, and what else is using the CPU right now (over one second)."""
    me = os.getpid()
    processes = [p for p in psutil.process_iter(["pid", "name", "cmdline"]) if p.pid != me]
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.cpu_percent(None)
    time.sleep(1.0)
    busy = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            percent = process.cpu_percent(None)
            if percent >= 5:
                command = " ".join(process.info["cmdline"] or [process.info["name"] or "?"])
                busy.append({"cpu_percent": percent, "command": command[:100]})
    busy.sort(key=lambda p: -p["cpu_percent"])
    return {"load_average": [round(x, 2) for x in os.getloadavg()], "busy_processes": busy[:8]}


def git_description() -> str:
    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+uncommitted changes" if git("status", "--porcelain", "--", "api") else "")


async def database_facts(database_url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(seed.asyncpg_dsn(database_url))
    try:
        version = await connection.fetchval("SHOW server_version")
        settings = []
        for name in ("shared_buffers", "work_mem", "fsync", "synchronous_commit"):
            settings.append(f"{name}={await connection.fetchval(f'SHOW {name}')}")
        indexes = await connection.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('images', 'tags', 'image_tags') ORDER BY 1, 2"
        )
        return {
            "version": version,
            "settings": ", ".join(settings),
            "indexes": [dict(r) for r in indexes],
        }
    finally:
        await connection.close()


def _db_pool() -> str:
    """The server's connection pool (pool size + overflow), as app/db.py sets it."""
    try:
        from app.db import SERVER_POOL_SIZE
    except ImportError:  # an older reactbin: 10 + 10
        return "10+10"
    return f"{SERVER_POOL_SIZE}+{SERVER_POOL_SIZE}"


def search_implementation(indexes: list[dict[str, Any]]) -> str:
    text_indexes = [
        i["indexname"]
        for i in indexes
        if any(kind in i["indexdef"].lower() for kind in ("using gin", "using gist", "tsvector"))
        and "phash" not in i["indexdef"].lower()
    ]
    if text_indexes and (REPO / "api" / "app" / "search" / "tiered.py").exists():
        return (
            f"indexed search ({', '.join(text_indexes)}): one word by relevance tiers "
            "(newest first in each), several words by ts_rank"
        )
    if text_indexes:
        return f"indexed search ({', '.join(text_indexes)})"
    return (
        "naive ILIKE '%word%' over title, description, ocr_text and tag names, "
        "no search index (ranked full-text search not yet landed)"
    )


# --------------------------------------------------------------------------- one library


async def sample_rows(database_url: str) -> tuple[list[tuple[str, str]], list[str]]:
    connection = await asyncpg.connect(seed.asyncpg_dsn(database_url))
    try:
        small = await connection.fetch(
            "SELECT id, extension FROM images WHERE size_bytes < 1000000 "
            "ORDER BY random() LIMIT 1000"
        )
        large = await connection.fetch(
            "SELECT id FROM images WHERE size_bytes >= 1000000 ORDER BY id LIMIT 32"
        )
        return [(r["id"], r["extension"]) for r in small], [r["id"] for r in large]
    finally:
        await connection.close()


def walk_pages(base_url: str, size: int) -> tuple[list[str], float]:
    """Follow next_cursor from the first page to the last, 100 per page."""
    cursors: list[str] = []
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        cursor: str | None = None
        for _ in range(min(size // 100 + 2, MAX_WALK_PAGES)):
            params: dict[str, Any] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            response = client.get("/api/v1/images", params=params)
            response.raise_for_status()
            cursor = response.json()["next_cursor"]
            if not cursor:
                break
            cursors.append(cursor)
    return cursors, time.perf_counter() - started


def scenario_paths(
    queries: corpus.Queries, rows: list[tuple[str, str]], large: list[str], cursors: list[str]
) -> dict[str, list[str]]:
    deep = cursors[len(cursors) * 4 // 5 :][-50:] or cursors[-1:]

    def search(words: list[str]) -> list[str]:
        return [f"/api/v1/images?q={quote(word)}" for word in words]

    paths = {
        "search_common": search(queries.common),
        "search_rare": search(queries.rare),
        "search_prefix": search(queries.prefix),
        "search_typo": search(queries.typo),
        "list_first": ["/api/v1/images"],
        "list_deep": [f"/api/v1/images?cursor={quote(c)}" for c in deep],
        "get": [f"/api/v1/images/{image_id}" for image_id, _ in rows],
        "tags_prefix": [f"/api/v1/tags?prefix={quote(p)}&limit=10" for p in queries.tag_prefix],
        # Tenor-compatible API (GIF pickers): skipped by warm_up where it does not exist.
        "tenor_search": [f"/v2/search?q={quote(word)}&limit=20" for word in queries.common],
        "thumbnail": [f"/api/v1/images/{image_id}/thumbnail" for image_id, _ in rows],
        "file_small": [f"/f/{image_id}.{ext}" for image_id, ext in rows],
        "file_large": [f"/f/{image_id}.gif" for image_id in large],
    }
    # Each JSON read twice (report.CACHED): as sent, and afresh (the cache bypassed).
    return {twin: items for key, items in paths.items() for twin in report.twins(key)}


def warm_up(base_url: str, paths: dict[str, list[str]]) -> dict[str, Any]:
    """One pass over (some of) every scenario's paths: checks they answer 200, warms
    caches, and records how many results each search query finds on its first page."""
    hits: dict[str, dict[str, int]] = {}
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for key, items in list(paths.items()):
            if key.endswith(report.FRESH_SUFFIX):  # the same paths as its twin
                continue
            for path in items[:50]:
                response = client.get(path)
                if key in OPTIONAL_SCENARIOS and response.status_code != 200:
                    log(f"  {report.SCENARIOS[key]}: {path} -> {response.status_code}, skipped")
                    del paths[key]
                    paths.pop(key + report.FRESH_SUFFIX, None)
                    break
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path} -> {response.status_code}: {response.text}")
                if key.startswith("search_"):
                    word = path.split("q=", 1)[1]
                    hits.setdefault(key, {})[word] = len(response.json()["items"])
    return hits


def bench_library(
    args: argparse.Namespace,
    wrk: str,
    server: services.Server,
    environment: Any,
    queries: corpus.Queries,
    database_url: str,
    workdir: Path,
    size: int,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    rows, large = asyncio.run(sample_rows(database_url))
    cursors, walk_s = walk_pages(server.base_url, size)
    log(f"  walked {len(cursors) + 1} pages in {walk_s:.1f} s")
    paths = scenario_paths(queries, rows, large, cursors)
    hits = warm_up(server.base_url, paths)
    checked = None
    if args.answers is not None:
        found = answers.collect(server.base_url, queries.as_dict())
        checked = answers.check(args.answers, size, found)
        differ = checked.get("differ")
        log(
            f"  answers of {checked['paths']} queries: "
            + (f"{len(differ)} differ from {args.answers}" if differ is not None else "recorded")
        )
        for line in differ or []:
            log(f"    {line}")
    server_process = psutil.Process(server.pid)
    scenarios: dict[str, dict[str, Any]] = {}
    for key, items in paths.items():
        scenarios[key] = {}
        for clients in args.clients:
            groups = {
                "server": [server_process],
                "postgres": services.postgres_processes(environment),
                "seaweedfs": services.seaweedfs_processes(environment),
            }
            other_before = loadgen.wait_until_quiet(groups, args.quiet_budget)
            meter = loadgen.CpuMeter(groups)
            result = loadgen.run_wrk(
                wrk,
                server.base_url,
                items,
                connections=clients,
                duration_s=args.duration,
                workdir=workdir,
                cpu=meter,
                cpu_refresh=lambda: {"postgres": services.postgres_processes(environment)},
                fresh=key.endswith(report.FRESH_SUFFIX),
            )
            result["other_cpu_before_percent"] = other_before
            scenarios[key][str(clients)] = result
            errors = f"  errors {result['errors']}" if result["errors"] else ""
            other = result["cpu_percent"].get("other", 0)
            busy = f"  (other processes used {other:.0f}% CPU)" if other > 15 else ""
            log(
                f"  {report.SCENARIOS[key]:<38} c={clients:<2} p50 {result['p50_ms']:>8.2f}  "
                f"p99 {result['p99_ms']:>8.2f} ms  {result['rps']:>8.1f} req/s"
                + (f"  {result['mb_per_s']:.1f} MB/s" if key in report.FILES else "")
                + errors
                + busy
            )
    return {
        "startup_s": round(server.startup_s, 3),
        "walk": {"pages": len(cursors) + 1, "seconds": round(walk_s, 2)},
        "search_first_page_hits": hits,
        "answers": checked,
        "scenarios": scenarios,
    }, paths


# --------------------------------------------------------------------------- uploads


def prepare_uploads(counts: dict[str, int]) -> dict[str, list[bytes]]:
    files: dict[str, list[bytes]] = {}
    serial = 0
    for index, (label, frames) in enumerate(media.UPLOAD_SIZES.items()):
        maker = media.UploadGifs(frames, seed=100 + index)
        files[label] = []
        for _ in range(counts[label] * len(UPLOAD_CLIENTS)):
            serial += 1
            files[label].append(maker.make(serial))
    return files


def bench_uploads(
    server: services.Server, token: str, files: dict[str, list[bytes]]
) -> dict[str, Any]:
    with uploads.LoopProbe(server.port) as idle:
        time.sleep(1.0)
    series: dict[str, dict[str, Any]] = {}
    with uploads.LoopProbe(server.port) as probe:
        for label, items in files.items():
            series[label] = {}
            per_run = len(items) // len(UPLOAD_CLIENTS)
            for index, clients in enumerate(UPLOAD_CLIENTS):
                batch = items[index * per_run : (index + 1) * per_run]
                result = uploads.upload_series(server.base_url, token, batch, clients, label)
                series[label][str(clients)] = result
                log(
                    f"  upload {label:<6} c={clients} p50 {result['p50_ms']:>7.1f}  p99 "
                    f"{result['p99_ms']:>7.1f} ms  {result['uploads_per_s']:>6.2f}/s  "
                    f"{result['mb_per_s']:>6.2f} MB/s  non-201 {result['non_201'] or 0}"
                )
    return {"series": series, "loop_probe_idle": idle.result(), "loop_probe": probe.result()}


def bench_refusals(server: services.Server, token: str) -> list[dict[str, Any]]:
    results = []
    for with_length in (True, False):
        result = uploads.refuse_huge(server.port, token, server.pid, with_length=with_length)
        results.append(result)
        log(
            f"  1 GB upload {'with' if with_length else 'without'} Content-Length: "
            f"{result['status']} after {result['body_mb_sent']} MB sent, "
            f"{result['seconds_to_answer'] * 1000:.0f} ms; RSS +{result['rss_growth_mb']} MB"
        )
    return results


# --------------------------------------------------------------------------- profile


def run_profile(
    args: argparse.Namespace,
    wrk: str,
    environment: Any,
    server_env: dict[str, str],
    paths: dict[str, list[str]],
    token_password: str,
    workdir: Path,
    stem: str,
    upload_files: list[bytes],
) -> dict[str, str]:
    out: dict[str, str] = {}
    pg = services.postgres_of(environment)
    admin_url = environment.env["REACTBIN_TEST_PG_ADMIN_URL"]
    database = environment.env["DATABASE_URL"].rsplit("/", 1)[1]
    asyncio.run(profiling.enable_auto_explain(admin_url, database))
    try:
        with services.Server(server_env, workdir) as server:
            offset = profiling.log_size(pg.log_path)
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                for key in (
                    "search_common",
                    "search_rare",
                    "search_prefix",
                    "search_typo",
                    "list_first",
                    "list_deep",
                    "get",
                    "tags_prefix",
                ):
                    client.get(paths[key][0])
            time.sleep(0.5)
            plans = profiling.log_since(pg.log_path, offset)
            plans_path = RESULTS / f"{stem}-plans.txt"
            plans_path.write_text(plans)
            out["plans"] = str(plans_path.relative_to(REPO))
    finally:
        asyncio.run(profiling.disable_auto_explain(admin_url, database))
    with services.Server(server_env, workdir) as server:
        for key, clients in (("search_common", 16), ("search_typo", 16), ("get", 16)):
            raw = workdir / f"profile-{key}.txt"
            profiling.record(
                server.pid,
                args.duration,
                raw,
                functools.partial(
                    loadgen.run_wrk,
                    wrk,
                    server.base_url,
                    paths[key],
                    connections=clients,
                    duration_s=args.duration,
                    workdir=workdir,
                    fresh=True,  # the database path: a cached answer hardly runs our code
                ),
            )
            summary_path = RESULTS / f"{stem}-profile-{key}.txt"
            summary_path.write_text(
                f"py-spy, {key} at {clients} clients, afresh (no cache)\n\n"
                + profiling.summarize(raw)
            )
            out[f"profile_{key}"] = str(summary_path.relative_to(REPO))
        if upload_files:
            token = uploads.get_token(server.base_url, "owner", token_password)
            raw = workdir / "profile-upload.txt"
            profiling.record(
                server.pid,
                max(args.duration, 5),
                raw,
                lambda: uploads.upload_series(server.base_url, token, upload_files, 1, "profile"),
            )
            summary_path = RESULTS / f"{stem}-profile-upload-1MB.txt"
            summary_path.write_text(
                "py-spy, 1 MB GIF uploads, 1 client\n\n" + profiling.summarize(raw)
            )
            out["profile_upload"] = str(summary_path.relative_to(REPO))
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k images, 3 s figures")
    parser.add_argument("--sizes", help="library sizes, comma-separated (e.g. 1000,10000)")
    parser.add_argument("--duration", type=int, help="seconds per figure (default 3 / 8)")
    parser.add_argument("--update-docs", action="store_true", help="refresh docs/benchmarks.md")
    parser.add_argument("--profile", action="store_true", help="py-spy and auto_explain too")
    parser.add_argument("--name", help="results file name (default <date>[-quick])")
    parser.add_argument("--keep", action="store_true", help="keep the services' temp dirs")
    parser.add_argument(
        "--answers",
        type=Path,
        help="check every query's answer against FILE (bench/answers.py); records it if new",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        help="measure nothing: rewrite the report (and docs) from an earlier results file",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        help="on a shared machine: before each figure, wait until other processes use "
        "under 25%% of a core, for at most this many seconds in all (default 120 quick, "
        "600 full; 0: never wait)",
    )
    args = parser.parse_args(argv)
    default_sizes = "1000,10000" if args.quick else "1000,10000,100000"
    args.custom_sizes = bool(args.sizes)
    args.sizes = sorted({int(s) for s in (args.sizes or default_sizes).split(",")})
    if any(s < 100 for s in args.sizes):
        parser.error("library sizes must be at least 100")
    args.duration = args.duration or (3 if args.quick else 8)
    args.clients = CLIENTS
    wait = args.wait_quiet if args.wait_quiet is not None else (120 if args.quick else 600)
    args.quiet_budget = [wait]  # shared and decremented by every wait
    args.upload_counts = (
        {"200KB": 8, "1MB": 8, "2MB": 5} if args.quick else {"200KB": 30, "1MB": 30, "2MB": 20}
    )
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        written = report.write_results(results, args.from_json.parent, args.from_json.stem)
        if args.update_docs:
            report.update_docs(DOCS, results, written)
        for kind, path in written.items():
            log(f"wrote {kind}: {path}")
        return 0
    for sig in HANDLED_SIGNALS:
        signal.signal(sig, _on_signal)
    started_at = datetime.datetime.now().astimezone()
    started = time.perf_counter()
    stem = args.name or started_at.strftime("%Y-%m-%d") + ("-quick" if args.quick else "")
    workdir = Path(tempfile.mkdtemp(prefix="reactbin-bench-"))
    try:
        return _run(args, started_at, started, stem, workdir)
    except Interrupted as exc:
        log(f"interrupted ({exc}); stopping everything")
        return 130
    except (
        services.ServiceError,
        seed.SeedError,
        loadgen.LoadError,
        RuntimeError,
        httpx.HTTPError,
    ) as exc:
        log(f"error: {exc}")
        return 1
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        shutil.rmtree(workdir, ignore_errors=True)
        log("cleaned up")


def _run(
    args: argparse.Namespace,
    started_at: datetime.datetime,
    started: float,
    stem: str,
    workdir: Path,
) -> int:
    wrk = loadgen.ensure_wrk()
    machine = machine_info(wrk)
    log(
        f"{machine['cpu_model']}, {machine['cores']} cores, {machine['ram_gb']} GB; "
        f"sizes {args.sizes}, {args.duration} s per figure"
    )
    load = machine_load()
    if load["busy_processes"]:
        log(
            f"warning: the machine is not idle (load average {load['load_average']}); "
            "other processes will skew the figures (see cpu_percent.other in the results):"
        )
        for process in load["busy_processes"]:
            log(f"  {process['cpu_percent']:5.0f}% {process['command']}")
    prep = time.perf_counter()
    words = corpus.Corpus()
    library = seed.Library(words, media.make_pool(), media.make_large())
    upload_files = prepare_uploads(args.upload_counts)
    log(
        f"made the image pool and {sum(map(len, upload_files.values()))} upload GIFs "
        f"in {time.perf_counter() - prep:.1f} s"
    )
    owner_password = secrets.token_urlsafe(24)
    results: dict[str, Any] = {
        "version": 1,
        "mode": "quick" if args.quick else ("custom" if args.custom_sizes else "full"),
        "started_at": started_at.isoformat(timespec="seconds"),
        "git": git_description(),
        "machine": machine,
        "machine_load_at_start": load,
        "libraries": {},
    }
    with services.backing_services(keep=args.keep) as environment:
        server_env = services.server_environment(environment.env, workdir / "data", owner_password)
        database_url = server_env["DATABASE_URL"]
        migrate_s = services.migrate(server_env, workdir)
        facts = asyncio.run(database_facts(database_url))
        machine["postgresql"] = facts["version"]
        results["search_implementation"] = search_implementation(facts["indexes"])
        results["indexes"] = facts["indexes"]
        results["settings"] = {
            "duration_s": args.duration,
            "clients": list(args.clients),
            "sizes": args.sizes,
            "postgresql_settings": facts["settings"],
            "migrate_s": round(migrate_s, 2),
            "db_pool": _db_pool(),
            "upload_counts_per_client_setting": args.upload_counts,
            "server_env": {
                k: v
                for k, v in server_env.items()
                if k in ("LOG_FORMAT", "S3_REGION", "OWNER_USERNAME")
            },
        }
        log(f"PostgreSQL {facts['version']}; search: {results['search_implementation']}")
        s3 = seed.S3Writer(
            server_env["S3_ENDPOINT_URL"],
            server_env["S3_BUCKET_NAME"],
            server_env["S3_ACCESS_KEY_ID"],
            server_env["S3_SECRET_ACCESS_KEY"],
            server_env["S3_REGION"],
        )
        queries: corpus.Queries | None = None
        paths: dict[str, list[str]] = {}
        for size in args.sizes:
            log(f"library of {size:,} images: seeding {size - library.size:,} more")
            stats = asyncio.run(_grow(library, size, database_url, s3))
            log(f"  seeded in {stats['total_s']:.0f} s ({stats['objects_per_s']} objects/s)")
            if queries is None:
                queries = corpus.pick_queries(words, library.smallest)
                results["queries"] = queries.as_dict()
            with services.Server(server_env, workdir) as server:
                log(f"  reactbin serve ready in {server.startup_s:.2f} s on {server.base_url}")
                library_result, paths = bench_library(
                    args, wrk, server, environment, queries, database_url, workdir, size
                )
                library_result["seed"] = stats
                results["libraries"][str(size)] = library_result
                if size == args.sizes[-1]:
                    token = uploads.get_token(server.base_url, "owner", owner_password)
                    results["refusals"] = bench_refusals(server, token)
                    results["uploads"] = bench_uploads(server, token, upload_files)
        if args.profile and paths:
            log("profiling (auto_explain plans, py-spy)")
            extra = media.UploadGifs(media.UPLOAD_SIZES["1MB"], seed=999)
            profile_uploads = [extra.make(10_000 + i) for i in range(10)]
            results["profile"] = run_profile(
                args,
                wrk,
                environment,
                server_env,
                paths,
                owner_password,
                workdir,
                stem,
                profile_uploads,
            )
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    results["settings"]["waited_for_quiet_s"] = round(
        (args.wait_quiet if args.wait_quiet is not None else (120 if args.quick else 600))
        - max(args.quiet_budget[0], 0),
        1,
    )
    written = report.write_results(results, RESULTS, stem)
    for kind, path in written.items():
        log(f"wrote {kind}: {path.relative_to(REPO)}")
    if args.update_docs:
        report.update_docs(DOCS, results, written)
        log(f"updated {DOCS.relative_to(REPO)}")
    for row in results.get("targets", []):
        log(f"target: {row['measure']}: {row['measured']} ({row['target']}): {row['verdict']}")
    return 0


async def _grow(
    library: seed.Library, size: int, database_url: str, s3: seed.S3Writer
) -> dict[str, Any]:
    last = [0.0]

    def progress(done: int, target: int) -> None:
        if time.perf_counter() - last[0] > 15:
            last[0] = time.perf_counter()
            log(f"  ... {done:,} / {target:,}")

    async with s3:
        stats = await seed.grow(library, size, database_url, s3, progress)
    return stats.as_dict()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
