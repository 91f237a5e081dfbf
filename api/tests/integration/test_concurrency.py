"""Many requests at once (issue 3): 100 parallel uploads and deletes, the same bytes
uploaded ten times at once, and afterwards a database and a bucket that agree exactly.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from app import consistency
from app.images import repository
from tests.integration.helpers import State, create_image, gif_bytes, png_bytes, upload


async def all_listed_ids(client: httpx.AsyncClient) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/images", params=params)).json()
        ids += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            return ids


async def assert_database_and_bucket_agree(app: FastAPI, state: State, ids: set[str]) -> None:
    """Exactly `ids` are stored: each row with its two objects, and no other object."""
    async with app.state.sessionmaker() as session:
        rows = await repository.all_keys(session)
    assert set(rows) == ids
    expected = {key for pair in rows.values() for key in pair}
    assert len(expected) == 2 * len(ids)
    assert sorted(await state.object_keys()) == sorted(expected)
    report = await consistency.check(app.state.sessionmaker, app.state.storage, grace=timedelta(0))
    assert report.consistent
    assert (report.rows, report.objects) == (len(ids), 2 * len(ids))
    assert report.orphans == report.missing_originals == report.missing_thumbnails == []
    assert report.young_orphans == 0
    assert state.temp_files() == []


async def test_same_bytes_uploaded_ten_times_at_once_are_stored_once(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = gif_bytes(42, frames=4)
    responses = await asyncio.gather(
        *(upload(authed_client, data, filename=f"copy{n}.gif") for n in range(10))
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 9}, [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["id"] == winner["id"], refused.text
    assert await all_listed_ids(authed_client) == [winner["id"]]
    await assert_database_and_bucket_agree(app, state, {winner["id"]})


async def test_a_hundred_parallel_uploads_and_deletes_leave_database_and_bucket_agreeing(
    app: FastAPI, authed_client: httpx.AsyncClient, state: State
) -> None:
    doomed = await asyncio.gather(
        *(create_image(authed_client, png_bytes(1000 + n)) for n in range(30))
    )
    twice, once = doomed[:5], doomed[5:]
    same = png_bytes(4242, size=(90, 70))
    fresh = {seed: png_bytes(seed, size=(40 + seed % 50, 30)) for seed in range(2000, 2055)}

    operations: list[tuple[str, Any, Awaitable[httpx.Response]]] = []
    operations += [("fresh", seed, upload(authed_client, data)) for seed, data in fresh.items()]
    operations += [("same", n, upload(authed_client, same, tags="race")) for n in range(10)]
    operations += [
        ("delete", image["id"], authed_client.delete(f"/api/v1/images/{image['id']}"))
        for image in once
    ]
    operations += [
        ("delete-twice", image["id"], authed_client.delete(f"/api/v1/images/{image['id']}"))
        for image in twice
        for _ in range(2)
    ]
    assert len(operations) == 100
    random.Random(7).shuffle(operations)
    responses = await asyncio.gather(*(request for _, _, request in operations))
    results = [(kind, key, r) for (kind, key, _), r in zip(operations, responses, strict=True)]

    unexpected = [
        (kind, r.status_code, r.text[:200])
        for kind, _, r in results
        if r.status_code not in {"fresh": (201,), "same": (201, 409)}.get(kind, (204, 404))
    ]
    assert unexpected == []
    created = {key: r.json() for kind, key, r in results if kind == "fresh"}
    assert len({image["id"] for image in created.values()}) == 55
    for seed, image in created.items():
        assert image["sha256"] == hashlib.sha256(fresh[seed]).hexdigest()

    raced = [r for kind, _, r in results if kind == "same"]
    assert Counter(r.status_code for r in raced) == {201: 1, 409: 9}
    winner = next(r.json() for r in raced if r.status_code == 201)
    assert {r.json()["id"] for r in raced if r.status_code == 409} == {winner["id"]}

    assert all(r.status_code == 204 for kind, _, r in results if kind == "delete")
    for image in twice:
        pair = [r.status_code for kind, key, r in results if key == image["id"]]
        assert sorted(pair) == [204, 404], f"deleting {image['id']} twice gave {pair}"
    for image in doomed:
        assert (await authed_client.get(f"/api/v1/images/{image['id']}")).status_code == 404
        assert (await authed_client.get(image["url"])).status_code == 404

    for image in doomed:  # deleted images wait in the trash, objects and all, until purged
        assert (await authed_client.delete(f"/api/v1/trash/{image['id']}")).status_code == 204
    kept = {image["id"] for image in created.values()} | {winner["id"]}
    assert sorted(await all_listed_ids(authed_client)) == sorted(kept)
    await assert_database_and_bucket_agree(app, state, kept)
    for image in [*created.values(), winner]:
        download = await authed_client.get(image["url"])
        assert download.status_code == 200
        assert hashlib.sha256(download.content).hexdigest() == image["sha256"]
