"""What a visitor downloads never carries location, metadata or smuggled content."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image as PILImage

from tests.integration.helpers import State, create_image, png_bytes, upload

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
MARKERS = [b"<script", b"GPS", b"ReactbinCam", b"Exif\x00\x00", b"x:xmpmeta", b"PK\x03\x04"]


@pytest.mark.parametrize(
    "name",
    ["metadata.jpg", "metadata.png", "metadata.webp", "metadata.gif", "orientation6_gps.jpg"],
)
async def test_served_bytes_carry_no_metadata_or_payload(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, name: str
) -> None:
    original = (SAMPLES / name).read_bytes()
    assert any(marker in original for marker in MARKERS)
    image = await create_image(authed_client, original)
    served = (await client.get(image["url"])).content
    for marker in MARKERS:
        assert marker not in served, marker
    assert image["size_bytes"] == len(served)
    decoded = PILImage.open(io.BytesIO(served))
    assert not decoded.getexif()
    assert (decoded.width, decoded.height) == (image["width"], image["height"])


async def test_sideways_photo_is_served_upright(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, (SAMPLES / "orientation6_gps.jpg").read_bytes())
    assert (image["width"], image["height"]) == (20, 40)
    served = PILImage.open(io.BytesIO((await client.get(image["url"])).content)).convert("RGB")
    assert served.size == (20, 40)
    top_red, _, top_blue = served.getpixel((10, 5))  # type: ignore[misc]
    assert top_red > 150  # red on top once upright
    assert top_blue < 100
    thumb = PILImage.open(io.BytesIO((await client.get(image["thumbnail_url"])).content))
    assert thumb.height > thumb.width


async def test_polyglots_are_defused(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    html = b"<html><script>alert(document.cookie)</script></html>"
    jpeg = io.BytesIO()
    PILImage.new("RGB", (30, 30), (1, 2, 3)).save(jpeg, "JPEG")
    png = png_bytes(77)
    for data in (jpeg.getvalue() + html, png + b"PK\x03\x04" + b"\x00" * 40):
        image = await create_image(authed_client, data)
        served = await client.get(image["url"])
        assert b"<script" not in served.content
        assert b"PK\x03\x04" not in served.content
        assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"


async def test_same_picture_with_different_metadata_is_a_duplicate(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    plain = png_bytes(78)
    first = await create_image(authed_client, plain)
    # Insert a tEXt chunk after IHDR: other bytes, same picture once cleaned.
    import struct
    import zlib

    payload = b"Comment\x00hello"
    chunk = (
        struct.pack(">I", len(payload))
        + b"tEXt"
        + payload
        + struct.pack(">I", zlib.crc32(b"tEXt" + payload))
    )
    with_text = plain[:33] + chunk + plain[33:]
    assert with_text != plain
    again = await upload(authed_client, with_text)
    assert again.status_code == 409
    assert again.json()["id"] == first["id"]
    assert await state.row_count() == 1
