"""One-word searches: relevance tiers (app/search/tiered.py) and their paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.search import tiered
from tests.integration.helpers import create_image, png_bytes


@pytest.fixture(
    autouse=True,
    params=["few matches", "few matches, narrow sort", "union of tiers", "exact part apart"],
)
def statement_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every way of reading the tiers must give the same order and pages: which
    one runs depends on how common the word is (and as itself), and these
    libraries are small."""
    if request.param == "few matches, narrow sort":
        monkeypatch.setattr(tiered, "NARROW_SORT_FROM", -1)
    elif request.param != "few matches":
        monkeypatch.setattr(tiered, "FEW_MATCHES", -1)
    if request.param == "exact part apart":
        # As if the word itself were rare and the words it starts common.
        estimated = tiered.tier_texts

        async def rare_as_itself(*args: Any) -> tuple[list[str], float, float]:
            texts, estimate, _ = await estimated(*args)
            return texts, estimate, -1.0

        monkeypatch.setattr(tiered, "tier_texts", rare_as_itself)
    return str(request.param)


async def _add(
    client: httpx.AsyncClient, seed: int, title: str, ocr_text: str | None = None, **fields: Any
) -> str:
    image = await create_image(client, png_bytes(seed), title=title, **fields)
    if ocr_text is not None:
        patched = await client.patch(f"/api/v1/images/{image['id']}", json={"ocr_text": ocr_text})
        assert patched.status_code == 200
    return str(image["id"])


async def _walk(client: httpx.AsyncClient, limit: int, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        query: dict[str, Any] = {**params, "limit": limit}
        if cursor:
            query["cursor"] = cursor
        response = await client.get("/api/v1/images", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


async def test_tiers_order_fields_then_word_then_prefix(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    # Created best last, so newest-first alone would give the reverse order.
    described = await _add(authed_client, 1, "plain", description="a walrus on a rock")
    captioned = await _add(authed_client, 2, "plain too", ocr_text="WALRUS TIME")
    prefixed_title = await _add(authed_client, 3, "walruses everywhere")
    titled = await _add(authed_client, 4, "old walrus")
    tagged = await _add(authed_client, 5, "nothing", tags="walrus,sea")
    found = await _walk(client, 100, q="walrus")
    # Tags and title (newest first), then caption, then description; "walruses"
    # shares the English form "walrus", so it counts as the word itself.
    assert found == [tagged, titled, prefixed_title, captioned, described]
    prefix = await _walk(client, 100, q="walr")
    assert prefix == [tagged, titled, prefixed_title, captioned, described]


async def test_exact_word_ranks_above_words_it_starts(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    exact_in_description = await _add(authed_client, 10, "quiet", description="one cat")
    starts_in_title = await _add(authed_client, 11, "catapult launch")
    assert await _walk(client, 100, q="cat") == [exact_in_description, starts_in_title]


async def test_tiered_paging_returns_every_match_once_while_images_are_added(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    expected = set()
    for index in range(12):
        where = index % 4
        fields: dict[str, Any] = {}
        title = f"otter {index}" if where == 0 else f"picture {index}"
        if where == 1:
            fields["description"] = "an otter floats"
        if where == 2:
            fields["tags"] = "otterly,cute"
        ocr = "OTTER" if where == 3 else None
        expected.add(await _add(authed_client, 100 + index, title, ocr, **fields))
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        params: dict[str, Any] = {"q": "otter", "limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/images", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        # New matches in every tier meanwhile: newer than any cursor, so never shown.
        await _add(authed_client, 500 + len(seen), "otter late", description="otter")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected


async def test_tiered_search_with_a_tag_filter_and_typo(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    wanted = await _add(authed_client, 20, "penguin slide", tags="winter")
    await _add(authed_client, 21, "penguin walk", tags="summer")
    assert await _walk(client, 1, q="penguin", tag="winter") == [wanted]
    assert (await _walk(client, 10, q="pengiun", tag="winter")) == [wanted]  # a typo


async def test_a_tiered_cursor_is_refused_by_a_ranked_search(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    for index in range(3):
        await _add(authed_client, 30 + index, f"heron {index} wading")
    first = (await client.get("/api/v1/images", params={"q": "heron", "limit": 1})).json()
    assert first["next_cursor"]
    other = await client.get(
        "/api/v1/images", params={"q": "heron wading", "cursor": first["next_cursor"]}
    )
    assert other.status_code == 422
