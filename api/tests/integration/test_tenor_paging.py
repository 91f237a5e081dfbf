"""Paging through the Tenor-compatible lists returns every match exactly once, in
the library's own relevance order, with `next` cursors and with numeric offsets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.helpers import create_image, png_bytes
from tests.integration.tenor_shape import assert_google_error, assert_results_page

MATCHES = 45


@pytest.fixture
async def library(authed_client: httpx.AsyncClient) -> dict[str, list[str]]:
    """45 images about cats (of varied relevance) and 5 about something else."""
    cats, others = [], []
    for index in range(MATCHES):
        title = "cat" if index % 3 else f"cat {index} cat"
        fields: dict[str, Any] = {"title": title, "tags": "cat" if index % 2 else "pet"}
        if index % 5 == 0:
            fields["description"] = "a cat again"
        cats.append((await create_image(authed_client, png_bytes(5000 + index), **fields))["id"])
    for index in range(5):
        image = await create_image(authed_client, png_bytes(6000 + index), title="dog")
        others.append(image["id"])
    return {"cats": cats, "others": others}


async def _walk(
    client: httpx.AsyncClient, route: str, params: dict[str, str], *, numeric: bool = False
) -> list[str]:
    ids: list[str] = []
    pos = ""
    for _ in range(100):
        query = {**params, "pos": pos} if pos else params
        response = await client.get(route, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        results = assert_results_page(body)
        ids += [result["id"] for result in results]
        if not body["next"]:
            return ids
        if numeric:
            assert body["next"] == str(int(params.get("pos", "0")) + len(ids))
        pos = body["next"]
    raise AssertionError("paging did not end")


async def test_search_pages_return_every_match_once_in_relevance_order(
    client: httpx.AsyncClient, library: dict[str, list[str]]
) -> None:
    # The same order as the library's own search (GET /api/v1/images?q=).
    listed = (await client.get("/api/v1/images", params={"q": "cat", "limit": 100})).json()
    for limit in ("1", "7", "20", "50"):
        ids = await _walk(client, "/v2/search", {"q": "cat", "limit": limit})
        assert len(ids) == MATCHES == len(set(ids))
        assert set(ids) == set(library["cats"])
        assert ids == [item["id"] for item in listed["items"]]


async def test_numeric_pos_pages_return_every_match_once(
    client: httpx.AsyncClient, library: dict[str, list[str]]
) -> None:
    by_cursor = await _walk(client, "/v2/search", {"q": "cat", "limit": "10"})
    by_offset = await _walk(client, "/v2/search", {"q": "cat", "limit": "10", "pos": "0"})
    assert by_offset == by_cursor
    numeric = await _walk(
        client, "/proxy/klipy/api/v2/search", {"q": "cat", "limit": "10", "pos": "10"}, numeric=True
    )
    assert numeric == by_cursor[10:]


async def test_featured_and_random_pages_return_every_image_once(
    client: httpx.AsyncClient, library: dict[str, list[str]]
) -> None:
    everything = set(library["cats"]) | set(library["others"])
    featured = await _walk(client, "/v2/featured", {"limit": "8"})
    assert len(featured) == len(everything)
    assert set(featured) == everything
    shuffled = await _walk(client, "/v2/featured", {"limit": "8", "random": "true"})
    assert len(shuffled) == len(everything)
    assert set(shuffled) == everything
    assert shuffled != featured  # 50! orders: the same one twice is not a coincidence
    matches = await _walk(client, "/v2/search", {"q": "cat", "limit": "8", "random": "true"})
    assert len(matches) == MATCHES
    assert set(matches) == set(library["cats"])


async def test_search_without_q_lists_like_featured(
    client: httpx.AsyncClient, library: dict[str, list[str]]
) -> None:
    search = await _walk(client, "/v2/search", {"limit": "20"})
    assert search == await _walk(client, "/v2/featured", {"limit": "20"})


async def test_limit_is_clamped_to_1_50_and_defaults_to_20(
    client: httpx.AsyncClient, library: dict[str, list[str]]
) -> None:
    for limit, expected in [(None, 20), ("0", 1), ("-4", 1), ("1", 1), ("50", 50), ("500", 50)]:
        params = {"limit": limit} if limit is not None else {}
        body = (await client.get("/v2/featured", params=params)).json()
        assert len(body["results"]) == expected, limit


async def test_a_limit_that_is_not_a_number_is_a_google_400(
    client: httpx.AsyncClient, library: dict[str, list[str]]
) -> None:
    for limit in ("abc", "1.5", "20x"):
        response = await client.get("/v2/search", params={"q": "cat", "limit": limit})
        assert_google_error(response, 400, "INVALID_ARGUMENT")


async def test_a_pos_not_issued_here_or_for_another_listing_is_a_google_400(
    client: httpx.AsyncClient, library: dict[str, list[str]]
) -> None:
    first = (await client.get("/v2/search", params={"q": "cat", "limit": "5"})).json()
    for params in [
        {"q": "cat", "pos": "forged-cursor"},
        {"q": "cat", "pos": first["next"][:-2] + "xx"},
        {"q": "dog", "pos": first["next"]},  # another search
        {"pos": first["next"]},  # the featured list
        {"q": "cat", "pos": first["next"], "ar_range": "wide"},  # other filters
        {"q": "cat", "pos": "99999999"},
    ]:
        response = await client.get("/v2/search", params=params)
        assert_google_error(response, 400, "INVALID_ARGUMENT")
