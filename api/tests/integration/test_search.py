"""Relevance: given queries rank the expected image first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.helpers import create_image, png_bytes

LIBRARY: list[dict[str, Any]] = [
    {"title": "This is fine", "tags": "dog,fire", "description": "a dog sits in a burning room"},
    {"title": "Shrug", "tags": "shrug,whatever", "description": "kaomoji shoulders"},
    {"title": "Happy dance", "tags": "dance,celebrate", "description": "a cat dancing on a table"},
    {"title": "Facepalm", "tags": "facepalm,picard", "description": "captain is disappointed"},
    {"title": "Café owner", "tags": "coffee", "description": "résumé of a barista"},
    {"title": "Mind blown", "tags": "wow", "description": "explosion", "ocr_text": "MIND = BLOWN"},
    {
        "title": "Side eye",
        "tags": "suspicious",
        "description": "looking at the dog",
        "ocr_text": "SURE JAN",
    },
]


@pytest.fixture
async def library(authed_client: httpx.AsyncClient) -> dict[str, str]:
    ids: dict[str, str] = {}
    for index, entry in enumerate(LIBRARY):
        fields = {k: v for k, v in entry.items() if k != "ocr_text"}
        image = await create_image(authed_client, png_bytes(1000 + index), **fields)
        if "ocr_text" in entry:
            patched = await authed_client.patch(
                f"/api/v1/images/{image['id']}", json={"ocr_text": entry["ocr_text"]}
            )
            assert patched.status_code == 200
        ids[entry["title"]] = image["id"]
    return ids


async def _titles(client: httpx.AsyncClient, q: str, **params: Any) -> list[str]:
    response = await client.get("/api/v1/images", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("fine", "This is fine"),  # exact word
        ("shru", "Shrug"),  # prefix while typing
        ("shurg", "Shrug"),  # one swap
        ("facepalk", "Facepalm"),  # one wrong letter
        ("dancing", "Happy dance"),  # word forms
        ("jan", "Side eye"),  # only in the caption (OCR text)
        ("blown", "Mind blown"),
        ("cafe", "Café owner"),  # accents ignored
        ("résumé", "Café owner"),
        ("COFFEE", "Café owner"),
        ("burning dog", "This is fine"),  # all words must match
        ('"burning room"', "This is fine"),  # quoted phrase
    ],
)
async def test_expected_image_ranks_first(
    client: httpx.AsyncClient, library: dict[str, str], query: str, first: str
) -> None:
    titles = await _titles(client, query)
    assert titles, query
    assert titles[0] == first, (query, titles)


async def test_title_and_tags_rank_above_description(
    client: httpx.AsyncClient, library: dict[str, str]
) -> None:
    # "dog": a tag and in the description of "This is fine"; only described in "Side eye".
    assert await _titles(client, "dog") == ["This is fine", "Side eye"]


async def test_exclusion(client: httpx.AsyncClient, library: dict[str, str]) -> None:
    assert await _titles(client, "dog -fire") == ["Side eye"]


async def test_no_match_is_an_empty_page(
    client: httpx.AsyncClient, library: dict[str, str]
) -> None:
    response = await client.get("/api/v1/images", params={"q": "xylophone"})
    assert response.json() == {"items": [], "next_cursor": None}


async def test_search_combines_with_tags(
    client: httpx.AsyncClient, library: dict[str, str]
) -> None:
    assert await _titles(client, "dog", tag="suspicious") == ["Side eye"]


async def test_search_sees_edits(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, library: dict[str, str]
) -> None:
    await authed_client.patch(f"/api/v1/images/{library['Shrug']}", json={"tags": ["meh"]})
    assert await _titles(client, "meh") == ["Shrug"]
    assert await _titles(client, "whatever") == []


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        "%",
        "_%_",
        "a & b | !c",
        "dog:*",
        "(((",
        '"unbalanced',
        "-",
        "\\",
        "DROP TABLE images;",
        "🔥",
        "x" * 500,
    ],
)
async def test_hostile_search_text_gets_a_normal_answer(
    client: httpx.AsyncClient, library: dict[str, str], query: str
) -> None:
    response = await client.get("/api/v1/images", params={"q": query})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list)


@pytest.mark.parametrize("query", ["x" * 10_000, "a\x00b"])
async def test_unsearchable_text_is_422(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get("/api/v1/images", params={"q": query})
    assert response.status_code == 422


@pytest.mark.parametrize("raw", ["%ED%B2%80", "%FF%FE", "%C0%AF", "%00"])
async def test_broken_encodings_never_fail(client: httpx.AsyncClient, raw: str) -> None:
    """A lone surrogate or invalid UTF-8 in the URL: a normal answer or 422, never 500."""
    response = await client.get(f"/api/v1/images?q={raw}")
    assert response.status_code in (200, 422)


async def test_relevance_paging_returns_every_match_once(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    expected = set()
    for index in range(9):
        description = "party " * (index % 3 + 1)
        image = await create_image(
            authed_client, png_bytes(2000 + index), title=f"party {index}", description=description
        )
        expected.add(image["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "party", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/images", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        await create_image(authed_client, png_bytes(3000 + len(seen)), title="party late")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert expected <= set(seen)
    other = await client.get("/api/v1/images", params={"q": "dance", "cursor": cursor or "x"})
    assert other.status_code == 422


async def test_a_search_cursor_cannot_be_used_for_another_search(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    for index in range(3):
        await create_image(authed_client, png_bytes(4000 + index), title=f"cat {index}")
    first = (await client.get("/api/v1/images", params={"q": "cat", "limit": 1})).json()
    assert first["next_cursor"]
    reused = await client.get("/api/v1/images", params={"q": "dog", "cursor": first["next_cursor"]})
    assert reused.status_code == 422
    listing = await client.get("/api/v1/images", params={"cursor": first["next_cursor"]})
    assert listing.status_code == 422
