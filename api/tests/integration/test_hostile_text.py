"""Text PostgreSQL cannot take (NUL, lone surrogates), characters unaccent spells out
as punctuation, and digits int() refuses: a 4xx of the route's shape, never a 500
(issue 15, found by fuzzing /openapi.json)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.integration.helpers import State, create_image, png_bytes, upload
from tests.integration.tenor_shape import assert_google_error


@pytest.mark.parametrize("route", ["/api/v1/tags", "/tags"])
async def test_a_nul_in_a_tag_prefix_is_refused(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, route: str
) -> None:
    await create_image(authed_client, tags="dog")
    response = await client.get(route, params={"prefix": "d\x00"})
    assert response.status_code == 422
    assert "prefix" in response.text  # the API's {"detail"}, or the page's message
    # The same route still answers a plain prefix.
    assert (await client.get("/api/v1/tags", params={"prefix": "D"})).json() == [
        {"name": "dog", "count": 1}
    ]


@pytest.mark.parametrize("text", ["1½ cats", "cat ⑴ dog", "a\u02d0b cats", "ŉ x", "cats ¾"])
@pytest.mark.parametrize(
    "route", ["/api/v1/images", "/v2/search", "/v2/search_suggestions", "/v2/autocomplete"]
)
async def test_characters_unaccent_spells_out_are_searchable(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, text: str, route: str
) -> None:
    await create_image(authed_client, title="cats 1 2")
    response = await client.get(route, params={"q": text})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("pos", ["³", "1²", "٣"])
async def test_a_pos_of_other_digits_is_a_cursor_not_an_offset(
    client: httpx.AsyncClient, pos: str
) -> None:
    response = await client.get("/v2/featured", params={"pos": pos})
    assert_google_error(response, 400, "INVALID_ARGUMENT")


async def test_a_content_length_of_other_digits_is_a_400(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    request = authed_client.build_request(
        "POST", "/api/v1/images", files={"file": ("a.png", png_bytes(1), "image/png")}
    )
    request.headers["Content-Length"] = "³"
    response = await authed_client.send(request)
    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]
    await state.assert_nothing_stored()


@pytest.mark.parametrize(
    "fields",
    [{"title": "a\x00b"}, {"description": "x\x00"}, {"tags": "dog,c\x00t"}],
)
async def test_a_nul_in_an_upload_field_is_a_422_and_stores_nothing(
    authed_client: httpx.AsyncClient, state: State, fields: dict[str, str]
) -> None:
    response = await upload(authed_client, png_bytes(2), **fields)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    await state.assert_nothing_stored()


@pytest.mark.parametrize("body", [{"title": "a\x00"}, {"tags": ["\ud800"]}, {"ocr_text": "x\x00y"}])
async def test_a_nul_or_lone_surrogate_in_a_patch_is_a_422(
    authed_client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    image = await create_image(authed_client, title="kept")
    raw = json.dumps(body).encode()  # ASCII: the surrogate travels as an escape
    response = await authed_client.patch(
        f"/api/v1/images/{image['id']}",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    assert (await authed_client.get(f"/api/v1/images/{image['id']}")).json()["title"] == "kept"


@pytest.mark.parametrize(
    ("route", "params", "status"),
    [
        ("/api/v1/images", {"cursor": "a\x00"}, 422),
        ("/api/v1/images", {"tag": "a\x00"}, 422),
        ("/api/v1/images/random", {"tag": "\x00"}, 422),
        ("/v2/search", {"pos": "x\x00"}, 400),
        ("/v2/autocomplete", {"q": "a\x00"}, 400),
        ("/v2/registershare", {"id": "\x00"}, 404),
    ],
)
async def test_a_nul_in_any_other_query_parameter_is_a_4xx(
    client: httpx.AsyncClient, route: str, params: dict[str, str], status: int
) -> None:
    response = await client.get(route, params=params)
    assert response.status_code == status, response.text
    if route.startswith("/v2/"):
        assert "error" in response.json()
    else:
        assert isinstance(response.json()["detail"], str)


async def test_public_files_allow_any_origin(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client)
    for path in (
        f"/f/{image['id']}.png",
        f"/api/v1/images/{image['id']}/file",
        f"/api/v1/images/{image['id']}/thumbnail",
    ):
        response = await client.get(path, headers={"Origin": "https://bsky.app"})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
