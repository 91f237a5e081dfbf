"""reactbin behind a real PgBouncer (docs/deploy.md, "Behind PgBouncer").

Each test starts its own PgBouncer on a free loopback port in front of the test
PostgreSQL, and its own reactbin processes through it; not the nginx rig of the
other cluster tests. Session mode needs nothing special and keeps the response
cache exact across processes; transaction mode (DATABASE_POOLER=transaction, two
server connections shared by every process) works with the cache off; and what
cannot work there is shown: a LISTEN misses notifications, which is why reactbin
refuses RESPONSE_CACHE_MB>0 with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import psycopg
import pytest
from PIL import Image as PILImage

from app.renditions.formats import STILL_FORMATS
from tests.cluster.conftest import direct, rig
from tests.cluster.test_cache_across_processes import cached_ids, ids, word
from tests.integration.helpers import png_bytes

PGBOUNCER = "/usr/sbin/pgbouncer"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
# Two server connections for two API processes and a worker: every process's
# transactions take turns on the same two PostgreSQL sessions.
SHARED_SERVER_CONNECTIONS = 2
# How long a notification may take to arrive where it does arrive (in practice ms).
NOTIFY_WAIT_S = 3.0
# An upload's two jobs (text recognition, renditions) on a busy 2-core machine.
JOBS_WITHIN_S = 180.0
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(autouse=True)
def cluster_whole() -> None:
    """Overrides the package's autouse fixture of the same name: these tests bring
    their own processes and need none of the nginx rig's (not started for them)."""


