"""Rolling restart: SIGTERM one API process at a time, start it again, under a steady
mix of reads, searches, uploads and tag edits through the proxy. The process drains
(uvicorn finishes what it has in hand, uploads included); nginx sends what a stopping
process could not take to the other one. No client sees a failure."""

from __future__ import annotations

import asyncio
import signal

from tests.cluster.conftest import CLIENT, in_thread, mixedload, rig


async def restart_each(cluster: rig.Cluster, pause: float) -> list[str]:
    done = []
    for api in cluster.apis:
        await asyncio.sleep(pause)
        api.signal(signal.SIGTERM)
        code = await in_thread(api.wait, 45.0)
        assert code is not None, f"{api.name} did not drain and exit after SIGTERM"
        await in_thread(api.start)
        done.append(f"{api.name} exited {code}")
    await asyncio.sleep(pause)
    return done


async def test_rolling_restart_under_load_fails_no_request(
    cluster: rig.Cluster, token: str
) -> None:
    load = mixedload.MixedLoad(
        cluster.url, token, rate=15, upload_every=0.4, edit_every=1.0, local_address=CLIENT
    )
    stop = asyncio.Event()
    running = asyncio.create_task(load.run(3600, stop))
    try:
        restarted = await restart_each(cluster, pause=4.0)
    finally:
        stop.set()
        await running
    assert len(restarted) == 2
    kinds = {o.kind for o in load.outcomes}
    assert {"upload", "edit", "search", "image"} <= kinds
    assert load.failures() == []
    assert len(load.uploaded) >= 10
    assert await mixedload.damaged_uploads(cluster.url, load.uploaded) == []
