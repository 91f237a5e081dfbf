"""One error shape everywhere, and 405s that name every method of the path (issue 15)."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.helpers import create_image


async def test_a_validation_error_is_one_sentence(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/images", params={"limit": "0"})
    assert response.status_code == 422
    assert response.json() == {"detail": "limit: Input should be greater than or equal to 1."}


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"not json", 422), (b'{"title": ', 422), (b"\x80 not UTF-8", 400), (b"[1]", 422)],
)
async def test_a_patch_body_that_is_not_a_json_object_is_refused_in_the_shape(
    authed_client: httpx.AsyncClient, body: bytes, status: int
) -> None:
    image = await create_image(authed_client, title="kept")
    response = await authed_client.patch(
        f"/api/v1/images/{image['id']}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert set(response.json()) == {"detail"}
    assert isinstance(response.json()["detail"], str)
    assert (await authed_client.get(f"/api/v1/images/{image['id']}")).json()["title"] == "kept"


async def test_a_405_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/images/abcdefghij")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed
    assert response.json() == {"detail": "Method Not Allowed"}

    listing = await client.delete("/api/v1/images")
    assert {m.strip() for m in listing.headers["allow"].split(",")} >= {"GET", "POST"}


async def test_a_tenor_405_lists_options_too(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v2/registershare")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed >= {"GET", "POST", "OPTIONS"}
    assert response.json()["error"]["status"] == "UNIMPLEMENTED"


async def test_a_literal_path_lists_its_own_methods_not_the_templated_neighbours(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/api/v1/images/random")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET"}
