"""The cluster rig for these tests: the PostgreSQL and SeaweedFS of `make test`
(scripts/testenv.py), two `reactbin serve`, two `reactbin worker` and nginx in front
(scripts/cluster.py), once for the session. A FaultProxy sits between every
reactbin process and S3, so a test can take S3 away from all of them at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.faults import FaultProxy

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import cluster as rig  # noqa: E402
import mixedload  # noqa: E402

# Loopback addresses the tests' clients connect from (all of 127/8 is loopback on
# Linux): the proxy sees them as different client addresses, as it would real clients.
CLIENT = "127.0.0.2"


@pytest.fixture(scope="session")
def s3_proxy() -> Iterator[FaultProxy]:
    endpoint = urlsplit(os.environ["S3_ENDPOINT_URL"])
    assert endpoint.hostname, "run through `make test-cluster`"
    assert endpoint.port, "run through `make test-cluster`"
    proxy = FaultProxy(endpoint.hostname, endpoint.port).start()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(scope="session")
def cluster(
    s3_proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[rig.Cluster]:
    spool = tmp_path_factory.mktemp("spool")
    extra = {
        "S3_ENDPOINT_URL": s3_proxy.url,
        "UPLOAD_TMP_DIR": str(spool),
        # A hung store answers 503 in seconds, not after the default 20 s; not
        # fewer than 10: a rendition streamed from S3 through the FaultProxy (a
        # thread of this process) stalled over 3 s once on a loaded machine, and
        # the read timeout cut the 5 MB download in the middle.
        "STORAGE_TIMEOUT_SECONDS": "10",
    }
    services = {**os.environ}
    keep = bool(os.environ.get("REACTBIN_CLUSTER_KEEP"))  # the processes' logs, to read
    with rig.Cluster(services, extra_env=extra, keep=keep) as running:
        yield running


@pytest.fixture(autouse=True)
def cluster_whole(cluster: rig.Cluster) -> Iterator[None]:
    """Every test starts and leaves the cluster complete (a failed test may have
    left a process stopped); S3 reachable again."""
    _restore(cluster)
    yield
    _restore(cluster)
    _drain_jobs()


# Jobs a test left (the load tests upload ~20 images, two jobs each) are worked off
# before the next test: otherwise they queue ahead of its own jobs, and on a busy
# machine a test waiting for "its" job waited for the previous test's backlog.
DRAIN_WITHIN_S = 300.0


def _drain_jobs() -> None:
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    deadline = time.monotonic() + DRAIN_WITHIN_S
    with psycopg.connect(url, autocommit=True) as connection:
        while True:
            row = connection.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
                " OR (status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now()))"
            ).fetchone()
            if row is None or row[0] == 0:
                break
            assert time.monotonic() < deadline, f"{row[0]} jobs still queued after the test"
            time.sleep(0.5)
        # Retries of jobs that failed while S3 was away, scheduled minutes ahead.
        connection.execute("DELETE FROM procrastinate_jobs WHERE status = 'todo'")


def _restore(cluster: rig.Cluster) -> None:
    for process in (*cluster.apis, *cluster.workers):
        process.signal(signal.SIGCONT)  # a test may have paused a worker
        if not process.running():
            process.start()


@pytest.fixture(scope="session")
async def token(cluster: rig.Cluster) -> str:
    async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as client:
        return await mixedload.login(client, *cluster.owner)


@pytest.fixture
async def client(cluster: rig.Cluster, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """Through the proxy, as the owner."""
    transport = httpx.AsyncHTTPTransport(local_address=CLIENT)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=cluster.url, transport=transport, headers=headers, timeout=60
    ) as http:
        yield http


def direct(api: rig.ApiProcess, **kwargs: Any) -> httpx.AsyncClient:
    """Straight to one API process, bypassing the proxy."""
    return httpx.AsyncClient(base_url=api.url, timeout=30, **kwargs)


async def in_thread(function: Any, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)