class PgBouncer:
    """PgBouncer in the foreground, its files in a directory of its own; the
    client-facing user and password are those of the test database."""

    def __init__(self, database_url: str, mode: str, pool_size: int) -> None:
        if not Path(PGBOUNCER).exists():
            raise rig.ClusterError(
                "pgbouncer not found: run `bash scripts/ensure-system-deps.sh pgbouncer`"
            )
        self.server = urlsplit(database_url)
        self.mode = mode
        self.pool_size = pool_size
        # Not under pytest's temporary directory: only root may enter it, and
        # PgBouncer runs as another user when the tests run as root.
        self.dir = Path(tempfile.mkdtemp(prefix=f"reactbin-pgbouncer-{mode}-"))
        self.log_path = self.dir / "pgbouncer.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> str:
        return self.server.path.lstrip("/")

    def url(self, scheme: str = "postgresql+asyncpg") -> str:
        user, password = self.server.username, self.server.password
        return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}/{self.database}"

    def config(self) -> str:
        return f"""
[databases]
{self.database} = host={self.server.hostname} port={self.server.port} dbname={self.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.dir / "userlist.txt"}
stats_users = {self.server.username}
pool_mode = {self.mode}
default_pool_size = {self.pool_size}
max_client_conn = 500
"""

    def start(self) -> PgBouncer:
        self.port = rig.testenv.free_ports(1)[0]
        ini = self.dir / "pgbouncer.ini"
        ini.write_text(self.config())
        (self.dir / "userlist.txt").write_text(
            f'"{self.server.username}" "{self.server.password}"\n'
        )
        argv = [PGBOUNCER, str(ini)]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            runas = os.environ.get("REACTBIN_TEST_PG_RUNAS") or "postgres"
            user = pwd.getpwnam(runas)
            for path in (self.dir, *self.dir.iterdir()):
                os.chown(path, user.pw_uid, user.pw_gid)
            argv = ["runuser", "-u", runas, "--", *argv]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise rig.ClusterError(f"pgbouncer exited:\n{rig.testenv.tail(self.log_path)}")
            try:
                with psycopg.connect(self.url("postgresql"), connect_timeout=2) as connection:
                    connection.execute("SELECT 1")
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def show(self, what: str) -> list[dict[str, Any]]:
        """The admin console's SHOW <what> (POOLS, SERVERS, CLIENTS...), as dicts."""
        admin = self.url("postgresql").rsplit("/", 1)[0] + "/pgbouncer"
        with psycopg.connect(admin, autocommit=True) as connection:
            cursor = connection.execute(f"SHOW {what}")
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)  # SHUTDOWN: every connection closed
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if os.environ.get("REACTBIN_CLUSTER_KEEP"):  # its log, to read
            rig.testenv.log(f"kept PgBouncer's files in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Deployment:
    """API processes and workers of one deployment (PgBouncer's DATABASE_URL, or not)."""

    def __init__(self, database_url: str, workdir: Path, **settings: str) -> None:
        workdir.mkdir(exist_ok=True)
        services = {**os.environ, "DATABASE_URL": database_url}
        self.env = {**rig.cluster_environment(services, workdir / "data"), **settings}
        self.env["UPLOAD_TMP_DIR"] = str(workdir)
        self.dir = workdir
        self.apis: list[rig.ApiProcess] = []
        self.workers: list[rig.WorkerProcess] = []

    def start(self, apis: int, workers: int) -> Deployment:
        ports = rig.testenv.free_ports(apis)
        self.apis = [rig.ApiProcess(i, self.env, self.dir, port) for i, port in enumerate(ports)]
        self.workers = [rig.WorkerProcess(i, self.env, self.dir) for i in range(workers)]
        for api in self.apis:
            api.start()
        for worker in self.workers:
            worker.start()
        return self

    @property
    def processes(self) -> list[rig.Process]:
        return [*self.apis, *self.workers]

    def stop(self) -> None:
        for process in self.processes:
            process.signal(signal.SIGTERM)
        for process in self.processes:
            with contextlib.suppress(Exception):  # cleanup must go on
                process.stop()

    def errors(self) -> list[str]:
        """Log lines at error level, and any driver complaint about statements."""
        found = []
        for process in self.processes:
            for line in process.log_path.read_text(errors="replace").splitlines():
                try:
                    level = json.loads(line).get("level")
                except (ValueError, AttributeError):
                    level = None
                if level in ("error", "critical") or "prepared statement" in line:
                    found.append(f"{process.name}: {line}")
        return found


@contextlib.contextmanager
def behind_pgbouncer(
    tmp_path: Path, mode: str, pool_size: int, apis: int, workers: int, **settings: str
) -> Iterator[tuple[PgBouncer, Deployment]]:
    """PgBouncer and the processes behind it, all stopped however the test ends."""
    with contextlib.ExitStack() as stack:
        bouncer = PgBouncer(os.environ["DATABASE_URL"], mode, pool_size)
        stack.callback(bouncer.stop)
        bouncer.start()
        deployment = Deployment(bouncer.url(), tmp_path, **settings)
        stack.callback(deployment.stop)
        deployment.start(apis, workers)
        yield bouncer, deployment


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`reactbin migrate` through a transaction-mode PgBouncer (a fresh database's
    whole history when this file runs alone)."""
    workdir = tmp_path_factory.mktemp("migrate")
    bouncer = PgBouncer(os.environ["DATABASE_URL"], "transaction", 2)
    try:
        bouncer.start()
        env = {**os.environ, "DATABASE_URL": bouncer.url(), "DATABASE_POOLER": "transaction"}
        result = subprocess.run(
            [rig.reactbin_executable(), "migrate"],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        bouncer.stop()


def own_copy(sample: Path) -> bytes:
    """The sample with one corner pixel changed: the same text to recognise, other
    bytes, so that this test's image (left in the library) is no duplicate of the
    one another cluster test uploads (tests/cluster/test_worker_crash.py)."""
    with PILImage.open(sample) as image:
        copy = image.convert("RGB")
    pixel = copy.getpixel((0, 0))
    assert isinstance(pixel, tuple)
    copy.putpixel((0, 0), tuple(255 - channel for channel in pixel))
    out = io.BytesIO()
    copy.save(out, "PNG")
    return out.getvalue()


async def owner_token(deployment: Deployment) -> str:
    from mixedload import login  # scripts/, on the path once the package's conftest ran

    env = deployment.env
    async with direct(deployment.apis[0]) as http:
        return str(await login(http, env["OWNER_USERNAME"], env["OWNER_PASSWORD"]))


def unique_png() -> bytes:
    # The library is shared with the other cluster tests: bytes no one uploaded.
    return png_bytes(seed=secrets.randbelow(2**40) + 2**20)


def five_letters() -> tuple[str, str]:
    """A word of five different letters, and its typo with the middle pair swapped: they
    share 2 of 6 trigrams (similarity 0.2), under pg_trgm's default threshold (0.3) and
    over the typo search's (0.15), so only a search that set its threshold finds it."""
    letters = secrets.SystemRandom().sample("bcdfghjkmnpqrstvwxz", 5)
    right = "".join(letters)
    return right, right[:2] + right[3] + right[2] + right[4:]


def postgresql_url() -> str:
    """The test PostgreSQL itself, not through any pooler (libpq form)."""
    return os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)


