"""Each image's tag names are kept beside its row (migration 0012) for the read
paths: whoever changes the links (an upload, a PATCH, another process or psql,
a deleted tag), pages and the image itself show its tags, in their order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from app.config import Settings
from app.jobs.queue import libpq_url
from tests.integration.helpers import create_image, png_bytes

FRESH = {"Cache-Control": "no-cache"}


@pytest.fixture
async def outside(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    assert settings.database_url is not None
    connection = await asyncpg.connect(libpq_url(settings.database_url))
    try:
        yield connection
    finally:
        await connection.close()


async def _tags(client: httpx.AsyncClient, image_id: str) -> tuple[list[str], list[str]]:
    """The image's tags as GET shows them, and as the gallery's list does."""
    one = await client.get(f"/api/v1/images/{image_id}", headers=FRESH)
    listed = await client.get("/api/v1/images", headers=FRESH)
    items = [item for item in listed.json()["items"] if item["id"] == image_id]
    return one.json()["tags"], items[0]["tags"]


async def test_every_change_to_the_links_shows(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, outside: asyncpg.Connection
) -> None:
    image = await create_image(authed_client, png_bytes(1), title="t", tags="zeta,alpha,mid")
    image_id = image["id"]
    assert await _tags(client, image_id) == (["zeta", "alpha", "mid"],) * 2

    patched = await authed_client.patch(
        f"/api/v1/images/{image_id}", json={"tags": ["mid", "new one"]}
    )
    assert patched.json()["tags"] == ["mid", "new one"]
    assert await _tags(client, image_id) == (["mid", "new one"],) * 2

    # Another process edits the links directly.
    await outside.execute(
        "INSERT INTO image_tags (image_id, tag_id, position) "
        "SELECT $1, id, 5 FROM tags WHERE name = 'zeta'",
        image_id,
    )
    assert await _tags(client, image_id) == (["mid", "new one", "zeta"],) * 2
    await outside.execute(
        "UPDATE image_tags SET position = -1 WHERE image_id = $1 AND tag_id = "
        "(SELECT id FROM tags WHERE name = 'zeta')",
        image_id,
    )
    assert await _tags(client, image_id) == (["zeta", "mid", "new one"],) * 2
    await outside.execute("UPDATE tags SET name = 'renamed' WHERE name = 'new one'")
    assert await _tags(client, image_id) == (["zeta", "mid", "renamed"],) * 2
    await outside.execute("DELETE FROM tags WHERE name = 'mid'")  # cascades to the link
    assert await _tags(client, image_id) == (["zeta", "renamed"],) * 2

    patched = await authed_client.patch(f"/api/v1/images/{image_id}", json={"tags": []})
    assert patched.json()["tags"] == []
    assert await _tags(client, image_id) == ([], [])


async def test_an_image_without_tags_and_its_neighbours(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, outside: asyncpg.Connection
) -> None:
    bare = await create_image(authed_client, png_bytes(2), title="bare")
    tagged = await create_image(authed_client, png_bytes(3), title="tagged", tags="shared")
    other = await create_image(authed_client, png_bytes(4), title="other", tags="shared,solo")
    assert await _tags(client, bare["id"]) == ([], [])
    # Removing one image's links leaves the others' names alone.
    await outside.execute("DELETE FROM image_tags WHERE image_id = $1", tagged["id"])
    assert await _tags(client, tagged["id"]) == ([], [])
    assert await _tags(client, other["id"]) == (["shared", "solo"],) * 2
    stored = await outside.fetch("SELECT id, tag_names FROM images ORDER BY id")
    assert {row["id"]: row["tag_names"] for row in stored} == {
        bare["id"]: [],
        tagged["id"]: [],
        other["id"]: ["shared", "solo"],
    }
