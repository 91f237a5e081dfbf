"""The integration suite refuses any database that is not PostgreSQL on asyncpg."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

API_DIR = Path(__file__).resolve().parents[2]


def _run_integration(url: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["TEST_DATABASE_URL"] = url
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration/", "-q", "-p", "no:cacheprovider"],
        cwd=API_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, time.monotonic() - started


def test_sqlite_url_stops_the_run_at_once() -> None:
    result, elapsed = _run_integration("sqlite+aiosqlite:///test.db")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Integration tests require postgresql+asyncpg://" in output
    assert "sqlite+aiosqlite:///test.db" in output
    assert "passed" not in output
    assert "collected" not in output
    # testing.md: "exits in under 2 seconds" (most of it is the interpreter starting).
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert not (API_DIR / "test.db").exists()


def test_plain_postgresql_url_without_asyncpg_is_refused_too() -> None:
    result, _ = _run_integration("postgresql://user@localhost/db")
    assert result.returncode == 1
    assert "Integration tests require postgresql+asyncpg://" in result.stdout + result.stderr
