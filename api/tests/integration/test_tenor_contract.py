"""The Tenor v2 surface: every route under every prefix answers in Tenor's documented
shape, and carries what real GIF pickers read (Zulip, Commet, Movim, Discourse, Bluesky)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.helpers import State, create_image, gif_bytes, png_bytes, webp_bytes
from tests.integration.tenor_shape import (
    PREFIXES,
    add_renditions,
    assert_api_headers,
    assert_media_format,
    assert_result,
    assert_results_page,
)

BASE = "http://testserver"


@pytest.fixture
async def library(authed_client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """An animated GIF, a PNG and a WebP, tagged; the PNG has recognised text."""
    dog = await create_image(
        authed_client,
        gif_bytes(1, frames=4, size=(48, 36), duration=100),
        title="This is fine",
        tags="dog,fire",
        description="a dog sits in a burning room",
    )
    cat = await create_image(
        authed_client, png_bytes(2, size=(400, 100)), title="Cat dance", tags="cat,dance,dog"
    )
    patched = await authed_client.patch(
        f"/api/v1/images/{cat['id']}", json={"ocr_text": "DANCE CAT"}
    )
    assert patched.status_code == 200
    wow = await create_image(authed_client, webp_bytes(3, size=(50, 60)), title="Wow", tags="wow")
    return {"dog": dog, "cat": cat, "wow": wow}


def _routes(library: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    return [
        ("search", {"q": "dog"}),
        ("featured", {}),
        ("posts", {"ids": ",".join(image["id"] for image in library.values())}),
    ]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_result_routes_answer_in_tenor_shape_under_every_prefix(
    client: httpx.AsyncClient, library: dict[str, dict[str, Any]], prefix: str
) -> None:
    for route, params in _routes(library):
        response = await client.get(f"{prefix}/{route}", params={"key": "anything", **params})
        assert response.status_code == 200, (route, response.text)
        assert_api_headers(response)
        results = assert_results_page(response.json())
        assert results, route


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_term_routes_answer_in_tenor_shape_under_every_prefix(
    client: httpx.AsyncClient, library: dict[str, dict[str, Any]], prefix: str
) -> None:
    for route, params in [
        ("autocomplete", {"q": "d"}),
        ("search_suggestions", {"q": "dog"}),
        ("trending_terms", {}),
    ]:
        response = await client.get(f"{prefix}/{route}", params=params)
        assert response.status_code == 200, (route, response.text)
        assert_api_headers(response)
        body = response.json()
        assert set(body) == {"results"}
        assert body["results"]
        assert all(isinstance(term, str) for term in body["results"])

    response = await client.get(f"{prefix}/categories")
    assert response.status_code == 200
    assert_api_headers(response)
    tags = response.json()["tags"]
    assert tags
    for tag in tags:
        assert set(tag) == {"searchterm", "path", "image", "name"}
        assert all(isinstance(value, str) for value in tag.values())

    share = await client.get(f"{prefix}/registershare", params={"id": library["dog"]["id"]})
    assert share.status_code == 200
    assert share.json() == {}
    assert share.headers["access-control-allow-origin"] == "*"
    assert share.headers["cache-control"] == "no-store"


async def test_result_fields_say_what_the_image_is(
    client: httpx.AsyncClient, library: dict[str, dict[str, Any]]
) -> None:
    ids = f"{library['dog']['id']},{library['cat']['id']}"
    dog, cat = (await client.get("/v2/posts", params={"ids": ids})).json()["results"]
    assert dog["id"] == library["dog"]["id"]
    assert dog["title"] == "This is fine"
    assert dog["content_description"] == "a dog sits in a burning room"
    assert cat["content_description"] == "Cat dance"  # no description: the title
    assert dog["tags"] == ["dog", "fire"]
    assert dog["itemurl"] == dog["url"] == f"{BASE}/i/{dog['id']}"
    assert dog["flags"] == []
    assert dog["hasaudio"] is False
    assert dog["hascaption"] is False
    assert cat["hascaption"] is True
    created = library["dog"]["created_at"].replace("Z", "+00:00")
    from datetime import datetime

    assert dog["created"] == pytest.approx(datetime.fromisoformat(created).timestamp())


async def test_without_renditions_the_original_stands_in(
    client: httpx.AsyncClient, library: dict[str, dict[str, Any]]
) -> None:
    """Before the worker made renditions, every picker still gets files that exist."""
    ids = ",".join(image["id"] for image in library.values())
    results = (await client.get("/v2/posts", params={"ids": ids})).json()["results"]
    for result, image in zip(results, library.values(), strict=True):
        formats = result["media_formats"]
        for name in ("gif", "mediumgif", "tinygif", "nanogif"):
            assert formats[name]["url"] == image["url"]
            assert formats[name]["dims"] == [image["width"], image["height"]]
            assert formats[name]["size"] == image["size_bytes"]
            assert formats[name]["preview"] == image["thumbnail_url"]
        assert formats["gif"]["duration"] == image["duration_ms"] / 1000
        assert formats["preview"]["url"] == image["thumbnail_url"]
        assert "mp4" not in formats
        assert "tinywebm" not in formats
        # The files behind the URLs exist, with the advertised size.
        for name in ("tinygif", "preview"):
            served = await client.get(formats[name]["url"].removeprefix(BASE))
            assert served.status_code == 200
            assert len(served.content) == formats[name]["size"]
    dog, cat, wow = results
    assert dog["media_formats"]["gif"]["duration"] == 0.4
    assert cat["media_formats"]["preview"]["dims"] == [320, 80]  # thumbnail: longest side 320
    assert wow["media_formats"]["preview"]["dims"] == [50, 60]
    assert "webp" in wow["media_formats"]
    assert "webp" not in dog["media_formats"]


async def test_with_renditions_every_format_is_listed(
    client: httpx.AsyncClient, state: State, library: dict[str, dict[str, Any]]
) -> None:
    from app.renditions.formats import FORMATS

    dog = library["dog"]
    sizes = await add_renditions(state, dog["id"], dog["width"], dog["height"])
    body = (await client.get("/v2/posts", params={"ids": dog["id"]})).json()
    formats = body["results"][0]["media_formats"]
    assert set(formats) == set(FORMATS)
    preview = f"{BASE}/f/{dog['id']}/preview.webp"
    for name, media in formats.items():
        assert_media_format(media)
        assert media["size"] == sizes[name]
        assert _unversioned(media["preview"]) == preview
    assert _unversioned(formats["mp4"]["url"]) == f"{BASE}/f/{dog['id']}/mp4.mp4"
    assert _unversioned(formats["tinywebm"]["url"]) == f"{BASE}/f/{dog['id']}/tinywebm.webm"
    assert formats["tinygif"]["dims"] == [24, 18]
    # The listed URLs are served (the rendition file route), with the listed sizes.
    for name in ("tinygif", "webp", "tinywebm", "preview"):
        served = await client.get(formats[name]["url"].removeprefix(BASE))
        assert served.status_code == 200, name
        assert len(served.content) == formats[name]["size"]
    # Through Commet's media path too.
    commet = await client.get(
        "/proxy/klipy/media" + formats["webp"]["url"].removeprefix(BASE), follow_redirects=True
    )
    assert commet.status_code == 200
    assert len(commet.content) == formats["webp"]["size"]


async def test_media_filter_returns_exactly_the_requested_formats(
    client: httpx.AsyncClient, state: State, library: dict[str, dict[str, Any]]
) -> None:
    dog, cat = library["dog"], library["cat"]
    await add_renditions(state, dog["id"], dog["width"], dog["height"])
    params = {"ids": f"{dog['id']},{cat['id']}", "media_filter": "tinygif, mp4,loopedmp4,bogus"}
    with_renditions, without = (await client.get("/v2/posts", params=params)).json()["results"]
    assert set(with_renditions["media_formats"]) == {"tinygif", "mp4"}
    # mp4 does not exist for the image without renditions: only what exists is listed.
    assert set(without["media_formats"]) == {"tinygif"}
    only_unknown = await client.get("/v2/posts", params={**params, "media_filter": "bogus"})
    assert [r["media_formats"] for r in only_unknown.json()["results"]] == [{}, {}]


# What real pickers read, each from its own source (see docs/chat-apps.md).


async def test_zulip_reads_tinygif_mediumgif_and_a_string_next(
    client: httpx.AsyncClient, library: dict[str, dict[str, Any]]
) -> None:
    for route, params in [("featured", {}), ("search", {"q": "dog"})]:
        body = (
            await client.get(
                f"/v2/{route}",
                params={"media_filter": "tinygif,mediumgif", "limit": "1", **params},
            )
        ).json()
        assert isinstance(body["next"], str)
        assert body["next"]
        for result in body["results"]:
            assert set(result["media_formats"]) == {"tinygif", "mediumgif"}
            assert result["media_formats"]["tinygif"]["url"]
            assert result["media_formats"]["mediumgif"]["url"]
        last = await client.get(f"/v2/{route}", params={"pos": body["next"], "limit": 50, **params})
        assert last.json()["next"] == ""


async def test_commet_reads_webp_size(
    client: httpx.AsyncClient, state: State, library: dict[str, dict[str, Any]]
) -> None:
    dog = library["dog"]
    sizes = await add_renditions(state, dog["id"], dog["width"], dog["height"])
    results = (await client.get("/klipy/v2/search", params={"q": "dog"})).json()["results"]
    by_id = {result["id"]: result for result in results}
    assert by_id[dog["id"]]["media_formats"]["webp"]["size"] == sizes["webp"]


async def test_movim_pages_with_numeric_pos_and_reads_tinywebm(
    client: httpx.AsyncClient, state: State, library: dict[str, dict[str, Any]]
) -> None:
    for image in library.values():
        await add_renditions(state, image["id"], image["width"], image["height"])
    seen = []
    for pos in ("0", "1", "2"):
        body = (await client.get("/v2/featured", params={"limit": "1", "pos": pos})).json()
        assert_results_page(body)
        (result,) = body["results"]
        assert _unversioned(result["media_formats"]["tinywebm"]["url"]).endswith("/tinywebm.webm")
        seen.append(result["id"])
    assert sorted(seen) == sorted(image["id"] for image in library.values())
    assert (await client.get("/v2/featured", params={"limit": "1", "pos": "3"})).json() == {
        "results": [],
        "next": "",
    }


async def test_discourse_reads_title_and_gif_dims(
    client: httpx.AsyncClient, library: dict[str, dict[str, Any]]
) -> None:
    results = (await client.get("/v2/search", params={"q": "fine"})).json()["results"]
    assert results[0]["title"] == "This is fine"
    assert results[0]["media_formats"]["gif"]["dims"] == [48, 36]


async def test_bluesky_reads_gif_preview_tinygif_and_description(
    client: httpx.AsyncClient, library: dict[str, dict[str, Any]]
) -> None:
    params = {"q": "dance", "media_filter": "gif,preview,tinygif"}
    (result,) = (await client.get("/v2/search", params=params)).json()["results"]
    assert_result(result)
    assert set(result["media_formats"]) == {"gif", "preview", "tinygif"}
    assert result["content_description"] == "Cat dance"


async def test_only_v2_is_in_the_openapi_description(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/v2/search" in paths
    assert "/v2/registershare" in paths
    assert not [path for path in paths if "klipy" in path or path.startswith("/tenor/")]


def _unversioned(url: str) -> str:
    """A rendition URL without its build (`?v=`, which changes on every rebuild)."""
    path, versioned, version = url.partition("?v=")
    assert not versioned or version.isalnum()
    return path
