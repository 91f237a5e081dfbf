"""Near-duplicates: a re-encoded or resized copy is flagged at upload and listed by /similar."""

from __future__ import annotations

import io
import random

import httpx
from PIL import Image as PILImage
from PIL import ImageDraw

from tests.integration.helpers import create_image


def _picture(seed: int, size: tuple[int, int] = (320, 240)) -> PILImage.Image:
    rng = random.Random(seed)
    image = PILImage.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(30, 120), y + rng.randrange(30, 120)), fill=colour)
    return image


def _encode(image: PILImage.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


async def test_reencoded_and_resized_copies_are_near_duplicates(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    original = _picture(1)
    first = await create_image(authed_client, _encode(original, "PNG"), title="original")
    assert first["near_duplicates"] == []
    unrelated = await create_image(authed_client, _encode(_picture(2), "PNG"), title="other")
    assert unrelated["near_duplicates"] == []

    jpeg = await create_image(
        authed_client, _encode(original, "JPEG", quality=60), title="jpeg copy"
    )
    assert [d["id"] for d in jpeg["near_duplicates"]] == [first["id"]]
    assert 0 <= jpeg["near_duplicates"][0]["distance"] <= 6

    small = original.resize((160, 120))
    resized = await create_image(authed_client, _encode(small, "GIF"), title="small gif copy")
    assert first["id"] in [d["id"] for d in resized["near_duplicates"]]
    assert unrelated["id"] not in [d["id"] for d in resized["near_duplicates"]]

    similar = (await client.get(f"/api/v1/images/{first['id']}/similar")).json()["items"]
    ids = [item["id"] for item in similar]
    assert set(ids) == {jpeg["id"], resized["id"]}
    assert first["id"] not in ids


async def test_similar_of_unknown_image_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/images/AAAAAAAAAA/similar")).status_code == 404


async def test_nothing_similar_is_an_empty_list(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, _encode(_picture(3), "PNG"))
    assert (await client.get(f"/api/v1/images/{image['id']}/similar")).json() == {"items": []}