async def database(sql: str, *args: Any) -> list[asyncpg.Record]:
    """Straight to PostgreSQL, as the test's own eyes."""
    connection = await asyncpg.connect(postgresql_url())
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def test_session_mode_keeps_the_cache_exact_across_processes(
    migrated: None, tmp_path: Path
) -> None:
    """Two servers, cache on, each LISTENing through the pooler. DATABASE_POOLER=session
    only moves plan_cache_mode from the startup packet (which PgBouncer refuses) to a SET."""
    with behind_pgbouncer(
        tmp_path, "session", 20, apis=2, workers=0, DATABASE_POOLER="session"
    ) as (_bouncer, deployment):
        auth = {"Authorization": f"Bearer {await owner_token(deployment)}"}
        first, second = deployment.apis
        made = []
        async with direct(first, headers=auth) as one, direct(second, headers=auth) as other:
            for _round in range(2):
                title, tag = word(), word()
                by_title, by_tag = {"q": title}, {"tag": tag}
                assert await cached_ids(other, by_title) == set()
                files = {"file": ("s.png", unique_png(), "image/png")}
                created = await one.post("/api/v1/images", files=files, data={"title": title})
                assert created.status_code == 201, created.text
                image = created.json()["id"]
                made.append(image)
                assert await ids(other, by_title) == {image}

                assert await cached_ids(one, by_tag) == set()
                edited = await other.patch(f"/api/v1/images/{image}", json={"tags": [tag]})
                assert edited.status_code == 200
                assert await ids(one, by_tag) == {image}

                assert await cached_ids(other, by_tag) == {image}
                assert (await one.delete(f"/api/v1/images/{image}")).status_code == 204
                assert await ids(other, by_tag) == set()
                assert await ids(other, by_title) == set()
        assert deployment.errors() == []
    # No worker here: their jobs are not left to the other tests' workers.
    await database("DELETE FROM procrastinate_jobs WHERE args->>'image_id' = ANY($1)", made)


async def test_transaction_mode_shares_two_server_connections_between_everything(
    migrated: None, tmp_path: Path
) -> None:
    with behind_pgbouncer(
        tmp_path,
        "transaction",
        SHARED_SERVER_CONNECTIONS,
        apis=2,
        workers=1,
        DATABASE_POOLER="transaction",
    ) as (bouncer, deployment):
        # The same library seen straight from PostgreSQL, to compare the answers with.
        plain = Deployment(os.environ["DATABASE_URL"], tmp_path / "plain", RESPONSE_CACHE_MB="0")
        try:
            plain.start(apis=1, workers=0)
            await _transaction_mode(bouncer, deployment, plain.apis[0])
        finally:
            plain.stop()
        assert deployment.errors() == []


async def _transaction_mode(
    bouncer: PgBouncer, deployment: Deployment, unpooled: rig.ApiProcess
) -> None:
    auth = {"Authorization": f"Bearer {await owner_token(deployment)}"}
    first, second = deployment.apis
    words = [five_letters() for _ in range(4)]
    tag = word()
    async with (
        direct(first, headers=auth) as one,
        direct(second, headers=auth) as other,
        direct(unpooled) as reference,
    ):
        # Uploads through both processes at once: more clients than server connections.
        async def upload(http: httpx.AsyncClient, title: str, data: bytes) -> str:
            files = {"file": ("t.png", data, "image/png")}
            response = await http.post("/api/v1/images", files=files, data={"title": title})
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        fine = own_copy(SAMPLES / "ocr" / "this_is_fine.png")
        uploads = [
            upload(one if i % 2 else other, right, unique_png())
            for i, (right, _typo) in enumerate(words)
        ]
        uploads.append(upload(one, word(), fine))
        *by_word, ocr_image = await asyncio.gather(*uploads)

        # Typo searches, many at once on both processes: each sets its trigram threshold
        # for its own transaction, whichever server connection that is.
        async def search(http: httpx.AsyncClient, q: str) -> list[str]:
            response = await http.get("/api/v1/images", params={"q": q})
            assert response.status_code == 200, response.text
            assert "x-cache" not in response.headers  # the cache is off
            return [item["id"] for item in response.json()["items"]]

        asked = [(http, typo) for http in (one, other) for _right, typo in words] * 2
        answers = await asyncio.gather(*(search(http, typo) for http, typo in asked))
        for (_http, typo), answer in zip(asked, answers, strict=True):
            expected = await search(reference, typo)
            assert answer == expected, typo
            assert by_word[[t for _r, t in words].index(typo)] in answer, typo
        # ...and it stayed in those transactions: no server connection kept it.
        assert await _thresholds_on_every_server_connection(bouncer) <= {None, "0.3"}

        listed = await one.get("/api/v1/images", params={"limit": 50})
        assert listed.status_code == 200
        assert set(by_word) <= {item["id"] for item in listed.json()["items"]}

        image = by_word[0]
        edited = await other.patch(f"/api/v1/images/{image}", json={"tags": [tag]})
        assert edited.status_code == 200
        assert await search(one, tag) == [image]
        assert (await one.delete(f"/api/v1/images/{image}")).status_code == 204
        assert await search(other, tag) == []
        assert (await other.get(f"/api/v1/images/{image}")).status_code == 404

        # The worker finished the uploads' jobs through the pooler (none left to the
        # other tests' workers either).
        deadline = time.monotonic() + JOBS_WITHIN_S
        while await database(
            "SELECT 1 FROM procrastinate_jobs WHERE args->>'image_id' = ANY($1)",
            [*by_word, ocr_image],
        ):
            assert time.monotonic() < deadline, "the uploads' jobs were not done in time"
            await asyncio.sleep(0.5)
        fetched = (await one.get(f"/api/v1/images/{ocr_image}")).json()
        assert "FINE" in (fetched["ocr_text"] or "").upper()
        made = await database("SELECT format FROM renditions WHERE image_id = $1", ocr_image)
        assert sorted(row["format"] for row in made) == sorted(STILL_FORMATS)

    servers = bouncer.show("SERVERS")
    assert len(servers) <= SHARED_SERVER_CONNECTIONS, servers
    assert len(bouncer.show("CLIENTS")) > SHARED_SERVER_CONNECTIONS


