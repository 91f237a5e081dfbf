"""The response cache: repeated public reads come from memory, and no change to
the library, made here or anywhere else, is ever hidden by it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.jobs.queue import libpq_url
from tests.integration.helpers import create_image, metric_sample, png_bytes, scrape_metrics

# How long a lost listening connection may take to be back (within a second, as a rule):
# until then every answer is made afresh.
SETTLE_S = 10.0


@pytest.fixture
async def outside(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, as another server process or psql would have."""
    assert settings.database_url is not None
    connection = await asyncpg.connect(libpq_url(settings.database_url))
    try:
        yield connection
    finally:
        await connection.close()


async def _live(app: FastAPI) -> None:
    """The server listens for changes a moment after it starts (or reconnects)."""
    for _ in range(200):
        if app.state.response_cache.live:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the response cache never started listening")


async def _ready(app: FastAPI, outside: asyncpg.Connection) -> None:
    """Listening, and every notification of the test's writes so far heard: PostgreSQL
    delivers notifications in commit order, so once this one has emptied the cache,
    none sent before it can arrive in the middle of the test's next requests."""
    await _live(app)
    cache = app.state.response_cache
    before = cache.generation
    await outside.execute("NOTIFY reactbin_library")
    for _ in range(200):
        if cache.generation > before:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never heard a notification")


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = asyncio.get_running_loop().time() + SETTLE_S
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the change never showed"
        await asyncio.sleep(0.05)


async def _titles(client: httpx.AsyncClient, **params: Any) -> tuple[list[str], str]:
    response = await client.get("/api/v1/images", params=params)
    assert response.status_code == 200
    titles = [item["title"] for item in response.json()["items"]]
    return titles, response.headers.get("x-cache", "")


