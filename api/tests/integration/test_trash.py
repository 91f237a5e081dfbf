"""The trash: a delete is undoable for TRASH_DAYS, then the worker purges it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app import consistency
from app.images.trash.job import purge_trash
from app.jobs.queue import WorkerResources
from tests.integration.helpers import State, create_image, gif_bytes, png_bytes, upload


async def _visible(client: httpx.AsyncClient, image: dict[str, Any]) -> dict[str, int]:
    """Every way a visitor can reach an image, and what each answers."""
    image_id = image["id"]
    listed = (await client.get("/api/v1/images")).json()["items"]
    found = (await client.get("/api/v1/images", params={"q": image["title"]})).json()["items"]
    tenor = (await client.get("/v2/posts", params={"ids": image_id})).json()["results"]
    return {
        "get": (await client.get(f"/api/v1/images/{image_id}")).status_code,
        "file": (await client.get(image["url"])).status_code,
        "thumbnail": (await client.get(image["thumbnail_url"])).status_code,
        "page": (await client.get(f"/i/{image_id}")).status_code,
        "listed": int(any(item["id"] == image_id for item in listed)),
        "found": int(any(item["id"] == image_id for item in found)),
        "tenor": len(tenor),
    }


GONE = {"get": 404, "file": 404, "thumbnail": 404, "page": 404, "listed": 0, "found": 0, "tenor": 0}
SHOWN = {
    "get": 200,
    "file": 200,
    "thumbnail": 200,
    "page": 200,
    "listed": 1,
    "found": 1,
    "tenor": 1,
}


async def test_delete_trashes_and_restore_brings_back_every_link(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(
        authed_client, gif_bytes(7, frames=3), title="zebra crossing", tags="zebra,road"
    )
    edited = await authed_client.patch(
        f"/api/v1/images/{image['id']}", json={"ocr_text": "WALK", "description": "stripes"}
    )
    before = edited.json()
    file_before = (await client.get(image["url"])).content
    assert await _visible(client, image) == SHOWN
    keys_before = sorted(await state.object_keys())

    assert (await authed_client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    assert await _visible(client, image) == GONE
    assert (await client.get("/api/v1/tags")).json() == []  # the counts drop with it
    assert sorted(await state.object_keys()) == keys_before  # objects stay
    report = await consistency.check(state.sessionmaker, state.storage, grace=timedelta(0))
    assert report.consistent
    assert report.orphans == []

    trash = await authed_client.get("/api/v1/trash")
    assert trash.status_code == 200
    [item] = trash.json()["items"]
    assert item["id"] == image["id"]
    assert item["tags"] == ["zebra", "road"]
    assert trash.json()["trash_days"] == 30

    restored = await authed_client.post(f"/api/v1/trash/{image['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json() == before
    assert (await client.get(f"/api/v1/images/{image['id']}")).json() == before
    assert (await client.get(image["url"])).content == file_before
    assert await _visible(client, image) == SHOWN
    assert (await client.get("/api/v1/tags")).json() == [
        {"name": "road", "count": 1},
        {"name": "zebra", "count": 1},
    ]
    assert (await authed_client.get("/api/v1/trash")).json()["items"] == []


async def test_trash_routes_are_owner_only_and_refuse_unknown_ids(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, png_bytes(3))
    assert (await authed_client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    for method, path in (
        ("GET", "/api/v1/trash"),
        ("POST", f"/api/v1/trash/{image['id']}/restore"),
        ("DELETE", f"/api/v1/trash/{image['id']}"),
    ):
        response = await client.request(method, path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    for bad in ("AAAAAAAAAA", "short", "x" * 300, "bad%00idxx", "ÄÄÄÄÄÄÄÄÄÄ"):
        for method, path in (
            ("POST", f"/api/v1/trash/{bad}/restore"),
            ("DELETE", f"/api/v1/trash/{bad}"),
        ):
            response = await authed_client.request(method, path)
            assert response.status_code in (404, 422), (bad, response.text)
            assert "detail" in response.json()
    assert (
        await authed_client.get("/api/v1/trash", params={"cursor": "forged"})
    ).status_code == 422
    assert (await authed_client.get("/api/v1/trash", params={"limit": 0})).status_code == 422
    assert await state.row_count("trashed_images") == 1  # nothing changed


async def test_purge_now_removes_the_row_and_every_object(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    kept = await create_image(authed_client, png_bytes(1))
    gone = await create_image(authed_client, png_bytes(2))
    assert (await authed_client.delete(f"/api/v1/images/{gone['id']}")).status_code == 204
    assert (await authed_client.delete(f"/api/v1/trash/{gone['id']}")).status_code == 204
    assert await state.row_count("trashed_images") == 0
    assert all(key.startswith(f"images/{kept['id']}/") for key in await state.object_keys())
    assert (await authed_client.post(f"/api/v1/trash/{gone['id']}/restore")).status_code == 404
    assert (await authed_client.delete(f"/api/v1/trash/{gone['id']}")).status_code == 404
    # The same bytes can be uploaded afresh: a new image, new id.
    again = await upload(authed_client, png_bytes(2))
    assert again.status_code == 201
    assert again.json()["id"] != gone["id"]


async def test_a_byte_identical_upload_restores_the_trashed_image(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = png_bytes(11)
    image = await create_image(authed_client, data, title="original", tags="keep")
    assert (await authed_client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    response = await upload(authed_client, data, title="other title")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["restored_from_trash"] is True
    assert (body["id"], body["title"], body["tags"]) == (image["id"], "original", ["keep"])
    assert response.headers["location"].endswith(f"/api/v1/images/{image['id']}")
    assert await state.row_count("images") == 1
    assert await state.row_count("trashed_images") == 0
    assert len(await state.object_keys()) == 2
    # And the same upload again is the usual duplicate.
    assert (await upload(authed_client, data)).status_code == 409


async def test_restore_refuses_when_the_library_holds_the_same_bytes(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = png_bytes(21)
    first = await create_image(authed_client, data)
    assert (await authed_client.delete(f"/api/v1/images/{first['id']}")).status_code == 204
    # A race the upload path cannot rule out: the same bytes stored under a new id.
    async with app.state.sessionmaker() as session:
        await session.execute(
            text("UPDATE trashed_images SET sha256 = 'x' WHERE id = :id"), {"id": first["id"]}
        )
        await session.commit()
    second = await create_image(authed_client, data)
    async with app.state.sessionmaker() as session:
        await session.execute(
            text("UPDATE trashed_images SET sha256 = :sha WHERE id = :id"),
            {"id": first["id"], "sha": second["sha256"]},
        )
        await session.commit()
    response = await authed_client.post(f"/api/v1/trash/{first['id']}/restore")
    assert response.status_code == 409, response.text
    assert response.json()["id"] == second["id"]
    assert await state.row_count("trashed_images") == 1
    assert await state.row_count("images") == 1


async def test_the_worker_purges_what_is_older_than_trash_days(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    old = await create_image(authed_client, png_bytes(31))
    recent = await create_image(authed_client, png_bytes(32))
    for image in (old, recent):
        assert (await authed_client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    async with app.state.sessionmaker() as session:
        await session.execute(
            text(
                "UPDATE trashed_images SET trashed_at = now() - interval '31 days' WHERE id = :id"
            ),
            {"id": old["id"]},
        )
        await session.commit()
    resources = WorkerResources(app.state.sessionmaker, app.state.storage, app.state.settings)
    assert await purge_trash(resources) == 1
    listed = (await authed_client.get("/api/v1/trash")).json()["items"]
    assert [item["id"] for item in listed] == [recent["id"]]
    assert all(key.startswith(f"images/{recent['id']}/") for key in await state.object_keys())
    # The job is registered with the queue as a periodic task, so every worker runs it.
    periodic = app.state.queue.periodic_registry.periodic_tasks
    assert any(task.task.name == "purge_trash" for task in periodic.values())


async def test_trash_days_zero_deletes_at_once(make_app: Any, migrated: None) -> None:
    async for running in make_app(trash_days=0):
        from tests.integration.conftest import BASE_URL

        transport = httpx.ASGITransport(app=running)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as owner:
            settings = running.state.settings
            token = await owner.post(
                "/api/v1/auth/token",
                data={
                    "username": settings.owner_username,
                    "password": settings.owner_password.get_secret_value(),
                },
            )
            owner.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            state = State(
                running.state.sessionmaker, running.state.storage, settings.upload_tmp_dir
            )
            await state.wipe()
            image = await create_image(owner, png_bytes(41))
            assert (await owner.delete(f"/api/v1/images/{image['id']}")).status_code == 204
            assert await state.object_keys() == []
            assert await state.row_count("trashed_images") == 0
