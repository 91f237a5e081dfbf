"""`POST /api/v1/backup/images`: one image back with its id, times and metadata, or nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.helpers import State, create_image, gif_bytes, png_bytes

SAMPLES = Path(__file__).parent.parent / "samples"

ID = "Rst0reId01"


def _fields(data: bytes, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": ID,
        "title": "restored one",
        "description": "as it was",
        "tags": ["old", "kept"],
        "ocr_text": "OWNER FIXED THIS",
        "sha256": hashlib.sha256(data).hexdigest(),
        "created_at": "2024-02-03T04:05:06.123456+00:00",
        "updated_at": "2024-03-04T05:06:07+00:00",
        "share_count": "7",
        "phash": "-1234567890123",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


async def _restore(client: httpx.AsyncClient, data: bytes, **overrides: Any) -> httpx.Response:
    return await client.post(
        "/api/v1/backup/images",
        files={"file": ("x.bin", data, "application/octet-stream")},
        data=_fields(data, **overrides),
    )


async def _stored_bytes(client: httpx.AsyncClient) -> bytes:
    """Bytes exactly as a reactbin server stores them (an upload's cleaned file)."""
    image = await create_image(client, gif_bytes(5, frames=3))
    content = (await client.get(image["url"])).content
    assert (await client.delete(f"/api/v1/images/{image['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/trash/{image['id']}")).status_code == 204
    return content


async def test_restore_keeps_id_times_metadata_and_bytes_and_is_idempotent(
    app: FastAPI, client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = await _stored_bytes(authed_client)
    assert (await client.post("/api/v1/backup/images")).status_code == 401
    response = await _restore(authed_client, data)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "restored"
    image = (await client.get(f"/api/v1/images/{ID}")).json()
    assert image["title"] == "restored one"
    assert image["tags"] == ["old", "kept"]
    assert image["ocr_text"] == "OWNER FIXED THIS"
    assert image["created_at"] == "2024-02-03T04:05:06.123456Z"
    assert image["updated_at"] == "2024-03-04T05:06:07Z"
    assert (await client.get(image["url"])).content == data
    assert (await client.get(image["thumbnail_url"])).status_code == 200
    backup = (await authed_client.get("/api/v1/backup/images")).json()["items"]
    assert [(b["id"], b["share_count"], b["phash"]) for b in backup] == [(ID, 7, -1234567890123)]

    again = await _restore(authed_client, data)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "unchanged"
    assert await state.row_count() == 1
    assert len(await state.object_keys()) == 2
    # Renditions and text recognition are queued for the worker, not copied.
    async with app.state.sessionmaker() as session:
        from sqlalchemy import text

        jobs = await session.execute(
            text("SELECT task_name FROM procrastinate_jobs WHERE args->>'image_id' = :id"),
            {"id": ID},
        )
        assert sorted(jobs.scalars()) == ["make_renditions", "process_image"]


async def test_a_conflicting_id_is_reported_and_never_overwritten(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = await _stored_bytes(authed_client)
    assert (await _restore(authed_client, data)).status_code == 201
    other = png_bytes(99)
    response = await _restore(authed_client, other)
    assert response.status_code == 409
    assert ID in response.json()["detail"]
    assert (await client.get(f"/f/{ID}.gif")).content == data
    # The same bytes under another id: also refused, naming the image that has them.
    elsewhere = await _restore(authed_client, data, id="Other00001")
    assert elsewhere.status_code == 409
    assert elsewhere.json()["id"] == ID
    assert await state.row_count() == 1
    assert len(await state.object_keys()) == 2


@pytest.mark.parametrize(
    ("overrides", "status", "words"),
    [
        ({"id": "../../etc00"}, 422, "id"),
        ({"id": "short"}, 422, "id"),
        ({"id": "bad\x00id0000"}, 422, "id"),
        ({"created_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, 422, "future"),
        ({"updated_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, 422, "future"),
        ({"created_at": "2024-02-03T04:05:06"}, 422, "created_at"),
        ({"created_at": "yesterday"}, 422, "created_at"),
        ({"sha256": "0" * 64}, 422, "sha256"),
        ({"sha256": "NOTAHASH"}, 422, "sha256"),
        ({"title": "x" * 201}, 422, "title"),
        ({"title": "nul\x00"}, 422, "title"),
        ({"share_count": "-1"}, 422, "share_count"),
        ({"share_count": "9" * 40}, 422, "share_count"),
        ({"phash": str(2**64)}, 422, "phash"),
        ({"tags": [f"t{n}" for n in range(21)]}, 422, "tags"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
async def test_refusals_store_nothing(
    authed_client: httpx.AsyncClient,
    state: State,
    overrides: dict[str, Any],
    status: int,
    words: str,
) -> None:
    data = await _stored_bytes(authed_client)
    response = await _restore(authed_client, data, **overrides)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    await state.assert_nothing_stored()
    assert await state.row_count("trashed_images") == 0


async def test_not_an_image_or_not_as_stored_is_refused(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    response = await _restore(authed_client, svg)
    assert response.status_code == 415, response.text
    # A photo with its GPS position, which an upload strips: not what a reactbin server
    # serves, so it cannot come in through a restore either.
    located = (SAMPLES / "orientation6_gps.jpg").read_bytes()
    response = await _restore(authed_client, located)
    assert response.status_code == 422, response.text
    assert "metadata" in response.json()["detail"]
    not_multipart = await authed_client.post("/api/v1/backup/images", data=_fields(located))
    assert not_multipart.status_code == 415
    await state.assert_nothing_stored()


async def test_an_id_in_the_trash_with_the_same_bytes_comes_back(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = await _stored_bytes(authed_client)
    assert (await _restore(authed_client, data)).status_code == 201
    assert (await authed_client.delete(f"/api/v1/images/{ID}")).status_code == 204
    response = await _restore(authed_client, data)
    assert response.status_code == 201
    assert (await client.get(f"/api/v1/images/{ID}")).status_code == 200
    assert await state.row_count("trashed_images") == 0
    # Other bytes for a trashed id: a conflict, the trashed image stays as it was.
    assert (await authed_client.delete(f"/api/v1/images/{ID}")).status_code == 204
    assert (await _restore(authed_client, png_bytes(4))).status_code == 409
    assert await state.row_count("trashed_images") == 1


async def test_backup_listing_is_owner_only_and_pages(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    made = [await create_image(authed_client, png_bytes(60 + n)) for n in range(3)]
    assert (await client.get("/api/v1/backup/images")).status_code == 401
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await authed_client.get("/api/v1/backup/images", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [image["id"] for image in made]  # oldest first
    bad = await authed_client.get("/api/v1/backup/images", params={"cursor": "nope"})
    assert bad.status_code == 422
