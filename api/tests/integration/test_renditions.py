"""Renditions: made by the worker after upload, stored, served, deleted, checked, rebuilt."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image as PILImage
from sqlalchemy import text

from app import consistency
from app.config import Settings
from app.jobs.queue import WorkerResources, run_worker
from app.renditions import job as rendition_job
from app.renditions.formats import FORMATS, STILL_FORMATS, rendition_key
from app.renditions.repository import renditions_for
from tests.integration.helpers import State, create_image, gif_bytes, png_bytes


def _moving_gif(frames: int = 4, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small animation whose frames differ (a square moves), 100 ms a frame."""
    images = []
    for index in range(frames):
        image = PILImage.new("RGB", size, (30, 90, 160))
        image.paste((250, 200, 20), (index * 8, 10, index * 8 + 12, 22))
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


async def _work_off_the_queue(app: FastAPI) -> None:
    resources = WorkerResources(app.state.sessionmaker, app.state.storage, app.state.settings)
    await run_worker(app.state.queue, resources, wait=False)


async def _rows(app: FastAPI, image_id: str) -> dict[str, Any]:
    async with app.state.sessionmaker() as session:
        return (await renditions_for(session, [image_id])).get(image_id, {})


async def _renditions_at(app: FastAPI, image_id: str) -> Any:
    async with app.state.sessionmaker() as session:
        result = await session.execute(
            text("SELECT renditions_at FROM images WHERE id = :id"), {"id": image_id}
        )
        return result.scalar_one()


async def _jobs_not_succeeded(app: FastAPI) -> int:
    """Rendition jobs failed or waiting for a retry (the text-recognition job is not ours)."""
    async with app.state.sessionmaker() as session:
        result = await session.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'make_renditions' AND status <> 'succeeded'"
            )
        )
        return int(result.scalar_one())


