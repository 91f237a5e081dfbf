"""The services the benchmark runs: a throwaway PostgreSQL and SeaweedFS S3 server
(scripts/testenv.py, the same ones `make test` uses) and the reactbin server,
started the way a user starts it: `reactbin migrate`, then `reactbin serve`.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import testenv  # noqa: E402  (scripts/ is not a package)

# Variables of the developer's shell that would point the services at something
# else (a real database or bucket): the benchmark always starts its own.
_REUSE_VARIABLES = ("TEST_DATABASE_URL", "S3_ENDPOINT_URL")
READY_TIMEOUT = 60.0


class ServiceError(Exception):
    pass


@contextlib.contextmanager
def backing_services(keep: bool = False) -> Iterator[testenv.Environment]:
    """PostgreSQL + SeaweedFS on free loopback ports; stopped and deleted on exit."""
    saved = {name: os.environ.pop(name) for name in _REUSE_VARIABLES if name in os.environ}
    environment = testenv.Environment(keep)
    try:
        environment.start()
    except testenv.StartError as exc:
        environment.stop()
        raise ServiceError(str(exc)) from None
    except BaseException:
        environment.stop()
        raise
    finally:
        os.environ.update(saved)
    try:
        yield environment
    finally:
        environment.stop()


def postgres_of(environment: testenv.Environment) -> testenv.Postgres:
    for service in environment.services:
        if isinstance(service, testenv.Postgres):
            return service
    raise ServiceError("no PostgreSQL was started")


def postgres_processes(environment: testenv.Environment) -> list[psutil.Process]:
    pids = postgres_of(environment).pids()
    if not pids:
        return []
    postmaster = psutil.Process(next(iter(pids)))
    return [postmaster, *postmaster.children(recursive=True)]


def seaweedfs_processes(environment: testenv.Environment) -> list[psutil.Process]:
    for service in environment.services:
        if isinstance(service, testenv.SeaweedFS) and service.process is not None:
            with contextlib.suppress(psutil.Error):
                weed = psutil.Process(service.process.pid)
                return [weed, *weed.children(recursive=True)]
    return []


def reactbin_executable() -> str:
    candidate = Path(sys.executable).parent / "reactbin"
    if not candidate.exists():
        raise ServiceError(f"no `reactbin` next to {sys.executable}: run `make venv` first")
    return str(candidate)


def server_environment(
    services: dict[str, str], data_dir: Path, owner_password: str
) -> dict[str, str]:
    """Only what a user would set, and nothing from the developer's shell that could
    change the server (a stray DATABASE_URL, LOG_LEVEL, MAX_UPLOAD_BYTES...)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ")}
    return {
        **base,
        "DATABASE_URL": services["DATABASE_URL"],
        "S3_ENDPOINT_URL": services["S3_ENDPOINT_URL"],
        "S3_BUCKET_NAME": services["S3_BUCKET_NAME"],
        "S3_ACCESS_KEY_ID": services["S3_ACCESS_KEY_ID"],
        "S3_SECRET_ACCESS_KEY": services["S3_SECRET_ACCESS_KEY"],
        "S3_REGION": services["S3_REGION"],
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "OWNER_USERNAME": "owner",
        "OWNER_PASSWORD": owner_password,
        "DATA_DIR": str(data_dir),
        "LOG_FORMAT": "json",
        # As with any DATABASE_URL deployment, background jobs (text recognition) run
        # in `reactbin worker`, which the benchmark does not start: only the server is measured.
        "RUN_WORKER": "false",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def migrate(env: dict[str, str], workdir: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [reactbin_executable(), "migrate"],
        env=env,
        cwd=workdir,  # no stray .env file is read from the repository
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceError(f"reactbin migrate failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def _get_status(port: int, path: str, timeout: float = 2.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Server:
    """`reactbin serve` on a free loopback port; `startup_s` is spawn to 200 from /readyz."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0
        self.log_path = workdir / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        for _attempt in range(3):
            self.port = testenv.free_ports(1)[0]
            env = {**self.env, "API_BASE_URL": f"http://127.0.0.1:{self.port}"}
            argv = [reactbin_executable(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            with self.log_path.open("ab") as log:
                started = time.perf_counter()
                self.process = subprocess.Popen(
                    argv,
                    env=env,
                    cwd=self.workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C reaches us; we stop it
                )
            if self._wait_ready(started):
                return
            if "address already in use" not in self.log_tail().lower():
                break
        raise ServiceError(f"reactbin serve did not become ready:\n{self.log_tail()}")

    def _wait_ready(self, started: float) -> bool:
        assert self.process is not None
        deadline = started + READY_TIMEOUT
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if _get_status(self.port, "/readyz") == 200:
                    self.startup_s = time.perf_counter() - started
                    return True
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        return False

    def log_tail(self, lines: int = 30) -> str:
        return str(testenv.tail(self.log_path, lines))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()