async def _thresholds_on_every_server_connection(bouncer: PgBouncer) -> set[str | None]:
    """pg_trgm.similarity_threshold as each server connection has it: as many clients
    as there are server connections, each holding one in a transaction at once."""
    clients = [
        await asyncpg.connect(bouncer.url("postgresql"), statement_cache_size=0)
        for _ in range(SHARED_SERVER_CONNECTIONS)
    ]
    try:
        transactions = [client.transaction() for client in clients]
        for transaction in transactions:
            await transaction.start()
        found = {
            await client.fetchval("SELECT current_setting('pg_trgm.similarity_threshold', true)")
            for client in clients
        }
        pids = {await client.fetchval("SELECT pg_backend_pid()") for client in clients}
        assert len(pids) == SHARED_SERVER_CONNECTIONS  # every one of them was looked at
        for transaction in transactions:
            await transaction.rollback()
        return found
    finally:
        for client in clients:
            await client.close()


async def test_listen_through_a_transaction_pooler_misses_notifications() -> None:
    """Why the response cache is refused there: it is cleared by NOTIFY (app/readcache),
    and a LISTEN made through a transaction-mode pooler is left on a server connection
    that goes back to the pool. The same LISTEN through session mode hears it."""
    heard: dict[str, bool] = {}
    for mode in ("session", "transaction"):
        bouncer = PgBouncer(os.environ["DATABASE_URL"], mode, 2)
        try:
            bouncer.start()
            heard[mode] = await _hears_notify(bouncer)
        finally:
            bouncer.stop()
    assert heard == {"session": True, "transaction": False}


async def _hears_notify(bouncer: PgBouncer) -> bool:
    channel = "reactbin_pooler_test"
    arrived = asyncio.Event()
    listener = await asyncpg.connect(bouncer.url("postgresql"), statement_cache_size=0)
    try:
        await listener.add_listener(channel, lambda *_: arrived.set())
        sender = await asyncpg.connect(postgresql_url())
        try:
            await sender.execute(f"NOTIFY {channel}, 'changed'")
        finally:
            await sender.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), NOTIFY_WAIT_S)
        return arrived.is_set()
    finally:
        listener.terminate()


def test_the_response_cache_is_refused_with_a_transaction_pooler(tmp_path: Path) -> None:
    env = {
        **rig.cluster_environment({**os.environ}, tmp_path / "data"),
        "DATABASE_POOLER": "transaction",
        "RESPONSE_CACHE_MB": "64",
    }
    result = subprocess.run(
        [rig.reactbin_executable(), "serve", "--port", str(rig.testenv.free_ports(1)[0])],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "RESPONSE_CACHE_MB must be 0 with DATABASE_POOLER=transaction" in lines[0]
