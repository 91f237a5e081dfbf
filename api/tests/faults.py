"""Fault injection with the real services: a TCP proxy that can refuse, hang or cut
traffic, a SeaweedFS S3 server of a test's own that can be killed and brought back,
and pg_ctl stop/start of the shared test PostgreSQL cluster.

Nothing here mocks a protocol: the application talks to real PostgreSQL and S3
servers, and the faults are what a network or a crashed server would do to it.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

CHUNK = 64 * 1024


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that are free right now."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- TCP proxy


def _drop(sock: socket.socket) -> None:
    """Abort a connection: reset it (RST) and wake any thread blocked on it."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Link:
    """One client connection and, unless black-holed, its connection to the target."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.threads: list[threading.Thread] = []
        self.active = 0

    def abort(self) -> None:
        _drop(self.client)
        if self.upstream is not None:
            _drop(self.upstream)

    def release(self) -> None:
        self.client.close()
        if self.upstream is not None:
            self.upstream.close()


class FaultProxy:
    """A loopback TCP proxy in front of `target`, in threads of its own.

    - `refuse()`: stop listening and reset every open connection: to a client
      the server is down (connection refused). `resume()` listens again on the
      same port and forwards normally.
    - `blackhole()`: connections are accepted and kept open, open ones included,
      but nothing is forwarded either way: a server that hangs.
    - `cut_at(marker, passes=n)`: forward normally, but once `marker` has been
      seen in the client's bytes more than `n` times, drop that connection before
      those bytes reach the target (with `then_refuse`, also stop listening at
      once): a failure part-way through a sequence of requests.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_ports(1)[0]
        self.mode = "pass"  # pass | blackhole | refused
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._stop = threading.Event()
        self._acceptor: threading.Thread | None = None
        self._marker: bytes | None = None
        self._passes = 0
        self._then_refuse = False
        self.marker_hits = 0
        self.cuts = 0
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ----------------------------------------------------------------- controls

    def start(self) -> FaultProxy:
        self._listen()
        return self

    def refuse(self) -> None:
        with self._lock:
            self._refuse_locked()
        self._join_acceptor()

    def resume(self) -> None:
        self._join_acceptor()
        with self._lock:
            self.mode = "pass"
            self._marker = None
            listening = self._acceptor is not None
        if not listening:
            self._listen()

    def blackhole(self) -> None:
        with self._lock:
            self.mode = "blackhole"

    def cut_at(self, marker: bytes, *, passes: int = 0, then_refuse: bool = False) -> None:
        with self._lock:
            self._marker, self._passes, self._then_refuse = marker, passes, then_refuse
            self.marker_hits = 0

    def close(self) -> None:
        self.refuse()
        with self._lock:
            threads = [t for link in self._links for t in link.threads]
        for thread in threads:
            thread.join(timeout=5)

    # ----------------------------------------------------------------- internals

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.setblocking(False)
        stop = threading.Event()
        acceptor = threading.Thread(target=self._accept_loop, args=(listener, stop), daemon=True)
        with self._lock:
            self._stop, self._acceptor = stop, acceptor
        acceptor.start()

    def _refuse_locked(self) -> None:
        # The acceptor closes the listening socket itself when it sees the stop.
        self.mode = "refused"
        self._stop.set()
        for link in self._links:
            link.abort()

    def _join_acceptor(self) -> None:
        with self._lock:
            acceptor = self._acceptor if self._stop.is_set() else None
        if acceptor is not None:
            acceptor.join(timeout=5)
            with self._lock:
                if self._acceptor is acceptor:
                    self._acceptor = None

    def _accept_loop(self, listener: socket.socket, stop: threading.Event) -> None:
        with selectors.DefaultSelector() as selector, listener:
            selector.register(listener, selectors.EVENT_READ)
            while not stop.is_set():
                if not selector.select(timeout=0.05):
                    continue
                try:
                    client, _ = listener.accept()
                except BlockingIOError:
                    continue
                client.setblocking(True)
                self._serve(client)

    def _serve(self, client: socket.socket) -> None:
        self.connections += 1
        upstream = None
        if self.mode == "pass":
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _drop(client)
                client.close()
                return
        link = _Link(client, upstream)
        link.threads.append(threading.Thread(target=self._forward, args=(link,), daemon=True))
        if upstream is not None:
            link.threads.append(threading.Thread(target=self._back, args=(link,), daemon=True))
        with self._lock:
            if self.mode == "refused":
                link.abort()
                link.release()
                return
            self._links.add(link)
            link.active = len(link.threads)
        for thread in link.threads:
            thread.start()

    def _finish(self, link: _Link) -> None:
        link.abort()
        with self._lock:
            link.active -= 1
            if link.active == 0:
                self._links.discard(link)
                link.release()

    def _cut(self, seen: bytes) -> bool:
        """Whether these bytes carry the marker once too often (the connection is then cut)."""
        with self._lock:
            if self._marker is None or self._marker not in seen:
                return False
            self.marker_hits += 1
            if self.marker_hits <= self._passes:
                return False
            self.cuts += 1
            if self._then_refuse:
                self._refuse_locked()
            return True

    def _forward(self, link: _Link) -> None:
        tail = b""
        try:
            while data := link.client.recv(CHUNK):
                if self.mode != "pass" or link.upstream is None:
                    continue  # a black hole: swallowed
                marker = self._marker
                if marker is not None:
                    window = tail + data
                    if self._cut(window):
                        return
                    tail = window[-(len(marker) - 1) :]
                link.upstream.sendall(data)
        except OSError:
            pass
        finally:
            self._finish(link)

    def _back(self, link: _Link) -> None:
        assert link.upstream is not None
        try:
            while data := link.upstream.recv(CHUNK):
                if self.mode == "pass":
                    link.client.sendall(data)
        except OSError:
            pass
        finally:
            self._finish(link)


