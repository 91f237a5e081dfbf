"""A change made through one API process is seen at once by the other's searches,
though each keeps its own response cache (PostgreSQL notifies both at commit)."""

from __future__ import annotations

import asyncio
import secrets

import httpx

from tests.cluster.conftest import direct, rig
from tests.integration.helpers import png_bytes

ROUNDS = 5


def word() -> str:
    # Letters only, so that the search's tokenizer keeps it whole.
    return "zq" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))


async def cached_ids(http: httpx.AsyncClient, params: dict[str, str]) -> set[str]:
    """The answer as this process's cache holds it (asked until it is a hit: the workers'
    jobs, finishing meanwhile, empty the cache too)."""
    for _ in range(20):
        response = await http.get("/api/v1/images", params=params)
        assert response.status_code == 200
        if response.headers["x-cache"] == "HIT":
            return {item["id"] for item in response.json()["items"]}
        await asyncio.sleep(0.1)
    raise AssertionError("the cache must be warm for the test to mean much")


async def ids(http: httpx.AsyncClient, params: dict[str, str]) -> set[str]:
    response = await http.get("/api/v1/images", params=params)
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


async def test_upload_tag_edit_and_delete_through_one_process_show_at_once_in_the_other(
    cluster: rig.Cluster, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    first, second = cluster.apis
    async with direct(first, headers=auth) as one, direct(second, headers=auth) as other:
        for round_ in range(ROUNDS):
            title, tag = word(), word()
            by_title, by_tag = {"q": title}, {"tag": tag}
            assert await cached_ids(other, by_title) == set()
            files = {"file": (f"r{round_}.png", png_bytes(seed=9000 + round_), "image/png")}
            created = await one.post("/api/v1/images", files=files, data={"title": title})
            assert created.status_code == 201
            image = created.json()["id"]
            assert await ids(other, by_title) == {image}

            assert await cached_ids(one, by_tag) == set()
            edited = await other.patch(f"/api/v1/images/{image}", json={"tags": [tag]})
            assert edited.status_code == 200
            assert await ids(one, by_tag) == {image}

            assert await cached_ids(other, by_tag) == {image}
            deleted = await one.delete(f"/api/v1/images/{image}")
            assert deleted.status_code == 204
            assert await ids(other, by_tag) == set()
            assert await ids(other, by_title) == set()
            for api in cluster.apis:
                async with direct(api) as anyone:
                    gone = await anyone.get(f"/f/{image}.png")
                    assert gone.status_code != 200


async def test_through_the_proxy_every_answer_follows_the_last_change(
    cluster: rig.Cluster, client: httpx.AsyncClient
) -> None:
    """Whichever process the proxy picks, a search after a change reflects it."""
    tag = word()
    files = {"file": ("p.png", png_bytes(seed=9100), "image/png")}
    created = await client.post("/api/v1/images", files=files, data={"tags": tag})
    assert created.status_code == 201
    image = created.json()["id"]
    for _ in range(6):  # warm both processes' caches
        assert await ids(client, {"tag": tag}) == {image}
    assert (await client.delete(f"/api/v1/images/{image}")).status_code == 204
    for _ in range(6):
        assert await ids(client, {"tag": tag}) == set()
    assert (await client.get(f"/f/{image}.png")).status_code != 200
