"""PostgreSQL restarted and S3 taken away while two API processes and two workers are
under load: the promises of the single-process fault tests (tests/integration/
test_faults.py) hold for the cluster. A clear 503 while a service is away (never a
500, a 502 or a hang), nothing half-stored, and everything working again by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.cluster.conftest import CLIENT, in_thread, mixedload, rig
from tests.cluster.test_cache_across_processes import cached_ids, ids, word
from tests.cluster.test_worker_crash import check_consistent, jobs_of, wait_for
from tests.faults import FaultProxy, PgCluster
from tests.integration.helpers import png_bytes

# The load's jobs are worked off inside the test: minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(600)

# Routes that need S3 (the rest answer from PostgreSQL alone).
NEEDS_S3 = {"file", "thumbnail", "upload"}


async def under_load(
    cluster: rig.Cluster, token: str, fault: Callable[[], Awaitable[None]]
) -> mixedload.MixedLoad:
    load = mixedload.MixedLoad(
        cluster.url, token, rate=10, upload_every=0.5, edit_every=1.0, local_address=CLIENT
    )
    stop = asyncio.Event()
    running = asyncio.create_task(load.run(3600, stop))
    try:
        await asyncio.sleep(3)
        await fault()
        await asyncio.sleep(8)  # after the fault, long enough to see everything work again
    finally:
        stop.set()
        await running
    return load


def after(load: mixedload.MixedLoad, seconds: float) -> list[mixedload.Outcome]:
    return [o for o in load.outcomes if o.at >= seconds]


async def still_whole(
    cluster: rig.Cluster, client: httpx.AsyncClient, load: mixedload.MixedLoad
) -> None:
    """Every 201 image intact, nothing half-stored, both caches following changes."""
    assert await mixedload.damaged_uploads(cluster.url, load.uploaded) == []
    report = await in_thread(check_consistent, cluster)
    assert report.returncode == 0, report.stdout + report.stderr
    tag = word()
    second = cluster.apis[1]
    async with httpx.AsyncClient(base_url=second.url, timeout=30) as other:
        assert await cached_ids(other, {"tag": tag}) == set()
        created = await client.post(
            "/api/v1/images",
            files={"file": ("after.png", png_bytes(seed=abs(hash(tag)) % 100000), "image/png")},
            data={"tags": tag},
        )
        assert created.status_code == 201
        image = created.json()["id"]
        assert await ids(other, {"tag": tag}) == {image}

    async def processed() -> bool:
        return await jobs_of(image) == {}

    await wait_for("the workers to process a new upload", 300, processed)


async def test_postgresql_restart_under_load(
    cluster: rig.Cluster, client: httpx.AsyncClient, token: str
) -> None:
    pg = PgCluster()
    marks: dict[str, float] = {}

    async def restart() -> None:
        await in_thread(pg.stop)
        await asyncio.sleep(2)
        await in_thread(pg.start)
        marks["back"] = asyncio.get_running_loop().time()

    started = asyncio.get_running_loop().time()
    try:
        load = await under_load(cluster, token, restart)
    finally:
        await in_thread(pg.ensure_running)
    unclear = [o for o in load.failures() if o.status != 503]
    assert unclear == [], "only clear 503s while PostgreSQL is away"
    assert any(o.status == 503 for o in load.failures()), "the outage was felt (else no test)"
    recovered_by = marks["back"] - started + 3  # the pools and listeners reconnect
    assert [o for o in after(load, recovered_by) if o.status != 200 and o.status != 201] == []
    await still_whole(cluster, client, load)


async def test_s3_outage_under_load(
    cluster: rig.Cluster, client: httpx.AsyncClient, token: str, s3_proxy: FaultProxy
) -> None:
    marks: dict[str, float] = {}

    async def outage() -> None:
        await in_thread(s3_proxy.refuse)
        await asyncio.sleep(4)
        await in_thread(s3_proxy.resume)
        marks["back"] = asyncio.get_running_loop().time()

    started = asyncio.get_running_loop().time()
    try:
        load = await under_load(cluster, token, outage)
    finally:
        await in_thread(s3_proxy.resume)
    failures = load.failures()
    assert [o for o in failures if o.status != 503] == [], "only clear 503s while S3 is away"
    assert {o.kind for o in failures} <= NEEDS_S3, "what needs no S3 kept working"
    assert failures, "the outage was felt (else no test)"
    recovered_by = marks["back"] - started + 1
    assert [o for o in after(load, recovered_by) if o.status not in (200, 201)] == []
    await still_whole(cluster, client, load)
