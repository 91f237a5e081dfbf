"""A worker killed (SIGKILL) in the middle of a job: the other worker finishes it.

procrastinate leaves the job of a dead worker `doing`; every `reactbin worker` looks
for jobs of workers whose heartbeat stopped and queues them again (app/jobs/queue.py).
Both jobs are safe to run twice: they rewrite the same rows and objects."""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from PIL import Image as PILImage

from app.renditions.formats import FORMATS, rendition_path
from tests.cluster.conftest import in_thread, rig

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
# Heartbeat silence before a job counts as stalled (20 s), the recovery period (5 s),
# and the job itself on a busy 2-core machine.
FINISHED_WITHIN_S = 180.0
pytestmark = pytest.mark.timeout(600)


def noisy_gif(seed: int, frames: int = 48, size: tuple[int, int] = (320, 240)) -> bytes:
    """Frames of noise: slow to encode, so the kill lands in the middle."""
    rng = random.Random(seed)
    images = [
        PILImage.frombytes("L", size, rng.randbytes(size[0] * size[1])).convert("P")
        for _ in range(frames)
    ]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def database() -> str:
    return os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)


async def jobs_of(image_id: str) -> dict[str, tuple[str, int]]:
    """{task name: (status, attempts)} of the image's jobs still in the queue."""
    connection = await asyncpg.connect(database())
    try:
        rows = await connection.fetch(
            "SELECT task_name, status::text, attempts FROM procrastinate_jobs"
            " WHERE args->>'image_id' = $1",
            image_id,
        )
    finally:
        await connection.close()
    return {row["task_name"]: (row["status"], row["attempts"]) for row in rows}


async def renditions_of(image_id: str) -> dict[str, tuple[str, int]]:
    connection = await asyncpg.connect(database())
    try:
        rows = await connection.fetch(
            "SELECT format, mime_type, size_bytes FROM renditions WHERE image_id = $1", image_id
        )
    finally:
        await connection.close()
    return {row["format"]: (row["mime_type"], row["size_bytes"]) for row in rows}


async def wait_for(what: str, timeout: float, check: object) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        await asyncio.sleep(0.2)


def recoveries(worker: rig.WorkerProcess) -> int:
    return worker.log_path.read_text().count('"jobs.recovered"')


def check_consistent(cluster: rig.Cluster) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [rig.reactbin_executable(), "check"],
        env=cluster.env,
        cwd=cluster.dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("task", "name", "data", "mime"),
    [
        ("process_image", "fine.png", (SAMPLES / "ocr" / "this_is_fine.png").read_bytes(), "png"),
        ("make_renditions", "noise.gif", noisy_gif(7), "gif"),
    ],
)
async def test_a_job_of_a_killed_worker_is_finished_by_the_other(
    cluster: rig.Cluster, client: httpx.AsyncClient, task: str, name: str, data: bytes, mime: str
) -> None:
    doomed, survivor = cluster.workers
    recovered_before = recoveries(survivor)
    for worker in cluster.workers:
        worker.signal(signal.SIGSTOP)  # neither takes the jobs before the test says so
    created = await client.post("/api/v1/images", files={"file": (name, data, f"image/{mime}")})
    assert created.status_code == 201
    image = created.json()["id"]
    doomed.signal(signal.SIGCONT)

    async def in_hand() -> bool:
        return (await jobs_of(image)).get(task, ("", 0))[0] == "doing"

    await wait_for(f"{task} taken by {doomed.name}", 60, in_hand)
    doomed.signal(signal.SIGKILL)  # at once: a small image's text job takes well under 1 s
    assert (await jobs_of(image)).get(task, ("", 0))[0] == "doing", "the job ended before the kill"
    await in_thread(doomed.wait, 10.0)
    survivor.signal(signal.SIGCONT)

    async def all_done() -> bool:
        return await jobs_of(image) == {}  # successful jobs are deleted

    await wait_for("both jobs finished by the other worker", FINISHED_WITHIN_S, all_done)
    assert recoveries(survivor) > recovered_before, "the job was not recovered from the dead worker"
    fetched = (await client.get(f"/api/v1/images/{image}")).json()
    if task == "process_image":
        assert "FINE" in (fetched["ocr_text"] or "").upper()
    else:
        made = await renditions_of(image)
        assert sorted(made) == sorted(FORMATS)
        for fmt, (mime_type, size) in made.items():
            got = await client.get(rendition_path(image, fmt, mime_type))
            assert got.status_code == 200
            assert len(got.content) == size
    report = await in_thread(check_consistent, cluster)
    assert report.returncode == 0, report.stdout + report.stderr
