#!/usr/bin/env python3
"""A reactbin cluster on one machine: N `reactbin serve`, M `reactbin worker` and nginx
in front, configured as docs/deploy.md tells users (streaming uploads, the client
address forwarded and trusted only from the proxy, retries of requests a stopping
process could not answer).

    python scripts/cluster.py [--api N] [--workers M] [--keep] -- CMD ARGS...
        Start a throwaway PostgreSQL and SeaweedFS (scripts/testenv.py), the cluster
        on free 127.0.0.1 ports, run CMD with REACTBIN_CLUSTER_URL (the proxy) and
        OWNER_USERNAME / OWNER_PASSWORD set, and stop everything when CMD ends, fails
        or on SIGINT/SIGTERM.

    python scripts/cluster.py [--api N] [--workers M] env
        The same, then print the addresses and wait for Ctrl-C (for trying things out).

The tests (api/tests/cluster/) and the soak (bench/soak.py) use the Cluster class.
Standard library only, besides the venv's `reactbin` and `weed`; nginx from Debian
(scripts/ensure-system-deps.sh nginx).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import testenv

READY_TIMEOUT = 60.0
NGINX = "/usr/sbin/nginx"
# The proxy's own address: the only one whose X-Forwarded-For the API processes trust.
# Test clients connect from other loopback addresses (127.0.0.2...), like real clients.
PROXY_ADDRESS = "127.0.0.1"
CLIENT_BODY_MAX = "25m"  # a little over MAX_UPLOAD_BYTES (20 MiB), as in docs/deploy.md


class ClusterError(Exception):
    pass


def reactbin_executable() -> str:
    candidate = Path(sys.executable).parent / "reactbin"
    if not candidate.exists():
        raise ClusterError(f"no `reactbin` next to {sys.executable}: run `make venv` first")
    return str(candidate)


def http_status(port: int, path: str, timeout: float = 2.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def cluster_environment(services: dict[str, str], data_dir: Path) -> dict[str, str]:
    """What every process of a deployment shares (docs/deploy.md, "Scaling out")."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
    base = {k: v for k, v in os.environ.items() if k in keep}
    names = ["DATABASE_URL", "S3_ENDPOINT_URL", "S3_BUCKET_NAME", "S3_ACCESS_KEY_ID"]
    names += ["S3_SECRET_ACCESS_KEY", "S3_REGION"]
    return {
        **base,
        **{name: services[name] for name in names},
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "OWNER_USERNAME": "owner",
        "OWNER_PASSWORD": secrets.token_urlsafe(18),
        "DATA_DIR": str(data_dir),
        "LOG_FORMAT": "json",
        "RUN_WORKER": "false",
        "FORWARDED_ALLOW_IPS": PROXY_ADDRESS,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


class Process:
    """One reactbin process in its own session (so signals reach only it), logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.workdir,  # no stray .env file is read from the repository
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int | None:
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 40.0) -> None:
        """SIGTERM, then SIGKILL to the whole session if it does not exit in time."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def log_tail(self, lines: int = 30) -> str:
        return str(testenv.tail(self.log_path, lines))


class ApiProcess(Process):
    def __init__(self, index: int, env: dict[str, str], workdir: Path, port: int) -> None:
        argv = [reactbin_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        super().__init__(f"api{index}", argv, env, workdir)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise ClusterError(f"{self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if http_status(self.port, "/readyz") == 200:
                    return
            time.sleep(0.05)
        raise ClusterError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")


class WorkerProcess(Process):
    def __init__(self, index: int, env: dict[str, str], workdir: Path) -> None:
        argv = [reactbin_executable(), "worker", "--concurrency", "1"]
        super().__init__(f"worker{index}", argv, env, workdir)

    def start(self) -> None:
        self.spawn()


class Nginx:
    """nginx in the foreground (daemon off), its files in its own directory."""

    def __init__(self, workdir: Path, upstream_ports: Sequence[int]) -> None:
        if not Path(NGINX).exists():
            raise ClusterError("nginx not found: run `bash scripts/ensure-system-deps.sh nginx`")
        self.dir = workdir / "nginx"
        self.dir.mkdir()
        self.upstream_ports = list(upstream_ports)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "error.log"

    def start(self) -> None:
        for _attempt in range(3):
            self.port = testenv.free_ports(1)[0]
            (self.dir / "nginx.conf").write_text(self.config())
            if os.geteuid() == 0:  # the worker processes run as nobody and write temp files
                nobody = pwd.getpwnam("nobody")
                for path in (self.dir, *self.dir.iterdir()):
                    os.chown(path, nobody.pw_uid, nobody.pw_gid)
            argv = [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")]
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_ready():
                return
            self.stop()
        raise ClusterError(f"nginx did not start:\n{testenv.tail(self.log_path)}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            # /metrics is answered by nginx itself: a probe through to the upstreams
            # before they run would mark them failed for fail_timeout (10 s).
            with contextlib.suppress(OSError):
                return http_status(self.port, "/metrics") == 404
            time.sleep(0.05)
        return False

    def config(self) -> str:
        servers = "".join(
            f"        server 127.0.0.1:{port} max_fails=0;\n" for port in self.upstream_ports
        )
        text = Path(__file__).with_name("cluster-nginx.conf").read_text()
        values = {"DIR": str(self.dir), "PORT": str(self.port), "SERVERS": servers}
        for name, value in {**values, "BODY": CLIENT_BODY_MAX}.items():
            text = text.replace(f"@{name}@", value)
        return text

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGQUIT)  # graceful: finish what is in flight
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Cluster:
    def __init__(
        self,
        services: dict[str, str],
        *,
        api_processes: int = 2,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
        keep: bool = False,
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="reactbin-cluster-"))
        self.keep = keep
        self.env = {**cluster_environment(services, self.dir / "data"), **(extra_env or {})}
        ports = testenv.free_ports(api_processes)
        self.apis = [ApiProcess(i, self.env, self.dir, port) for i, port in enumerate(ports)]
        self.workers = [WorkerProcess(i, self.env, self.dir) for i in range(workers)]
        self.proxy = Nginx(self.dir, ports)

    @property
    def url(self) -> str:
        return f"http://{PROXY_ADDRESS}:{self.proxy.port}"

    @property
    def owner(self) -> tuple[str, str]:
        return self.env["OWNER_USERNAME"], self.env["OWNER_PASSWORD"]

    def start(self) -> None:
        try:
            self._migrate()
            self.proxy.start()
            # Every link points at the proxy, as API_BASE_URL does in production.
            self.env["API_BASE_URL"] = self.url
            for api in self.apis:
                api.start()
            for worker in self.workers:
                worker.start()
        except BaseException:
            self.stop()
            raise

    def _migrate(self) -> None:
        result = subprocess.run(
            [reactbin_executable(), "migrate"],
            env=self.env,
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"reactbin migrate failed:\n{result.stdout}\n{result.stderr}")

    def pids(self) -> dict[str, int]:
        found = {p.name: p.pid for p in (*self.apis, *self.workers) if p.running()}
        if self.proxy.process is not None:
            found["nginx"] = self.proxy.process.pid
        return found

    def stop(self) -> None:
        for process in (*self.apis, *self.workers):
            process.signal(signal.SIGTERM)  # all at once: each takes a moment to drain
        for process in (*self.apis, *self.workers):
            try:
                process.stop()
            except Exception as exc:  # cleanup must go on
                testenv.log(f"stopping {process.name}: {exc}")
        self.proxy.stop()
        if self.keep:
            testenv.log(f"kept the cluster's files in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


@contextlib.contextmanager
def backing_services(keep: bool = False) -> Iterator[dict[str, str]]:
    """PostgreSQL + SeaweedFS of scripts/testenv.py; always fresh ones, stopped on exit."""
    saved = {
        n: os.environ.pop(n) for n in ("TEST_DATABASE_URL", "S3_ENDPOINT_URL") if n in os.environ
    }
    environment = testenv.Environment(keep)
    try:
        environment.start()
        yield environment.env
    finally:
        os.environ.update(saved)
        environment.stop()


def main(args: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("mode", nargs="?", choices=["env"])
    command = args[args.index("--") + 1 :] if "--" in args else []
    options = parser.parse_args(args[: args.index("--")] if "--" in args else args)
    if not command and options.mode != "env":
        parser.error("give a command after -- (or `env`)")

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        with backing_services(options.keep) as services:
            cluster = Cluster(services, api_processes=options.api, workers=options.workers)
            with cluster:
                user, password = cluster.owner
                testenv.log(f"cluster ready: {cluster.url} (owner {user} / {password})")
                testenv.log(f"processes: {cluster.pids()}")
                if not command:
                    signal.pause()
                    return 0
                env = {**os.environ, "REACTBIN_CLUSTER_URL": cluster.url}
                env |= {"OWNER_USERNAME": user, "OWNER_PASSWORD": password}
                return subprocess.run(command, env=env, check=False).returncode
    except (testenv.StartError, ClusterError) as exc:
        testenv.log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
