"""List, get, patch, delete, random, tags."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.helpers import State, create_image, png_bytes


async def test_get_and_unknown_id(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, png_bytes(1), title="hello")
    response = await client.get(f"/api/v1/images/{image['id']}")
    assert response.status_code == 200
    image.pop("near_duplicates")  # only the upload answer says what it resembles
    assert response.json() == image
    for unknown in ("AAAAAAAAAA", "nope", "../../etc", "x" * 300):
        missing = await client.get(f"/api/v1/images/{unknown}")
        assert missing.status_code == 404
        assert missing.json()["detail"]


async def test_ids_are_opaque_and_distinct(authed_client: httpx.AsyncClient) -> None:
    ids = [(await create_image(authed_client, png_bytes(i)))["id"] for i in range(5)]
    assert len(set(ids)) == 5
    assert all(len(i) == 10 and i.isalnum() for i in ids)
    assert not any(i.isdigit() for i in ids)


async def test_list_is_newest_first(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    created = [await create_image(authed_client, png_bytes(i), title=f"n{i}") for i in range(3)]
    response = await client.get("/api/v1/images")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [c["id"] for c in reversed(created)]
    assert body["next_cursor"] is None


async def test_tag_filter_needs_every_tag(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    both = await create_image(authed_client, png_bytes(1), tags="dog,fire")
    await create_image(authed_client, png_bytes(2), tags="dog")
    await create_image(authed_client, png_bytes(3), tags="cat")
    dogs = (await client.get("/api/v1/images", params={"tag": "dog"})).json()["items"]
    assert len(dogs) == 2
    both_tags = (
        await client.get("/api/v1/images", params=[("tag", "Dog"), ("tag", "fire")])
    ).json()["items"]
    assert [item["id"] for item in both_tags] == [both["id"]]
    none = (await client.get("/api/v1/images", params={"tag": "unicorn"})).json()
    assert none == {"items": [], "next_cursor": None}


async def test_paging_returns_every_image_once_while_images_are_added(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    originals = {(await create_image(authed_client, png_bytes(i)))["id"] for i in range(7)}
    seen: list[str] = []
    cursor = None
    extra = 100
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/images", params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        # New uploads land on the first page; they must not shift or repeat later pages.
        await create_image(authed_client, png_bytes(extra))
        extra += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert originals <= set(seen)


@pytest.mark.parametrize("cursor", ["garbage", "eyJ0IjoiMjAyNiJ9", "A" * 40, "%%%"])
async def test_cursor_not_issued_by_the_server_is_422(
    client: httpx.AsyncClient, cursor: str
) -> None:
    response = await client.get("/api/v1/images", params={"cursor": cursor})
    assert response.status_code == 422


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
async def test_bad_limit_is_422(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/api/v1/images", params={"limit": limit})
    assert response.status_code == 422


async def test_search_text_is_never_sql(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    await create_image(authed_client, png_bytes(1), title="100% done_right")
    await create_image(authed_client, png_bytes(2), title="plain")
    for query, expected in [
        ("100%", 1),
        ("%", 0),
        ("_", 0),
        ("done_", 1),
        ("' OR 1=1 --", 0),
        ("plain", 1),
    ]:
        response = await client.get("/api/v1/images", params={"q": query})
        assert response.status_code == 200, query
        assert len(response.json()["items"]) == expected, query
    assert (await client.get("/api/v1/images", params={"q": "a\x00b"})).status_code == 422


async def test_patch_changes_fields_and_replaces_tags(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, png_bytes(1), title="old", tags="a,b")
    response = await authed_client.patch(
        f"/api/v1/images/{image['id']}",
        json={
            "title": "  new   title ",
            "description": "desc",
            "tags": ["C", "a"],
            "ocr_text": "HELLO",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "new title"
    assert body["description"] == "desc"
    assert body["tags"] == ["c", "a"]
    assert body["ocr_text"] == "HELLO"
    assert body["updated_at"] >= image["updated_at"]
    assert (await client.get(f"/api/v1/images/{image['id']}")).json() == body
    tags = (await client.get("/api/v1/tags")).json()
    assert {t["name"]: t["count"] for t in tags} == {"a": 1, "c": 1}


async def test_patch_only_given_fields(authed_client: httpx.AsyncClient) -> None:
    image = await create_image(authed_client, png_bytes(1), title="keep", tags="x")
    body = (
        await authed_client.patch(f"/api/v1/images/{image['id']}", json={"description": "d"})
    ).json()
    assert (body["title"], body["tags"], body["description"]) == ("keep", ["x"], "d")


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "t" * 201},
        {"title": ""},
        {"description": "d" * 2001},
        {"tags": [f"t{i}" for i in range(21)]},
        {"tags": ["x" * 51]},
        {"tags": [""]},
        {"unknown": 1},
        {"mime_type": "text/html"},
    ],
)
async def test_patch_refusals_are_422_and_change_nothing(
    authed_client: httpx.AsyncClient, payload: dict[str, object]
) -> None:
    image = await create_image(authed_client, png_bytes(1), title="same", tags="x")
    response = await authed_client.patch(f"/api/v1/images/{image['id']}", json=payload)
    assert response.status_code == 422
    image.pop("near_duplicates")
    assert (await authed_client.get(f"/api/v1/images/{image['id']}")).json() == image


async def test_patch_unknown_is_404_and_anonymous_is_401(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    assert (
        await authed_client.patch("/api/v1/images/AAAAAAAAAA", json={"title": "x"})
    ).status_code == 404
    image = await create_image(authed_client, png_bytes(1), title="mine")
    refused = await client.patch(f"/api/v1/images/{image['id']}", json={"title": "hacked"})
    assert refused.status_code == 401
    assert (await client.get(f"/api/v1/images/{image['id']}")).json()["title"] == "mine"


async def test_delete_then_purge_removes_row_and_every_object(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    keep = await create_image(authed_client, png_bytes(1), tags="dog")
    gone = await create_image(authed_client, png_bytes(2), tags="dog,cat")
    assert (await client.delete(f"/api/v1/images/{gone['id']}")).status_code == 401
    response = await authed_client.delete(f"/api/v1/images/{gone['id']}")
    assert response.status_code == 204
    assert (await client.get(f"/api/v1/images/{gone['id']}")).status_code == 404
    assert (await client.get(f"/f/{gone['id']}.png")).status_code == 404
    assert len(await state.object_keys()) == 4  # in the trash, objects kept
    assert (await authed_client.delete(f"/api/v1/trash/{gone['id']}")).status_code == 204
    assert all(not key.startswith(f"images/{gone['id']}/") for key in await state.object_keys())
    assert len(await state.object_keys()) == 2
    assert (await client.get(f"/api/v1/images/{keep['id']}")).status_code == 200
    assert (await client.get("/api/v1/tags")).json() == [{"name": "dog", "count": 1}]
    assert (await authed_client.delete(f"/api/v1/images/{gone['id']}")).status_code == 404


async def test_random_and_random_within_a_tag(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    assert (await client.get("/api/v1/images/random")).status_code == 404
    dog = await create_image(authed_client, png_bytes(1), tags="dog")
    cat = await create_image(authed_client, png_bytes(2), tags="cat")
    seen = {(await client.get("/api/v1/images/random")).json()["id"] for _ in range(40)}
    assert seen == {dog["id"], cat["id"]}
    for _ in range(5):
        assert (await client.get("/api/v1/images/random", params={"tag": "cat"})).json()[
            "id"
        ] == cat["id"]
    assert (await client.get("/api/v1/images/random", params={"tag": "emu"})).status_code == 404


async def test_tags_with_counts_and_prefix(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    await create_image(authed_client, png_bytes(1), tags="dog,dance")
    await create_image(authed_client, png_bytes(2), tags="dog,100%_sure")
    await create_image(authed_client, png_bytes(3), tags="dog,cat")
    tags = (await client.get("/api/v1/tags")).json()
    assert tags[0] == {"name": "dog", "count": 3}
    assert {t["name"] for t in tags} == {"dog", "dance", "100%_sure", "cat"}
    assert [
        t["name"] for t in (await client.get("/api/v1/tags", params={"prefix": "D"})).json()
    ] == ["dog", "dance"]
    assert (await client.get("/api/v1/tags", params={"prefix": "%"})).json() == []
    assert [
        t["name"] for t in (await client.get("/api/v1/tags", params={"prefix": "100%_"})).json()
    ] == ["100%_sure"]
    assert len((await client.get("/api/v1/tags", params={"limit": 1})).json()) == 1
    assert (await client.get("/api/v1/tags", params={"limit": 0})).status_code == 422
