"""The visitor's pages: gallery and search, an image, tags, oEmbed, static files."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from app.web import visitor
from tests.integration.helpers import create_image, gif_bytes, png_bytes

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    assert match, f"no {key} meta tag"
    return unescape(match.group(1))


def card_ids(html: str) -> list[str]:
    return re.findall(r'<a class="card" href="/i/([^"]+)"', html)


async def test_empty_gallery(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "No images yet." in response.text
    assert card_ids(response.text) == []


async def test_pages_carry_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text, "no inline script at all"
    assert 'style="' not in response.text, "no inline style either"


async def test_gallery_shows_thumbnails_newest_first(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    first = await create_image(authed_client, png_bytes(1, (640, 480)), title="first")
    second = await create_image(
        authed_client, gif_bytes(2), title="second", description="a dancing parrot"
    )
    html = (await client.get("/")).text
    assert card_ids(html) == [second["id"], first["id"]]
    tile = re.search(rf'<img src="/api/v1/images/{first["id"]}/thumbnail"[^>]*>', html)
    assert tile is not None
    assert 'width="320" height="240"' in tile.group(0), "dimensions set: no layout shift"
    assert 'alt="first"' in tile.group(0), "no description: the title is the alt text"
    assert f'data-anim="/f/{second["id"]}.gif"' in html, "animated: the original plays on hover"
    assert 'alt="a dancing parrot"' in html


async def test_search_and_tag_filters(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    fine = await create_image(authed_client, title="this is fine", tags="dog, fire")
    shrug = await create_image(authed_client, title="shrug", tags="dunno")
    assert card_ids((await client.get("/", params={"q": "fine"})).text) == [fine["id"]]
    assert card_ids((await client.get("/", params={"q": "shru"})).text) == [shrug["id"]]
    tagged = await client.get("/", params={"tag": "DOG"})
    assert card_ids(tagged.text) == [fine["id"]]
    assert 'aria-label="Remove the tag filter dog"' in tagged.text
    nothing = await client.get("/", params={"q": "zebra"})
    assert card_ids(nothing.text) == []
    assert "Nothing matches." in nothing.text
    assert 'value="zebra"' in nothing.text, "the search box keeps the query"


async def test_load_more_pages_through_everything(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(visitor, "PAGE_SIZE", 2)
    created = [(await create_image(authed_client, title=f"img {n}"))["id"] for n in range(5)]
    seen: list[str] = []
    url = "/"
    while True:
        html = (await client.get(url)).text
        seen += card_ids(html)
        more = re.search(
            r'<a id="more" class="button more" href="([^"]+)" data-cursor="[^"]+">', html
        )
        if more is None:
            break
        url = unescape(more.group(1))
    assert seen == list(reversed(created))


async def test_a_forged_cursor_is_an_html_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "The cursor is not valid" in response.text
    too_long = await client.get("/", params={"q": "x" * 501})
    assert too_long.status_code == 422


async def test_detail_page(client: httpx.AsyncClient, authed_client: httpx.AsyncClient) -> None:
    image = await create_image(
        authed_client,
        gif_bytes(3, frames=4, size=(120, 90)),
        title="party [parrot]",
        description="A parrot that dances",
        tags="bird, party",
    )
    await authed_client.patch(f"/api/v1/images/{image['id']}", json={"ocr_text": "PARTY TIME"})
    response = await client.get(f"/i/{image['id']}")
    assert response.status_code == 200
    html = response.text
    assert "<h1>party [parrot]</h1>" in html
    assert "A parrot that dances" in html
    assert '<a class="chip" href="/?tag=bird">bird</a>' in html
    assert "PARTY TIME" in html
    assert "120 \u00d7 90 px" in html
    assert "4 frames" in html
    assert f'href="/f/{image["id"]}.gif" download="party _parrot_.gif"' in html
    copies = [unescape(value) for value in re.findall(r'data-copy="([^"]*)"', html)]
    assert copies == [
        image["url"],
        f"![party \\[parrot\\]]({image['url']})",
        f'<img src="{image["url"]}" alt="A parrot that dances" width="120" height="90">',
    ]
    assert ">Copy link<" in html
    assert ">Copy Markdown<" in html
    assert ">Copy HTML<" in html
    assert "/edit" not in html, "visitors get no edit link"


async def test_detail_page_unfurls(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(
        authed_client, png_bytes(4, (800, 600)), title="big", description="a big one"
    )
    html = (await client.get(f"/i/{image['id']}")).text
    page_url = f"http://testserver/i/{image['id']}"
    assert meta(html, "og:image") == image["url"]
    assert meta(html, "og:image:width") == "800"
    assert meta(html, "og:image:height") == "600"
    assert meta(html, "og:image:alt") == "a big one"
    assert meta(html, "og:image:type") == "image/png"
    assert meta(html, "og:title") == "big"
    assert meta(html, "og:url") == page_url
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:image") == image["url"]
    discovery = re.search(
        r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html
    )
    assert discovery is not None
    assert (
        unescape(discovery.group(1)) == f"http://testserver/oembed?url={quote(page_url, safe='')}"
    )


async def test_unknown_image_is_a_404_page(client: httpx.AsyncClient) -> None:
    for path in ("/i/AAAAAAAAAA", "/i/bad!id"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "No image with that id." in response.text


async def test_user_text_is_escaped_everywhere(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(
        authed_client, title="<script>alert(1)</script>", description=XSS, tags="<b>bold</b>"
    )
    await authed_client.patch(f"/api/v1/images/{image['id']}", json={"ocr_text": XSS})
    pages = [
        await client.get("/"),
        await client.get(f"/i/{image['id']}"),
        await client.get("/tags"),
        await client.get("/", params={"q": "<script>"}),
        await client.get("/", params={"tag": "<b>bold</b>"}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>" not in page.text
        assert "<b>bold" not in page.text
        assert "<img src=x" not in page.text
        assert "onerror=alert(2)>" not in page.text or "&gt;" in page.text
    detail = pages[1].text
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in detail
    assert meta(detail, "og:title") == "<script>alert(1)</script>", "escaped, not mangled"


async def test_tags_page(client: httpx.AsyncClient, authed_client: httpx.AsyncClient) -> None:
    await create_image(authed_client, tags="dog, fire")
    await create_image(authed_client, tags="dog")
    html = (await client.get("/tags")).text
    assert re.search(r'<a href="/\?tag=dog">dog</a> <span class="count"[^>]*>2</span>', html)
    assert re.search(r'<a href="/\?tag=fire">fire</a> <span class="count"[^>]*>1</span>', html)
    filtered = (await client.get("/tags", params={"prefix": "Fi"})).text
    assert "tag=fire" in filtered
    assert "tag=dog" not in filtered


async def test_random_redirects_to_an_image(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    assert (await client.get("/random")).status_code == 404
    image = await create_image(authed_client, tags="only")
    response = await client.get("/random", params={"tag": "only"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/i/{image['id']}"


async def test_oembed(client: httpx.AsyncClient, authed_client: httpx.AsyncClient) -> None:
    image = await create_image(authed_client, png_bytes(5, (800, 400)), title="wide")
    for url in (f"http://testserver/i/{image['id']}", image["url"]):
        response = await client.get("/oembed", params={"url": url})
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        assert body["type"] == "photo"
        assert body["version"] == "1.0"
        assert body["url"] == image["url"]
        assert (body["width"], body["height"]) == (800, 400)
        assert body["title"] == "wide"
        assert body["provider_name"] == "reactbin"
    scaled = await client.get(
        "/oembed", params={"url": image["url"], "maxwidth": 400, "maxheight": 400}
    )
    assert (scaled.json()["width"], scaled.json()["height"]) == (400, 200)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"url": "http://testserver/i/AAAAAAAAAA"}, 404),
        ({"url": "https://elsewhere.example/i/AAAAAAAAAA"}, 404),
        ({"url": "http://testserver/tags"}, 404),
        ({"url": "javascript:alert(1)"}, 404),
        ({}, 422),
        ({"url": "http://testserver/i/AAAAAAAAAA", "format": "xml"}, 501),
    ],
)
async def test_oembed_refusals(
    client: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    response = await client.get("/oembed", params=params)
    assert response.status_code == status
    if status != 501:
        assert "detail" in response.json()


async def test_static_files_are_versioned_and_cached(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    for name, media in (("app.css", "text/css"), ("app.js", "text/javascript")):
        match = re.search(rf"/static/{re.escape(name)}\?v=(\w+)", html)
        assert match, name
        response = await client.get(match.group(0))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        assert "immutable" in response.headers["cache-control"]
        again = await client.get(
            match.group(0), headers={"If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304
    assert (await client.get("/static/app.js")).headers["cache-control"] == "no-cache"
    assert (await client.get("/static/nope.js")).status_code == 404
    assert (await client.get("/static/..%2Fpages.py")).status_code == 404


async def test_page_weight_stays_under_60_kb(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    """A full gallery page of long titles and descriptions, plus its CSS and JS."""
    for n in range(visitor.PAGE_SIZE + 1):
        await create_image(
            authed_client, title=f"{n} " + "t" * 190, description="d" * 2000, tags="a, b"
        )
    html = (await client.get("/")).text
    assert len(card_ids(html)) == visitor.PAGE_SIZE
    assets = re.findall(r'(?:href|src)="(/static/app\.(?:css|js)\?v=\w+)"', html)
    assert len(assets) == 2
    total = len(html.encode())
    for asset in assets:
        total += len((await client.get(asset)).content)
    assert total < 60 * 1024, f"{total} bytes"
    image_id = card_ids(html)[0]
    detail = (await client.get(f"/i/{image_id}")).text
    detail_total = len(detail.encode()) + sum(
        [len((await client.get(asset)).content) for asset in assets]
    )
    assert detail_total < 60 * 1024, f"{detail_total} bytes"
