"""Tenor v2 parameters, keys, CORS, Google-shaped errors, shares and terms."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.faults import FaultProxy
from tests.integration.helpers import State, create_image, png_bytes
from tests.integration.tenor_shape import PREFIXES, assert_api_headers, assert_google_error


@pytest.fixture
async def shapes(authed_client: httpx.AsyncClient) -> dict[str, str]:
    """Images of every aspect ratio the ar_range bounds tell apart (width / height)."""
    sizes = {"panorama": (300, 100), "wide": (200, 100), "square": (100, 100), "tall": (45, 100)}
    ids = {}
    for index, (name, size) in enumerate(sizes.items()):
        image = await create_image(
            authed_client, png_bytes(700 + index, size=size), title=f"{name} frog", tags="frog"
        )
        ids[name] = image["id"]
    return ids


async def _ids(client: httpx.AsyncClient, route: str, **params: str) -> list[str]:
    response = await client.get(route, params=params)
    assert response.status_code == 200, response.text
    return [result["id"] for result in response.json()["results"]]


async def test_ar_range_keeps_the_aspect_ratios_asked_for(
    client: httpx.AsyncClient, shapes: dict[str, str]
) -> None:
    everything = set(shapes.values())
    for ar_range, expected in [
        ("all", everything),
        ("wide", {shapes["wide"], shapes["square"], shapes["tall"]}),  # 0.42-2.36
        ("standard", {shapes["square"]}),  # 0.56-1.78
    ]:
        assert set(await _ids(client, "/v2/search", q="frog", ar_range=ar_range)) == expected
        assert set(await _ids(client, "/v2/featured", ar_range=ar_range)) == expected
    response = await client.get("/v2/search", params={"q": "frog", "ar_range": "huge"})
    assert_google_error(response, 400, "INVALID_ARGUMENT")


async def test_searchfilter_sticker_gives_no_results(
    client: httpx.AsyncClient, shapes: dict[str, str]
) -> None:
    for route in ("/v2/search", "/v2/featured"):
        response = await client.get(route, params={"q": "frog", "searchfilter": "sticker,-static"})
        assert response.json() == {"results": [], "next": ""}
    # `-static` alone asks for animated results: these are all stills.
    assert await _ids(client, "/v2/search", q="frog", searchfilter="-static") == []


async def test_client_parameters_and_unknown_ones_are_accepted(
    client: httpx.AsyncClient, shapes: dict[str, str]
) -> None:
    params = {
        "q": "frog",
        "key": "LIVDSRZULELA",
        "client_key": "zulip",
        "country": "FR",
        "locale": "fr_FR",
        "contentfilter": "high",
        "component": "categories",
        "whatever": "1",
    }
    assert len(await _ids(client, "/v2/search", **params)) == 4


async def test_posts_keep_the_order_asked_and_skip_unknown_ids(
    client: httpx.AsyncClient, shapes: dict[str, str]
) -> None:
    order = [shapes["tall"], "unknownId1", shapes["panorama"], "../../etc", shapes["tall"]]
    assert await _ids(client, "/v2/posts", ids=",".join(order)) == [
        shapes["tall"],
        shapes["panorama"],
    ]
    body = (await client.get("/v2/posts", params={"ids": shapes["wide"]})).json()
    assert body["next"] == ""
    assert_google_error(await client.get("/v2/posts"), 400, "INVALID_ARGUMENT")
    too_many = ",".join(f"id{n:08d}" for n in range(51))
    assert_google_error(
        await client.get("/v2/posts", params={"ids": too_many}), 400, "INVALID_ARGUMENT"
    )
    fifty = ",".join([shapes["square"], *(f"id{n:08d}" for n in range(49))])
    assert await _ids(client, "/v2/posts", ids=fifty) == [shapes["square"]]


async def test_registershare_counts_shares_and_orders_featured(
    client: httpx.AsyncClient, state: State, shapes: dict[str, str]
) -> None:
    newest_first = await _ids(client, "/v2/featured")
    assert newest_first == [shapes["tall"], shapes["square"], shapes["wide"], shapes["panorama"]]
    # Concurrent shares all count (an atomic increment, not read-modify-write).
    shares = [client.get("/v2/registershare", params={"id": shapes["wide"]}) for _ in range(5)]
    assert {r.status_code for r in await asyncio.gather(*shares)} == {200}
    posted = await client.post(
        "/klipy/v2/registershare", params={"id": shapes["panorama"], "q": "frog"}
    )
    assert posted.status_code == 200
    assert posted.json() == {}
    assert await _ids(client, "/v2/featured") == [
        shapes["wide"],
        shapes["panorama"],
        shapes["tall"],
        shapes["square"],
    ]
    async with state.sessionmaker() as session:
        from sqlalchemy import text

        counts = dict((await session.execute(text("SELECT id, share_count FROM images"))).all())
    assert counts[shapes["wide"]] == 5
    assert counts[shapes["square"]] == 0


async def test_registershare_of_an_unknown_id_is_a_google_404_and_changes_nothing(
    client: httpx.AsyncClient, state: State, shapes: dict[str, str]
) -> None:
    for image_id in ("unknownId1", "x" * 300, "'; DROP TABLE images; --"):
        response = await client.get("/v2/registershare", params={"id": image_id})
        assert_google_error(response, 404, "NOT_FOUND")
    assert_google_error(await client.get("/v2/registershare"), 400, "INVALID_ARGUMENT")
    async with state.sessionmaker() as session:
        from sqlalchemy import text

        total = (await session.execute(text("SELECT sum(share_count) FROM images"))).scalar()
    assert total == 0
    assert await state.row_count("images") == 4


async def test_terms_come_from_tags_and_titles(
    authed_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    for index, (title, tags) in enumerate(
        [
            ("Happy dance", "dance,happy"),
            ("Dancing cat", "dance,cat"),
            ("Danger zone", "danger"),
            ("Sad cat", "cat,sad"),
            ("Cat nap", "cat"),
        ]
    ):
        await create_image(authed_client, png_bytes(900 + index), title=title, tags=tags)
    trending = (await client.get("/v2/trending_terms")).json()["results"]
    assert trending[:2] == ["cat", "dance"]
    assert set(trending) == {"cat", "dance", "danger", "happy", "sad"}
    completions = (await client.get("/v2/autocomplete", params={"q": "Dan"})).json()["results"]
    assert completions[:2] == ["dance", "danger"]  # tags first, most used first
    assert "dancing" in completions  # then other words of the library
    assert (await client.get("/v2/autocomplete", params={"q": "dan", "limit": "1"})).json() == {
        "results": ["dance"]
    }
    assert (await client.get("/v2/autocomplete", params={"q": "%"})).json() == {"results": []}
    suggestions = (await client.get("/v2/search_suggestions", params={"q": "cat"})).json()
    assert "cat" not in suggestions["results"]  # the query itself is no suggestion
    assert {"sad", "dance"} <= set(suggestions["results"])
    assert "Cat nap" in suggestions["results"]
    assert (await client.get("/v2/search_suggestions")).json() == {"results": []}
    categories = (await client.get("/v2/categories", params={"limit": "2"})).json()["tags"]
    newest_cat = (await client.get("/api/v1/images", params={"tag": "cat"})).json()["items"][0]
    assert categories[0] == {
        "searchterm": "cat",
        "path": "/v2/search?q=cat",
        "image": newest_cat["url"],
        "name": "#cat",
    }
    assert [tag["searchterm"] for tag in categories] == ["cat", "dance"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_unknown_routes_and_methods_get_google_errors(
    client: httpx.AsyncClient, prefix: str
) -> None:
    assert_google_error(await client.get(f"{prefix}/gifs"), 404, "NOT_FOUND")
    assert_google_error(await client.get(f"{prefix}/search/extra"), 404, "NOT_FOUND")
    assert_google_error(await client.delete(f"{prefix}/search"), 405, "UNIMPLEMENTED")
    # Paths outside the prefixes keep the API's own error shape.
    other = await client.get("/api/v1/images/unknownId1")
    assert other.status_code == 404
    assert set(other.json()) == {"detail"}


async def test_cors_preflight_and_headers(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/klipy/v2/search",
        headers={
            "Origin": "https://chat.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-client",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "x-client"
    response = await client.get("/v2/search", params={"q": "x"}, headers={"Origin": "https://a"})
    assert_api_headers(response)
    assert response.json() == {"results": [], "next": ""}
    assert "access-control-allow-origin" not in (await client.get("/api/v1/tags")).headers


async def test_unsearchable_text_gets_an_empty_page_or_a_google_400(
    client: httpx.AsyncClient, shapes: dict[str, str]
) -> None:
    for q in ("%_\\", "' OR 1=1 --", "🐸", "frog & | ! :*"):
        response = await client.get("/v2/search", params={"q": q})
        assert response.status_code == 200, (q, response.text)
    assert_google_error(
        await client.get("/v2/search", params={"q": "a\x00b"}), 400, "INVALID_ARGUMENT"
    )
    assert_google_error(
        await client.get("/v2/search", params={"q": "x" * 501}), 400, "INVALID_ARGUMENT"
    )
    assert_google_error(
        await client.get("/v2/search", params={"q": "frog", "random": "maybe"}),
        400,
        "INVALID_ARGUMENT",
    )


async def test_tenor_api_keys_restrict_every_route(
    make_app: Callable[..., Any], shapes: dict[str, str]
) -> None:
    async for app in make_app(tenor_api_keys="first-key, second-key"):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as keyed:
            for prefix in PREFIXES:
                for params in ({}, {"key": "wrong"}, {"key": "first-key,second-key"}):
                    response = await keyed.get(f"{prefix}/search", params={"q": "frog", **params})
                    assert_google_error(response, 403, "PERMISSION_DENIED")
                response = await keyed.get(f"{prefix}/registershare", params={"id": shapes["wide"]})
                assert_google_error(response, 403, "PERMISSION_DENIED")
                for key in ("first-key", "second-key"):
                    response = await keyed.get(f"{prefix}/search", params={"q": "frog", "key": key})
                    assert response.status_code == 200
                    assert len(response.json()["results"]) == 4
            # A browser's preflight carries no key: it must still pass.
            preflight = await keyed.options(
                "/v2/search", headers={"Access-Control-Request-Method": "GET"}
            )
            assert preflight.status_code == 204
        # The gallery's own API stays open.
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            assert (await other.get("/api/v1/images")).status_code == 200


async def test_an_empty_pos_is_past_the_end(
    client: httpx.AsyncClient, shapes: dict[str, str]
) -> None:
    """Zulip and Bluesky send the last page's `next` ("") back when the user scrolls on."""
    last = (await client.get("/v2/search", params={"q": "frog", "limit": "50"})).json()
    assert last["next"] == ""
    for route in ("/v2/search", "/v2/featured"):
        response = await client.get(route, params={"q": "frog", "pos": last["next"]})
        assert response.json() == {"results": [], "next": ""}
    first = (await client.get("/v2/search", params={"q": "frog", "pos": "0"})).json()
    assert len(first["results"]) == 4


