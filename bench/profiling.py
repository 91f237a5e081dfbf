"""`--profile`: where the time goes. py-spy samples the running server (no code
change, no restart) and PostgreSQL's auto_explain logs the plan and timing of
every statement the server sends while one request of each kind is made."""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def record(pid: int, seconds: int, out: Path, during: Callable[[], Any]) -> Any:
    """Sample `pid` with py-spy (collapsed stacks in `out`) while `during()` runs."""
    tool = py_spy()
    if tool is None:
        raise RuntimeError("py-spy is not installed: pip install -e 'api[bench]'")
    argv = [tool, "record", "--pid", str(pid), "--rate", "200", "--duration", str(seconds)]
    # --gil: only the thread holding the GIL, i.e. where the server's CPU goes.
    argv += ["--gil", "--full-filenames", "--format", "raw", "--output", str(out)]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        time.sleep(0.5)  # attached before the load starts
        result = during()
        process.wait(timeout=seconds + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return result


def _package(file: str) -> str:
    if "/site-packages/" in file:
        return file.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/app/" in file:
        return "app (reactbin)"
    if file.startswith("<"):
        return file
    return "python stdlib"


def summarize(raw: Path, top: int = 20) -> str:
    """Self time by package and by function, inclusive time by reactbin function."""
    self_package: Counter[str] = Counter()
    self_function: Counter[str] = Counter()
    inclusive_app: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = _FRAME.match(frames[-1])
        if leaf:
            file = leaf["file"]
            self_package[_package(file)] += count
            self_function[f"{leaf['func']} ({file.rsplit('/', 2)[-1]})"] += count
        seen = set()
        for frame in frames:
            match = _FRAME.match(frame)
            if match and "/app/" in match["file"]:
                name = f"{match['func']} ({match['file'].split('/app/', 1)[1]})"
                if name not in seen:
                    seen.add(name)
                    inclusive_app[name] += count
    if not total:
        return "no samples\n"

    def table(title: str, counter: Counter[str]) -> list[str]:
        lines = [title]
        for name, count in counter.most_common(top):
            lines.append(f"  {100 * count / total:5.1f} %  {name}")
        return [*lines, ""]

    out = [f"{total} samples (200 Hz, only the thread holding the GIL)", ""]
    out += table("self time by package:", self_package)
    out += table("self time by function:", self_function)
    out += table("inclusive time, reactbin functions:", inclusive_app)
    return "\n".join(out)


async def enable_auto_explain(admin_url: str, database: str) -> None:
    """Every new connection to `database` logs each statement's plan with timings."""
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute("LOAD 'auto_explain'")
        for setting, value in (
            ("session_preload_libraries", "auto_explain"),
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_analyze", "on"),
            ("auto_explain.log_buffers", "on"),
            ("auto_explain.log_timing", "on"),
        ):
            await connection.execute(f"ALTER DATABASE {database} SET {setting} = '{value}'")
    finally:
        await connection.close()


async def disable_auto_explain(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f"ALTER DATABASE {database} RESET ALL")
    finally:
        await connection.close()


_LOG_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", re.MULTILINE)


def log_since(path: Path, offset: int) -> str:
    """PostgreSQL's log from `offset`, without the plans of statements run while
    planning (the unaccent wrapper function, folded into constants)."""
    text = ""
    with contextlib.suppress(OSError), path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    starts = [m.start() for m in _LOG_ENTRY.finditer(text)] + [len(text)]
    entries = [text[a:b] for a, b in itertools.pairwise(starts)]
    kept = [
        e
        for e in entries
        if "unaccent('public.unaccent'" not in e and "CONTEXT:  SQL function" not in e
    ]
    return "".join(kept)


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
