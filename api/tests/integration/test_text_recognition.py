"""After an upload, a background job reads the caption, and search finds it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from app.jobs.queue import WorkerResources, run_worker
from tests.integration.helpers import create_image


def _meme(caption: str, seed: int) -> bytes:
    image = PILImage.new("RGB", (480, 270), (40 + seed % 50, 90, 160))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)
    width = draw.textlength(caption, font=font)
    draw.text(
        ((480 - width) / 2, 200),
        caption,
        font=font,
        fill="white",
        stroke_width=3,
        stroke_fill="black",
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def _work_off_the_queue(app: FastAPI) -> None:
    resources = WorkerResources(app.state.sessionmaker, app.state.storage, app.state.settings)
    await run_worker(app.state.queue, resources, wait=False)


async def test_caption_is_recognised_and_searchable(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _meme("THIS IS FINE", 1), title="dog in a room")
    assert image["ocr_text"] is None  # the upload does not wait for it
    await _work_off_the_queue(app)
    fetched = (await client.get(f"/api/v1/images/{image['id']}")).json()
    assert "THIS IS FINE" in fetched["ocr_text"].upper()
    found = (await client.get("/api/v1/images", params={"q": "fine"})).json()["items"]
    assert [item["id"] for item in found] == [image["id"]]


async def test_the_owners_correction_is_never_overwritten(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _meme("SHIP IT", 2))
    await authed_client.patch(f"/api/v1/images/{image['id']}", json={"ocr_text": "ship it!!"})
    await _work_off_the_queue(app)
    assert (await client.get(f"/api/v1/images/{image['id']}")).json()["ocr_text"] == "ship it!!"


async def test_a_job_for_a_deleted_image_is_skipped(
    app: FastAPI, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _meme("NOPE", 3))
    assert (await authed_client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    await _work_off_the_queue(app)  # finishes without error, nothing to do
    async with app.state.sessionmaker() as session:
        from sqlalchemy import text

        left = await session.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'")
        )
        assert left.scalar_one() == 0


async def test_reprocess_command_queues_pending_images(
    app: FastAPI, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _meme("MIND BLOWN", 4))
    await _work_off_the_queue(app)
    reactbin = str(Path(sys.executable).parent / "reactbin")
    result = subprocess.run(
        [reactbin, "reprocess", "--all"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 image(s) queued" in result.stdout
    await _work_off_the_queue(app)
    async with app.state.sessionmaker() as session:
        from sqlalchemy import text

        done = await session.execute(
            text("SELECT processed_at IS NOT NULL FROM images WHERE id = :id"), {"id": image["id"]}
        )
        assert done.scalar_one() is True