async def test_commet_media_paths_lead_back_to_the_files(
    client: httpx.AsyncClient, shapes: dict[str, str]
) -> None:
    """Commet fetches https://<proxy>/proxy/klipy/media<path of each file URL>."""
    image_id = shapes["square"]
    for path in (f"/f/{image_id}.png", f"/api/v1/images/{image_id}/thumbnail"):
        response = await client.get(f"/proxy/klipy/media{path}")
        assert response.status_code == 308
        assert response.headers["location"] == f"http://testserver{path}"
        followed = await client.get(f"/proxy/klipy/media{path}", follow_redirects=True)
        assert followed.status_code == 200
        assert followed.content
    for path in ("/etc/passwd", "/f/../../etc/passwd", "/api/v1/auth/me", "/f/a%2F..%2Fb.png"):
        response = await client.get(f"/proxy/klipy/media{path}")
        assert response.status_code == 404, path


async def test_a_database_outage_is_a_google_503(
    make_app: Callable[..., Any], settings: Any, shapes: dict[str, str]
) -> None:
    parts = urlsplit(settings.database_url)
    assert parts.hostname is not None
    assert parts.port is not None
    proxy = FaultProxy(parts.hostname, parts.port).start()
    proxied_url = settings.database_url.replace(
        f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}"
    )
    try:
        async with aclosing(make_app(database_url=proxied_url)) as apps:
            async for app in apps:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                ) as proxied:
                    assert (
                        await proxied.get("/v2/search", params={"q": "frog"})
                    ).status_code == 200
                    proxy.refuse()
                    for route in ("search", "featured", "categories", "registershare"):
                        response = await proxied.get(
                            f"/v2/{route}", params={"q": "frog", "id": shapes["wide"]}
                        )
                        assert_google_error(response, 503, "UNAVAILABLE")
    finally:
        proxy.close()


async def test_categories_find_the_newest_image_of_a_tag_used_only_long_ago(
    authed_client: httpx.AsyncClient, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.tenor import repository

    first = await create_image(authed_client, png_bytes(801), title="old", tags="vintage")
    newest = await create_image(authed_client, png_bytes(802), title="less old", tags="vintage")
    for index in range(3):
        await create_image(authed_client, png_bytes(810 + index), title="new", tags="fresh")
    # Only the newest row is looked at first: `vintage` needs the per-tag query.
    monkeypatch.setattr(repository, "RECENT_ROWS_FOR_CATEGORIES", 1)
    tags = (await client.get("/v2/categories")).json()["tags"]
    by_term = {tag["searchterm"]: tag["image"] for tag in tags}
    assert set(by_term) == {"fresh", "vintage"}
    assert by_term["vintage"] == newest["url"] != first["url"]