async def test_a_repeated_search_is_served_from_memory(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    await create_image(authed_client, png_bytes(1), title="shrug", tags="meh")
    await _ready(app, outside)
    assert await _titles(client, q="shrug") == (["shrug"], "MISS")
    assert await _titles(client, q="shrug") == (["shrug"], "HIT")
    # Another query string is another answer.
    assert await _titles(client, q="shrug", limit=5) == (["shrug"], "MISS")
    # Asked not to use a cached copy, the server answers afresh.
    fresh = await client.get(
        "/api/v1/images", params={"q": "shrug"}, headers={"Cache-Control": "no-cache"}
    )
    assert fresh.headers["x-cache"] == "MISS"
    assert [item["title"] for item in fresh.json()["items"]] == ["shrug"]


async def test_the_owners_changes_show_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    image = await create_image(authed_client, png_bytes(2), title="facepalm")
    await _ready(app, outside)
    await _titles(client, q="facepalm")
    assert await _titles(client, q="facepalm") == (["facepalm"], "HIT")

    patched = await authed_client.patch(
        f"/api/v1/images/{image['id']}", json={"title": "facepalm again"}
    )
    assert patched.status_code == 200
    assert await _titles(client, q="facepalm") == (["facepalm again"], "MISS")

    second = await create_image(authed_client, png_bytes(3), title="facepalm too")
    titles, _ = await _titles(client, q="facepalm")
    assert sorted(titles) == ["facepalm again", "facepalm too"]

    assert (await authed_client.delete(f"/api/v1/images/{second['id']}")).status_code == 204
    assert await _titles(client, q="facepalm") == (["facepalm again"], "MISS")
    gone = await client.get(f"/api/v1/images/{second['id']}")
    assert gone.status_code == 404


async def test_a_change_made_by_another_process_shows(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    image = await create_image(authed_client, png_bytes(4), title="eye roll", tags="sigh")
    await _ready(app, outside)
    await client.get(f"/api/v1/images/{image['id']}")
    cached = await client.get(f"/api/v1/images/{image['id']}")
    assert (cached.headers["x-cache"], cached.json()["title"]) == ("HIT", "eye roll")
    tags = await client.get("/api/v1/tags", params={"prefix": "si"})
    assert tags.json() == [{"name": "sigh", "count": 1}]

    # Another server (or psql) edits the row: the very next read here shows it,
    # though the notification is most often still on its way when the read comes.
    for round_ in range(20):
        title = f"eye roll (edit {round_})"
        await outside.execute("UPDATE images SET title = $1 WHERE id = $2", title, image["id"])
        response = await client.get(f"/api/v1/images/{image['id']}")
        assert response.json()["title"] == title
        again = await client.get(f"/api/v1/images/{image['id']}")
        assert (again.headers["x-cache"], again.json()["title"]) == ("HIT", title)

    await outside.execute("DELETE FROM image_tags")
    response = await client.get("/api/v1/tags", params={"prefix": "si"})
    assert response.json() == []


async def test_a_change_while_not_listening_is_not_missed(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    await create_image(authed_client, png_bytes(5), title="mind blown")
    await _ready(app, outside)
    await _titles(client, q="blown")
    assert await _titles(client, q="blown") == (["mind blown"], "HIT")

    # The listening connection dies (a PostgreSQL restart, a proxy timeout) and
    # the change it would have heard of is made while it is away.
    killed = await outside.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'reactbin cache listener'"
    )
    assert killed >= 1
    await outside.execute("UPDATE images SET title = 'mind blown twice'")

    async def fresh() -> bool:
        return (await _titles(client, q="blown"))[0] == ["mind blown twice"]

    await _eventually(fresh)
    await _ready(app, outside)  # back, with nothing from before: the cache fills again
    assert await _titles(client, q="blown") == (["mind blown twice"], "MISS")
    assert await _titles(client, q="blown") == (["mind blown twice"], "HIT")


async def test_random_answers_are_never_kept(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    for seed in range(3):
        await create_image(authed_client, png_bytes(10 + seed), title=f"party {seed}")
    await _ready(app, outside)
    for _ in range(2):
        response = await client.get("/v2/search", params={"q": "party", "random": "true"})
        assert response.status_code == 200
        assert response.headers["x-cache"] == "MISS"
        assert response.headers["cache-control"] == "no-store"
        random_image = await client.get("/api/v1/images/random")
        assert random_image.status_code == 200
        assert "x-cache" not in random_image.headers
    ordered = [await client.get("/v2/search", params={"q": "party"}) for _ in range(2)]
    assert [r.headers["x-cache"] for r in ordered] == ["MISS", "HIT"]
    assert ordered[0].json() == ordered[1].json()


async def test_refusals_and_owner_pages_are_not_kept(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    await _ready(app, outside)
    for _ in range(2):
        assert (await client.get("/api/v1/images/AAAAAAAAAA")).headers["x-cache"] == "MISS"
        assert (await client.get("/api/v1/images", params={"limit": 0})).status_code == 422
    assert len(app.state.response_cache) == 0
    me = [await authed_client.get("/api/v1/auth/me") for _ in range(2)]
    assert all(r.status_code == 200 and "x-cache" not in r.headers for r in me)


async def test_hits_are_counted_under_their_route(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    await create_image(authed_client, png_bytes(20), title="yawn")
    await _ready(app, outside)
    route = "/api/v1/images"
    before = await scrape_metrics(client)
    for _ in range(3):
        await client.get(route, params={"q": "yawn"})
    after = await scrape_metrics(client)
    name = "reactbin_http_requests_total"
    labels = {"method": "GET", "route": route, "status": "200"}
    assert metric_sample(after, name, **labels) == metric_sample(before, name, **labels) + 3
    hits = "reactbin_response_cache_hits_total"
    assert metric_sample(after, hits) >= metric_sample(before, hits) + 2


async def test_without_a_cache_every_answer_is_fresh(
    make_app: Callable[..., AsyncIterator[FastAPI]], authed_client: httpx.AsyncClient
) -> None:
    await create_image(authed_client, png_bytes(30), title="nope")
    async for uncached in make_app(response_cache_mb=0):
        transport = httpx.ASGITransport(app=uncached)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            for _ in range(2):
                response = await other.get("/api/v1/images", params={"q": "nope"})
                assert response.status_code == 200
                assert "x-cache" not in response.headers
        assert not uncached.state.response_cache.live


async def test_the_gallery_search_keeps_its_data_not_its_page(
    app: FastAPI,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    outside: asyncpg.Connection,
) -> None:
    image = await create_image(authed_client, png_bytes(5), title="slow clap", tags="clap")
    await _ready(app, outside)
    first = await client.get("/", params={"q": "clap"})
    again = await client.get("/", params={"q": "clap"})
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("MISS", "HIT")
    assert "slow clap" in again.text
    fresh = await client.get("/", params={"q": "clap"}, headers={"Cache-Control": "no-cache"})
    assert fresh.headers["x-cache"] == "MISS"

    await outside.execute("UPDATE images SET title = 'slower clap' WHERE id = $1", image["id"])
    assert "slower clap" in (await client.get("/", params={"q": "clap"})).text  # at once