async def test_the_worker_makes_every_format_of_an_animation(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = _moving_gif()
    image = await create_image(authed_client, data)
    assert await _rows(app, image["id"]) == {}  # the upload does not wait for them
    assert await _renditions_at(app, image["id"]) is None
    await _work_off_the_queue(app)
    rows = await _rows(app, image["id"])
    assert sorted(rows) == sorted(FORMATS)
    assert await _renditions_at(app, image["id"]) is not None
    stored = {info.key: info.size async for info in state.storage.list(f"images/{image['id']}/")}
    for fmt, row in rows.items():
        if row.key != f"images/{image['id']}/original.gif":
            assert row.key == rendition_key(image["id"], fmt, row.mime_type)
        assert stored[row.key] == row.size_bytes, fmt
        assert row.duration == (0 if fmt == "preview" else pytest.approx(0.4)), fmt
    # The original GIF itself, not a second copy of it.
    assert rows["gif"].key == f"images/{image['id']}/original.gif"
    assert rows["gif"].size_bytes == len(data)
    # Every object is a row's (or the thumbnail); a tiny GIF's mediumgif may be the original too.
    assert set(stored) == {row.key for row in rows.values()} | {
        f"images/{image['id']}/thumbnail.webp"
    }
    assert (rows["tinymp4"].mime_type, rows["webm"].mime_type) == ("video/mp4", "video/webm")
    assert await _jobs_not_succeeded(app) == 0


async def test_a_still_gets_still_renditions_only(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, png_bytes(7, size=(300, 200)))
    await _work_off_the_queue(app)
    rows = await _rows(app, image["id"])
    assert sorted(rows) == sorted(STILL_FORMATS)
    assert all(row.duration == 0 for row in rows.values())
    assert (rows["tinygif"].width, rows["tinygif"].height) == (220, 147)
    assert (rows["nanogif"].width, rows["nanogif"].height) == (135, 90)
    gif = await client.get(f"/f/{image['id']}/gif.gif")
    assert getattr(PILImage.open(io.BytesIO(gif.content)), "n_frames", 1) == 1
    assert (await client.get(f"/f/{image['id']}/mp4.mp4")).status_code == 404


async def test_a_rendition_is_served_like_the_original(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _moving_gif(size=(300, 120)))
    await _work_off_the_queue(app)
    row = (await _rows(app, image["id"]))["tinygif"]
    [result] = (await client.get("/v2/posts", params={"ids": image["id"]})).json()["results"]
    url = result["media_formats"]["tinygif"]["url"]  # this build's URL: `?v=` its version
    assert url.startswith(f"http://testserver/f/{image['id']}/tinygif.gif?v=")
    response = await client.get(url)
    assert response.status_code == 200
    body = response.content
    assert len(body) == row.size_bytes
    assert PILImage.open(io.BytesIO(body)).size == (220, 88)
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Any other URL of it (no or an old `?v=`) is the same bytes, revalidated on each use.
    plain = await client.get(f"/f/{image['id']}/tinygif.gif")
    assert plain.content == body
    assert plain.headers["cache-control"] == "public, no-cache"
    assert response.headers["accept-ranges"] == "bytes"
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag != f'"{image["sha256"]}"'
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    ranged = await client.get(url, headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert ranged.content == body[:10]
    assert ranged.headers["content-range"] == f"bytes 0-9/{len(body)}"
    head = await client.head(url)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(body))
    video = await client.get(f"/f/{image['id']}/mp4.mp4")
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"


async def test_unknown_or_mismatched_renditions_are_404(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _moving_gif())
    pending = f"/f/{image['id']}/tinygif.gif"
    assert (await client.get(pending)).status_code == 404  # not made yet
    await _work_off_the_queue(app)
    assert (await client.get(pending)).status_code == 200
    for path in (
        f"/f/{image['id']}/tinygif.mp4",  # never another format under a wrong extension
        f"/f/{image['id']}/tinygif",
        f"/f/{image['id']}/original.gif",
        f"/f/{image['id']}/..%2Foriginal.gif",
        "/f/AAAAAAAAAA/tinygif.gif",
        "/f/not-an-id/tinygif.gif",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/json")
    # The direct link of the original is untouched by the rendition routes.
    assert (await client.get(f"/f/{image['id']}.gif")).status_code == 200


async def test_deleting_an_image_deletes_its_renditions(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, _moving_gif())
    await _work_off_the_queue(app)
    assert len(await state.object_keys()) > len(FORMATS) // 2
    assert (await authed_client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    assert await state.row_count("renditions") == 0
    assert len(await state.object_keys()) > len(FORMATS) // 2  # kept while in the trash
    assert (await authed_client.delete(f"/api/v1/trash/{image['id']}")).status_code == 204
    assert await state.object_keys() == []


async def test_a_job_for_a_deleted_image_leaves_nothing(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, _moving_gif())
    assert (await authed_client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    assert (await authed_client.delete(f"/api/v1/trash/{image['id']}")).status_code == 204
    await _work_off_the_queue(app)
    assert await state.object_keys() == []
    assert await _jobs_not_succeeded(app) == 0


async def test_an_image_deleted_while_its_renditions_are_made(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = await create_image(authed_client, _moving_gif())
    forget_old = rendition_job._forget_old

    async def delete_then_forget(resources: WorkerResources, image_id: str) -> list[str]:
        # The owner deletes the image after the encoding, before the objects are written.
        response = await authed_client.delete(f"/api/v1/images/{image_id}")
        assert response.status_code == 204
        return await forget_old(resources, image_id)

    monkeypatch.setattr(rendition_job, "_forget_old", delete_then_forget)
    await _work_off_the_queue(app)
    # What the job wrote was deleted again; the trash keeps the original and thumbnail.
    expected = [f"images/{image['id']}/original.gif", f"images/{image['id']}/thumbnail.webp"]
    assert sorted(await state.object_keys()) == expected
    assert await state.row_count("renditions") == 0


async def test_a_corrupt_original_does_not_stop_the_worker(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    broken = await create_image(authed_client, _moving_gif())
    fine = await create_image(authed_client, gif_bytes(5, frames=2))
    key = f"images/{broken['id']}/original.gif"
    await state.storage.put_bytes(key, b"GIF89a" + b"\x00garbage" * 20, "image/gif")
    await _work_off_the_queue(app)
    assert await _rows(app, broken["id"]) == {}
    assert await _renditions_at(app, broken["id"]) is None  # still pending
    assert sorted(await _rows(app, fine["id"])) == sorted(FORMATS)
    assert await _jobs_not_succeeded(app) == 0  # given up on, not retried forever
    assert not any(
        "/renditions/" in key for key in await state.object_keys() if broken["id"] in key
    )
    assert state.temp_files() == []


async def test_check_counts_renditions_and_repairs_a_missing_object(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, _moving_gif())
    await _work_off_the_queue(app)
    report = await consistency.check(app.state.sessionmaker, app.state.storage)
    assert report.consistent
    assert report.renditions == len(FORMATS)
    keys = {row.key for row in (await _rows(app, image["id"])).values()}
    assert report.objects == len(keys) + 1  # and the thumbnail
    await state.storage.delete(f"images/{image['id']}/renditions/tinymp4.mp4")
    found = await consistency.check(app.state.sessionmaker, app.state.storage)
    assert found.missing_renditions == [f"{image['id']}/tinymp4"]
    assert not found.consistent
    repaired = await consistency.check(
        app.state.sessionmaker, app.state.storage, repair=True, queue=app.state.queue
    )
    assert repaired.consistent
    assert "tinymp4" not in await _rows(app, image["id"])
    assert (await client.get(f"/f/{image['id']}/tinymp4.mp4")).status_code == 404
    await _work_off_the_queue(app)  # the repair queued a rebuild
    assert (await client.get(f"/f/{image['id']}/tinymp4.mp4")).status_code == 200
    assert (await consistency.check(app.state.sessionmaker, app.state.storage)).consistent


async def test_a_rendition_object_without_a_row_is_an_orphan(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, png_bytes(8))
    await _work_off_the_queue(app)
    stray = f"images/{image['id']}/renditions/mp4.mp4"  # a still has no video
    await state.storage.put_bytes(stray, b"\x00" * 10, "video/mp4")
    young = await consistency.check(app.state.sessionmaker, app.state.storage)
    assert (young.orphans, young.young_orphans) == ([], 1)
    report = await consistency.check(
        app.state.sessionmaker, app.state.storage, repair=True, grace=timedelta(0)
    )
    assert report.orphans == [stray]
    assert report.consistent
    assert stray not in await state.object_keys()
    assert sorted(await _rows(app, image["id"])) == sorted(STILL_FORMATS)


async def _nanomp4_url(client: httpx.AsyncClient, image_id: str) -> str:
    [result] = (await client.get("/v2/posts", params={"ids": image_id})).json()["results"]
    return str(result["media_formats"]["nanomp4"]["url"])


def _reactbin(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "reactbin"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)


async def test_the_renditions_command_builds_pending_images(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _moving_gif())
    queued = _reactbin("renditions")
    assert queued.returncode == 0, queued.stderr
    assert "1 image(s) queued" in queued.stdout
    built = _reactbin("renditions", "--now")
    assert built.returncode == 0, built.stderr
    assert "1 made" in built.stdout
    first = (await client.get(f"/f/{image['id']}/nanomp4.mp4")).headers["etag"]
    first_url = await _nanomp4_url(client, image["id"])
    assert _reactbin("renditions", "--now").stdout.strip() == "Renditions: nothing to do."
    rebuilt = _reactbin("renditions", "--all", "--now")
    assert "1 made" in rebuilt.stdout
    again = await client.get(f"/f/{image['id']}/nanomp4.mp4")
    assert again.status_code == 200
    assert again.headers["etag"] != first  # a rebuild is new bytes to a cache
    # ...and a new URL in every answer, so no cache can hold on to the old bytes.
    new_url = await _nanomp4_url(client, image["id"])
    assert new_url != first_url
    assert (await client.get(new_url)).headers["cache-control"].endswith("immutable")
    assert (await client.get(first_url)).headers["cache-control"] == "public, no-cache"
    assert sorted(await _rows(app, image["id"])) == sorted(FORMATS)


async def test_renditions_for_reads_many_images_at_once(
    app: FastAPI, authed_client: httpx.AsyncClient
) -> None:
    animated = await create_image(authed_client, _moving_gif())
    still = await create_image(authed_client, png_bytes(9))
    await _work_off_the_queue(app)
    pending = await create_image(authed_client, png_bytes(10))
    async with app.state.sessionmaker() as session:
        found = await renditions_for(session, [animated["id"], still["id"], pending["id"]])
        assert await renditions_for(session, []) == {}
    assert sorted(found) == sorted([animated["id"], still["id"]])
    assert sorted(found[animated["id"]]) == sorted(FORMATS)
    assert found[still["id"]]["preview"].mime_type == "image/jpeg"


async def test_the_check_command_reports_and_repairs_a_missing_rendition(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, _moving_gif())
    await _work_off_the_queue(app)
    ok = _reactbin("check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(rf"renditions \(rows\)\W+{len(FORMATS)}\b", ok.stdout)
    await state.storage.delete(f"images/{image['id']}/renditions/webm.webm")
    found = _reactbin("check")
    assert found.returncode == 1
    assert f"missing rendition: {image['id']}/webm" in found.stdout
    fixed = _reactbin("check", "--repair")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    await _work_off_the_queue(app)  # the rebuild the repair queued
    assert (await client.get(f"/f/{image['id']}/webm.webm")).status_code == 200
    assert _reactbin("check").returncode == 0


async def test_the_image_page_offers_the_mp4_link_once_it_exists(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient, settings: Settings
) -> None:
    image = await create_image(authed_client, _moving_gif())
    before = await client.get(f"/i/{image['id']}")
    assert "Copy MP4 link" not in before.text
    await _work_off_the_queue(app)
    page = await client.get(f"/i/{image['id']}")
    assert "Copy MP4 link" in page.text
    assert f'data-copy="{settings.api_base_url}/f/{image["id"]}/mp4.mp4"' in page.text
