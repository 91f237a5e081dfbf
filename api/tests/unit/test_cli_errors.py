"""A user's mistake is one line naming what to fix and a non-zero exit, never a traceback.

In-process (typer's runner) for speed: an exception escaping a command would be
a traceback on a terminal, so every case asserts the command ended by `typer.Exit`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

SERVER_COMMANDS = ["serve", "migrate", "check", "worker", "reprocess"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "S3_ENDPOINT_URL", "S3_BUCKET_NAME", "JWT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return {"DATA_DIR": str(tmp_path / "data"), "STORAGE_BACKEND": "local"}


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args} raised {result.exception!r}: a traceback for the user"
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("command", SERVER_COMMANDS)
def test_a_non_postgresql_database_url_names_the_variable(
    command: str, env: dict[str, str]
) -> None:
    code, output = _run([command], {**env, "DATABASE_URL": "sqlite+aiosqlite:///test.db"})
    assert code != 0
    assert "DATABASE_URL" in output
    assert "postgresql+asyncpg://" in output
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", SERVER_COMMANDS)
def test_a_malformed_database_url_names_the_variable_not_the_password(
    command: str, env: dict[str, str]
) -> None:
    url = "postgresql+asyncpg://reactbin:hunter2-secret@db.example:port/reactbin"
    code, output = _run([command], {**env, "DATABASE_URL": url})
    assert code != 0
    assert "DATABASE_URL" in output
    assert "hunter2-secret" not in output


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("JWT_SECRET_KEY", "tiny-jwt-secret"),
        ("STORAGE_BACKEND", "ftp"),
        ("MAX_UPLOAD_BYTES", "lots"),
        ("OWNER_PASSWORD", "password"),
    ],
)
def test_other_bad_settings_name_their_variable(
    variable: str, value: str, env: dict[str, str]
) -> None:
    code, output = _run(["check"], {**env, variable: value})
    assert code != 0
    assert variable in output
    assert "tiny-jwt-secret" not in output  # a secret is never echoed back


def test_import_needs_something_to_import(env: dict[str, str]) -> None:
    code, output = _run(["import"], env)
    assert code == 2
    assert "--from-gifable" in output


def test_import_of_a_missing_folder(env: dict[str, str], tmp_path: Path) -> None:
    code, output = _run(["import", str(tmp_path / "nope"), "--token", "t"], env)
    assert code == 2
    assert "no such file or folder" in output


def test_import_server_must_be_a_url(env: dict[str, str], tmp_path: Path) -> None:
    code, output = _run(["import", str(tmp_path), "--server", "localhost:8000"], env)
    assert code == 2
    assert "REACTBIN_SERVER" in output


def test_gifable_needs_its_token(env: dict[str, str]) -> None:
    code, output = _run(["import", "--from-gifable", "https://gifable.example"], env)
    assert code == 2
    assert "--gifable-token" in output


@pytest.mark.parametrize("command", ["import", "export", *SERVER_COMMANDS, "hash-password"])
def test_every_command_has_help(command: str, env: dict[str, str]) -> None:
    code, output = _run([command, "--help"], env)
    assert code == 0
    assert "Usage" in output


def test_import_and_export_start_without_loading_the_server() -> None:
    """They only talk HTTP: the server's imports (seconds on a small machine) are skipped."""
    probe = (
        "import sys; sys.argv = ['reactbin', 'export', '--help']\n"
        "from app.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'app.main' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
        "print('light')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("light")
    assert "Usage: reactbin export" in result.stdout
