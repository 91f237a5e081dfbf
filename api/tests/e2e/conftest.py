"""End-to-end fixtures: `reactbin serve` as a real process on a free loopback port,
with its own database and bucket on the test PostgreSQL and S3 servers."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REQUIRED = ("TEST_DATABASE_URL", "S3_ENDPOINT_URL", "S3_BUCKET_NAME")


@dataclass(frozen=True)
class Server:
    base_url: str
    username: str
    password: str
    env: dict[str, str]
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(database_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_plain(database_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _bucket(action: str, name: str) -> None:
    from app.config import load_settings
    from app.storage.s3 import S3Storage

    settings = load_settings()
    secret = settings.s3_secret_access_key
    storage = await S3Storage(
        bucket=name,
        endpoint_url=settings.s3_endpoint_url,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        region=settings.s3_region,
        timeout=10,
    ).open()
    try:
        if action == "create":
            await storage._client.create_bucket(Bucket=name)
        else:
            async for info in storage.list(""):
                await storage.delete(info.key)
            await storage._client.delete_bucket(Bucket=name)
    finally:
        await storage.close()


def _reactbin() -> str:
    found = shutil.which("reactbin", path=str(Path(sys.executable).parent))
    assert found, "the reactbin console script is not installed"
    return found


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    # Start-up takes 2-4 s on a quiet machine; the bound is generous because a loaded
    # one (other test runs on two cores) took over 30 s, and a slow start is no bug here.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"reactbin serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("reactbin serve did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_server(tmp_path_factory: pytest.TempPathFactory, **extra_env: str) -> Iterator[Server]:
    """`reactbin serve` on its own database and bucket, stopped and dropped afterwards."""
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    assert not missing, f"e2e tests need {missing} (run them through `make test`)"
    base_db = os.environ["TEST_DATABASE_URL"]
    suffix = secrets.token_hex(4)
    db_name, bucket = f"reactbin_e2e_{suffix}", f"reactbin-e2e-{suffix}"
    asyncio.run(_admin(base_db, f'CREATE DATABASE "{db_name}"'))
    asyncio.run(_bucket("create", bucket))
    port = free_port()
    password = secrets.token_urlsafe(16)
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = {
        **os.environ,
        "DATABASE_URL": base_db.rsplit("/", 1)[0] + f"/{db_name}",
        "S3_BUCKET_NAME": bucket,
        "OWNER_USERNAME": "owner",
        "OWNER_PASSWORD": password,
        "API_BASE_URL": f"http://127.0.0.1:{port}",
        "DATA_DIR": str(data_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
        **extra_env,
    }
    env.pop("TEST_DATABASE_URL", None)
    subprocess.run([_reactbin(), "migrate"], env=env, check=True, capture_output=True, timeout=60)
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [_reactbin(), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        try:
            # Generous: on a loaded 2-core machine start-up (imports, migrations check,
            # the storage probe) has taken over 30 s.
            wait_ready(env["API_BASE_URL"], process, timeout=90)
        except RuntimeError as exc:
            raise RuntimeError(
                f"{exc}; its log ends with:\n{log_path.read_text()[-3000:]}"
            ) from None
        yield Server(env["API_BASE_URL"], "owner", password, env, log_path)
    finally:
        stop(process)
        asyncio.run(_bucket("delete", bucket))
        asyncio.run(_admin(base_db, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory) as started:
        yield started