# --------------------------------------------------------------------------- SeaweedFS


class OwnS3:
    """A SeaweedFS `weed mini` of the test's own (same credentials as the shared one),
    on fixed ports, so it can be killed and started again at the same address."""

    PORT_FLAGS = (
        "s3.port",
        "s3.port.grpc",
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "admin.port",
        "admin.port.grpc",
    )

    def __init__(self, weed: str, access_key: str, secret_key: str, region: str) -> None:
        self.weed = weed
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.bucket = "reactbin-faults-" + secrets.token_hex(3)
        self.dir = Path(tempfile.mkdtemp(prefix="reactbin-faults-s3-"))
        self.ports = dict(zip(self.PORT_FLAGS, free_ports(len(self.PORT_FLAGS)), strict=True))
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self, timeout: float = 30) -> None:
        self.starts += 1
        data = self.dir / f"data-{self.starts}"  # weed rewrites mini.options: a fresh dir each time
        data.mkdir()
        config = self.dir / "s3.json"
        identity = {
            "name": "reactbin-faults",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        argv = [self.weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        argv += [f"-{flag}={port}" for flag, port in self.ports.items()]
        argv += [
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.preStopSeconds=0",
            f"-s3.config={config}",
            f"-bucket={self.bucket}",
            f"-filer.localSocket={self.dir}/filer-{self.starts}.sock",
            f"-s3.localSocket={self.dir}/s3-{self.starts}.sock",
        ]
        env = {**os.environ, "TMPDIR": str(self.dir)}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_BUCKET"):
            env.pop(name, None)
        with (self.dir / "weed.log").open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        wait_until(self._ready, timeout, f"SeaweedFS on {self.url}", interval=0.1)

    def _ready(self) -> bool:
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.session import get_session

        assert self.process is not None
        if self.process.poll() is not None:
            log = (self.dir / "weed.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed exited with {self.process.returncode}:\n{log}")
        client = get_session().create_client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=1,
                read_timeout=1,
                retries={"max_attempts": 1},
            ),
        )
        try:
            client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError):
            return False
        finally:
            client.close()
        return True

    def kill(self) -> None:
        """SIGKILL, the way a crashed or unplugged server goes: no goodbye to anyone."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        self.kill()
        # The gRPC unix sockets always go to /tmp; weed removes them only on a clean stop.
        for port in self.ports.values():
            for stale in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):
                Path(stale).unlink(missing_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- PostgreSQL


class PgCluster:
    """pg_ctl stop/start of the shared test cluster (scripts/testenv.py exports where it is)."""

    def __init__(self) -> None:
        needed = ("REACTBIN_TEST_PGDATA", "REACTBIN_TEST_PGBIN")
        missing = [name for name in needed if not os.environ.get(name)]
        assert not missing, f"PostgreSQL fault tests need {missing} (run them through `make test`)"
        self.data = Path(os.environ["REACTBIN_TEST_PGDATA"])
        self.bin = Path(os.environ["REACTBIN_TEST_PGBIN"])
        self.runas = os.environ.get("REACTBIN_TEST_PG_RUNAS", "")
        self.log_path = self.data.parent / "postgresql.log"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.runas, "--"] if self.runas else []
        argv = [*prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result

    def running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "-t", "30", "stop")

    def start(self) -> None:
        self._pg_ctl("-l", str(self.log_path), "-w", "-t", "30", "start")

    def ensure_running(self) -> None:
        if not self.running():
            self.start()
