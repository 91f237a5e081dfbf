"""`reactbin check`: database and bucket agree, and `--repair` makes them agree."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from PIL import Image as PILImage

from app import consistency
from tests.integration.helpers import State, create_image, png_bytes


async def test_a_consistent_library_passes(app: FastAPI, authed_client: httpx.AsyncClient) -> None:
    await create_image(authed_client, png_bytes(1))
    report = await consistency.check(app.state.sessionmaker, app.state.storage)
    assert report.rows == 1
    assert report.objects == 2
    assert report.consistent
    assert report.orphans == report.missing_originals == report.missing_thumbnails == []


async def test_orphans_are_reported_after_the_grace_period_and_repaired(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    kept = await create_image(authed_client, png_bytes(1))
    await state.storage.put_bytes("images/ORPHAN0001/original.png", png_bytes(2), "image/png")
    young = await consistency.check(app.state.sessionmaker, app.state.storage)
    assert young.orphans == []
    assert young.young_orphans == 1
    report = await consistency.check(app.state.sessionmaker, app.state.storage, grace=timedelta(0))
    assert report.orphans == ["images/ORPHAN0001/original.png"]
    assert not report.consistent
    repaired = await consistency.check(
        app.state.sessionmaker, app.state.storage, repair=True, grace=timedelta(0)
    )
    assert repaired.consistent
    assert sorted(await state.object_keys()) == sorted(
        [f"images/{kept['id']}/original.png", f"images/{kept['id']}/thumbnail.webp"]
    )


async def test_missing_thumbnail_is_rebuilt(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, png_bytes(3, size=(640, 320)))
    await state.storage.delete(f"images/{image['id']}/thumbnail.webp")
    report = await consistency.check(app.state.sessionmaker, app.state.storage, repair=True)
    assert report.missing_thumbnails == [image["id"]]
    assert report.consistent
    thumb = await client.get(image["thumbnail_url"])
    assert thumb.status_code == 200
    assert PILImage.open(io.BytesIO(thumb.content)).size == (320, 160)


async def test_row_whose_original_vanished_is_reported_then_removed(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, png_bytes(4))
    await state.storage.delete(f"images/{image['id']}/original.png")
    report = await consistency.check(app.state.sessionmaker, app.state.storage)
    assert report.missing_originals == [image["id"]]
    await consistency.check(app.state.sessionmaker, app.state.storage, repair=True)
    assert (await client.get(f"/api/v1/images/{image['id']}")).status_code == 404
    # the thumbnail left behind is now an orphan, removed once it is old enough
    final = await consistency.check(
        app.state.sessionmaker, app.state.storage, repair=True, grace=timedelta(0)
    )
    assert final.consistent
    assert await state.object_keys() == []


async def test_check_command_exit_status(authed_client: httpx.AsyncClient, state: State) -> None:
    await create_image(authed_client, png_bytes(5))
    reactbin = str(Path(sys.executable).parent / "reactbin")
    ok = subprocess.run(
        [reactbin, "check"], capture_output=True, text=True, env=os.environ, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "orphan objects" in ok.stdout
    await state.storage.put_bytes("images/ORPHAN0002/original.png", b"x", "image/png")
    found = subprocess.run(
        [reactbin, "check", "--grace-minutes", "0"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert found.returncode == 1
    assert "orphan: images/ORPHAN0002/original.png" in found.stdout
    fixed = subprocess.run(
        [reactbin, "check", "--repair", "--grace-minutes", "0"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "images/ORPHAN0002/original.png" not in await state.object_keys()
