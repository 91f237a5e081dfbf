"""The real `reactbin` process, pointed at services that are not there: one line
naming the variable, a non-zero exit, no traceback, no password."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reactbin(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("reactbin", path=str(Path(sys.executable).parent))
    assert executable
    return subprocess.run(
        [executable, *args],
        env={**os.environ, "DATA_DIR": str(tmp_path), "LOG_FORMAT": "json", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("command", ["check", "migrate"])
def test_unreachable_database(command: str, tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://reactbin:hunter2-secret@127.0.0.1:{_closed_port()}/reactbin"
    result = _reactbin([command], tmp_path, DATABASE_URL=url)
    _assert_one_clear_line(result, "DATABASE_URL", "cannot connect")
    assert "hunter2-secret" not in result.stderr


def test_missing_database(tmp_path: Path) -> None:
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/no_such_database"
    result = _reactbin(["migrate"], tmp_path, DATABASE_URL=url)
    _assert_one_clear_line(result, "DATABASE_URL", "no_such_database")


def test_missing_bucket(tmp_path: Path) -> None:
    result = _reactbin(["check"], tmp_path, S3_BUCKET_NAME="no-such-bucket-here")
    _assert_one_clear_line(result, "S3_BUCKET_NAME", "no-such-bucket-here")
