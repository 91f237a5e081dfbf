"""Direct file URLs and thumbnails: headers, ETag/304, ranges."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image as PILImage

from tests.integration.helpers import create_image, gif_bytes, png_bytes


async def test_direct_link_serves_the_original_safely(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    data = gif_bytes(3, frames=3)
    image = await create_image(authed_client, data)
    for path in (f"/f/{image['id']}.gif", f"/api/v1/images/{image['id']}/file"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == "image/gif"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"] == f'"{image["sha256"]}"'
        assert response.headers["content-length"] == str(len(data))


async def test_wrong_extension_still_serves_that_image_only(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    first = await create_image(authed_client, png_bytes(1))
    await create_image(authed_client, png_bytes(2))
    for path in (f"/f/{first['id']}.gif", f"/f/{first['id']}", f"/f/{first['id']}.html"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.content == png_bytes(1)
        assert response.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    "path",
    [
        "/f/AAAAAAAAAA.gif",
        "/f/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/images/AAAAAAAAAA/file",
        "/api/v1/images/AAAAAAAAAA/thumbnail",
    ],
)
async def test_unknown_files_are_404(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_if_none_match_gives_304(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, png_bytes(4))
    etag = (await client.get(image["url"])).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await client.get(image["url"], headers={"If-None-Match": header})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
    stale = await client.get(image["url"], headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


async def test_ranges(client: httpx.AsyncClient, authed_client: httpx.AsyncClient) -> None:
    data = png_bytes(5, size=(200, 200))
    image = await create_image(authed_client, data)
    size = len(data)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=10-": (10, size - 1),
        "bytes=-5": (size - 5, size - 1),
        f"bytes=5-{size + 100}": (5, size - 1),
    }
    for header, (first, last) in cases.items():
        response = await client.get(image["url"], headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == data[first : last + 1]
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.headers["content-length"] == str(last - first + 1)
    unsatisfiable = await client.get(image["url"], headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    ignored = await client.get(image["url"], headers={"Range": "bytes=0-1,5-6"})
    assert ignored.status_code == 200
    assert ignored.content == data
    stale = await client.get(image["url"], headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200


async def test_head_gives_headers_without_body(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    data = png_bytes(6)
    image = await create_image(authed_client, data)
    response = await client.head(image["url"])
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(data))
    assert response.content == b""


async def test_thumbnail_is_a_small_webp_of_the_first_frame(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    frames = [PILImage.new("RGB", (640, 480), color) for color in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = await create_image(authed_client, out.getvalue())
    response = await client.get(image["thumbnail_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    thumb = PILImage.open(io.BytesIO(response.content))
    assert thumb.format == "WEBP"
    assert thumb.size == (320, 240)
    red, _green, blue = thumb.convert("RGB").getpixel((160, 120))  # type: ignore[misc]
    assert red > 200  # the first (red) frame, not the blue second one
    assert blue < 50
    again = await client.get(
        image["thumbnail_url"], headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
