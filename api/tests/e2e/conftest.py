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
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from app.storage.s3 import S3Storage

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


@asynccontextmanager
async def open_bucket(name: str) -> AsyncIterator[S3Storage]:
    """The test S3 server's bucket `name`, through the server's own storage client."""
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
        yield storage
    finally:
        await storage.close()


async def _bucket(action: str, name: str) -> None:
    async with open_bucket(name) as storage:
        if action == "create":
            await storage._client.create_bucket(Bucket=name)
        else:
            async for info in storage.list(""):
                await storage.delete(info.key)
            await storage._client.delete_bucket(Bucket=name)


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
def server_environment(
    data_dir: Path, name: str = "e2e", **extra_env: str
) -> Iterator[dict[str, str]]:
    """The environment of a server with its own database and bucket (dropped afterwards),
    on a free loopback port, its owner `owner` with the password in OWNER_PASSWORD."""
    missing = [variable for variable in REQUIRED if not os.environ.get(variable)]
    assert not missing, f"e2e tests need {missing} (run them through `make test`)"
    base_db = os.environ["TEST_DATABASE_URL"]
    suffix = secrets.token_hex(4)
    db_name, bucket = f"reactbin_{name}_{suffix}", f"reactbin-{name}-{suffix}"
    asyncio.run(_admin(base_db, f'CREATE DATABASE "{db_name}"'))
    asyncio.run(_bucket("create", bucket))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": base_db.rsplit("/", 1)[0] + f"/{db_name}",
        "S3_BUCKET_NAME": bucket,
        "OWNER_USERNAME": "owner",
        "OWNER_PASSWORD": secrets.token_urlsafe(16),
        "API_BASE_URL": f"http://127.0.0.1:{port}",
        "DATA_DIR": str(data_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
        **extra_env,
    }
    env.pop("TEST_DATABASE_URL", None)
    try:
        yield env
    finally:
        asyncio.run(_bucket("delete", bucket))
        asyncio.run(_admin(base_db, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


@contextmanager
def serving(
    env: dict[str, str], log_path: Path, timeout: float = 90
) -> Iterator[subprocess.Popen[bytes]]:
    """`reactbin migrate`, then `reactbin serve` until it is ready; stopped afterwards.
    Its output is appended to `log_path`, whose end a failed start shows."""
    subprocess.run([_reactbin(), "migrate"], env=env, check=True, capture_output=True, timeout=60)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [_reactbin(), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        try:
            # Generous: on a loaded 2-core machine start-up (imports, migrations check,
            # the storage probe) has taken over 30 s.
            wait_ready(env["API_BASE_URL"], process, timeout=timeout)
        except RuntimeError as exc:
            raise RuntimeError(
                f"{exc}; its log ends with:\n{log_path.read_text()[-3000:]}"
            ) from None
        yield process
    finally:
        stop(process)


@contextmanager
def running_server(tmp_path_factory: pytest.TempPathFactory, **extra_env: str) -> Iterator[Server]:
    """`reactbin serve` on its own database and bucket, stopped and dropped afterwards."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    log_path = data_dir / "server.log"
    with server_environment(data_dir, **extra_env) as env, serving(env, log_path):
        yield Server(env["API_BASE_URL"], "owner", env["OWNER_PASSWORD"], env, log_path)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory) as started:
        yield started
