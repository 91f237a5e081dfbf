"""The integration suite refuses any database that is not PostgreSQL on asyncpg, and
any storage that is not a real S3 server."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

API_DIR = Path(__file__).resolve().parents[2]


def _run_integration(
    url: str, **overrides: str | None
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["TEST_DATABASE_URL"] = url
    env.setdefault("S3_ENDPOINT_URL", "http://127.0.0.1:9")  # only the database is wrong
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    before = _children_cpu_seconds()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration/", "-q", "-p", "no:cacheprovider"],
        cwd=API_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, _children_cpu_seconds() - before


def _children_cpu_seconds() -> float:
    # CPU time, not wall-clock: on a loaded machine the wall-clock time of a run
    # says more about the other processes than about how early the guard stops.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_sqlite_url_stops_the_run_at_once() -> None:
    result, cpu_seconds = _run_integration("sqlite+aiosqlite:///test.db")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Integration tests require postgresql+asyncpg://" in output
    assert "sqlite+aiosqlite:///test.db" in output
    assert "passed" not in output
    assert "collected" not in output
    # testing.md: "exits in under 2 seconds" (most of it is the interpreter starting),
    # measured as the run's CPU time so that other load on the machine cannot fail it.
    assert cpu_seconds < 2.0, f"took {cpu_seconds:.2f}s of CPU"
    assert not (API_DIR / "test.db").exists()


def test_plain_postgresql_url_without_asyncpg_is_refused_too() -> None:
    result, _ = _run_integration("postgresql://user@localhost/db")
    assert result.returncode == 1
    assert "Integration tests require postgresql+asyncpg://" in result.stdout + result.stderr


PG_URL = "postgresql+asyncpg://nobody@127.0.0.1:9/none"


def test_no_s3_endpoint_stops_the_run_instead_of_using_local_disk(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result, _ = _run_integration(PG_URL, S3_ENDPOINT_URL=None, DATA_DIR=str(data_dir))
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Integration tests require S3_ENDPOINT_URL" in output
    assert "collected" not in output
    assert not data_dir.exists()  # nothing was stored on local disk instead


def test_local_storage_backend_is_refused_even_with_an_endpoint() -> None:
    result, _ = _run_integration(PG_URL, STORAGE_BACKEND="local")
    assert result.returncode == 1
    assert "Integration tests require STORAGE_BACKEND=s3 (got 'local')" in (
        result.stdout + result.stderr
    )
