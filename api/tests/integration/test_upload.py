"""POST /api/v1/images: what is accepted, what is refused, and that refusals leave nothing."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.integration.helpers import (
    State,
    create_image,
    gif_bytes,
    jpeg_bytes,
    png_bytes,
    upload,
    webp_bytes,
)


async def test_upload_returns_the_image_with_its_metadata(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    data = gif_bytes(seed=5, frames=4, size=(40, 30), duration=120)
    response = await upload(
        authed_client,
        data,
        filename="whatever.txt",
        content_type="text/plain",
        title="This is fine",
        description="dog in a burning room",
        tags="Dog,  Fire , fine",
    )
    assert response.status_code == 201, response.text
    image = response.json()
    assert response.headers["location"].endswith(f"/api/v1/images/{image['id']}")
    assert image["title"] == "This is fine"
    assert image["description"] == "dog in a burning room"
    assert image["tags"] == ["dog", "fire", "fine"]
    assert image["mime_type"] == "image/gif"
    assert (image["width"], image["height"]) == (40, 30)
    assert image["frame_count"] == 4
    assert image["duration_ms"] == 480
    assert image["size_bytes"] == len(data)
    assert image["sha256"] == hashlib.sha256(data).hexdigest()
    assert image["ocr_text"] is None
    assert image["url"] == f"http://testserver/f/{image['id']}.gif"
    assert image["thumbnail_url"] == f"http://testserver/api/v1/images/{image['id']}/thumbnail"
    assert image["created_at"].endswith("Z") or image["created_at"].endswith("+00:00")
    assert sorted(await state.object_keys()) == [
        f"images/{image['id']}/original.gif",
        f"images/{image['id']}/thumbnail.webp",
    ]
    assert state.temp_files() == []


@pytest.mark.parametrize(
    ("data", "mime", "ext"),
    [
        (png_bytes(11), "image/png", "png"),
        (jpeg_bytes(12), "image/jpeg", "jpg"),
        (webp_bytes(13), "image/webp", "webp"),
        (gif_bytes(14, frames=1), "image/gif", "gif"),
    ],
)
async def test_each_format_is_detected_from_the_bytes(
    authed_client: httpx.AsyncClient, data: bytes, mime: str, ext: str
) -> None:
    image = await create_image(authed_client, data)
    assert image["mime_type"] == mime
    assert image["url"].endswith(f".{ext}")
    assert image["frame_count"] == 1
    assert image["duration_ms"] == 0


async def test_title_defaults_to_the_file_name(authed_client: httpx.AsyncClient) -> None:
    response = await upload(authed_client, png_bytes(21), filename="../../etc/this_is-fine.png")
    assert response.status_code == 201
    assert response.json()["title"] == "this is fine"


async def test_tags_may_repeat_the_field(authed_client: httpx.AsyncClient) -> None:
    response = await authed_client.post(
        "/api/v1/images",
        files={"file": ("a.png", png_bytes(22), "image/png")},
        data={"tags": ["Happy  Dance", "cat,dog", "CAT"]},
    )
    assert response.status_code == 201
    assert response.json()["tags"] == ["happy dance", "cat", "dog"]


async def test_unicode_title_and_tags_round_trip(authed_client: httpx.AsyncClient) -> None:
    image = await create_image(
        authed_client, png_bytes(23), title="¯\\_(ツ)_/¯ Ça va 🔥", tags="café,日本"
    )
    fetched = (await authed_client.get(f"/api/v1/images/{image['id']}")).json()
    assert fetched["title"] == "¯\\_(ツ)_/¯ Ça va 🔥"
    assert fetched["tags"] == ["café", "日本"]


async def test_upload_without_token_is_refused_before_the_body_is_read(
    client: httpx.AsyncClient, state: State
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 1
            yield b"x" * 65536

    response = await client.post(
        "/api/v1/images",
        content=body(),
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert sent <= 1
    await state.assert_nothing_stored()


async def test_byte_identical_upload_is_409_with_the_existing_id(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    data = png_bytes(31)
    first = await create_image(authed_client, data, title="first")
    again = await upload(authed_client, data, filename="copy.png", title="second")
    assert again.status_code == 409
    assert again.json()["id"] == first["id"]
    assert again.json()["detail"]
    assert await state.row_count() == 1
    assert len(await state.object_keys()) == 2
    assert state.temp_files() == []


@pytest.fixture
async def small_cap_app(make_app) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    async for app in make_app(max_upload_bytes=100_000):
        yield app


@pytest.fixture
async def small_cap_client(
    small_cap_app: FastAPI, authed_client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=small_cap_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=authed_client.headers
    ) as capped:
        yield capped


def _big_png() -> bytes:
    # Random pixels do not compress: a PNG well over the 100 kB cap.
    import os

    from PIL import Image

    image = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def test_too_large_with_content_length_is_413(
    small_cap_client: httpx.AsyncClient, state: State
) -> None:
    data = _big_png()
    assert len(data) > 100_000
    response = await upload(small_cap_client, data)
    assert response.status_code == 413
    assert "100000" in response.json()["detail"]
    await state.assert_nothing_stored()


async def test_too_large_without_content_length_is_413_and_cut_off(
    small_cap_client: httpx.AsyncClient, state: State
) -> None:
    sent = 0
    boundary = "reactbinboundary"

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        for _ in range(2000):  # 128 MB if it were all read
            sent += 1
            yield b"\x89PNG" * 16384

    response = await small_cap_client.post(
        "/api/v1/images",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    # Cut off right after the cap (100 kB = 2 chunks of 64 kB), not after 128 MB.
    assert sent < 10
    await state.assert_nothing_stored()


def _zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "hello")
    return out.getvalue()


NOT_IMAGES = {
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "cat.png",
        "image/png",
    ),
    "html": (b"<!doctype html><script>alert(1)</script>", "cat.gif", "image/gif"),
    "pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "cat.jpg", "image/jpeg"),
    "zip": (_zip_bytes(), "cat.webp", "image/webp"),
    "bmp": (b"BM" + b"\x00" * 60, "cat.png", "image/png"),
    "text": (b"just some text", "cat.png", "image/png"),
    "elf": (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "cat.gif", "image/gif"),
    "mvg": (
        b"push graphic-context\nviewbox 0 0 640 480\nimage over 0,0 0,0 'https://x/y.jpg'\n",
        "cat.png",
        "image/png",
    ),
    "eps": (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n",
        "cat.jpg",
        "image/jpeg",
    ),
}


@pytest.mark.parametrize("kind", sorted(NOT_IMAGES))
async def test_non_images_are_415_whatever_their_name(
    authed_client: httpx.AsyncClient, state: State, kind: str
) -> None:
    data, name, declared = NOT_IMAGES[kind]
    response = await upload(authed_client, data, filename=name, content_type=declared)
    assert response.status_code == 415, response.text
    assert response.json()["detail"]
    await state.assert_nothing_stored()


CORRUPT = {
    "truncated png": png_bytes(41)[:60],
    "truncated gif": gif_bytes(42)[:40],
    "truncated jpeg": jpeg_bytes(43)[: len(jpeg_bytes(43)) // 2],
    "png header only": b"\x89PNG\r\n\x1a\n",
    "gif header only": b"GIF89a",
    "empty": b"",
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
async def test_corrupt_images_are_422(
    authed_client: httpx.AsyncClient, state: State, kind: str
) -> None:
    response = await upload(authed_client, CORRUPT[kind])
    assert response.status_code == 422, response.text
    await state.assert_nothing_stored()


def _png_claiming(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )


async def test_pixel_flood_is_422(authed_client: httpx.AsyncClient, state: State) -> None:
    response = await upload(authed_client, _png_claiming(20_000, 20_000))
    assert response.status_code == 422
    await state.assert_nothing_stored()


FIELD_ERRORS = {
    "title too long": {"title": "t" * 201},
    "description too long": {"description": "d" * 2001},
    "too many tags": {"tags": ",".join(f"tag{i}" for i in range(21))},
    "tag too long": {"tags": "x" * 51},
    "empty tag": {"tags": ["ok", " "]},
    "nul in title": {"title": "bad\x00title"},
    "rtl override in tag": {"tags": "evil\u202egif"},
}


@pytest.mark.parametrize("case", sorted(FIELD_ERRORS))
async def test_field_limits_are_422(
    authed_client: httpx.AsyncClient, state: State, case: str
) -> None:
    response = await upload(authed_client, png_bytes(51), **FIELD_ERRORS[case])
    assert response.status_code == 422, response.text
    await state.assert_nothing_stored()


async def test_exactly_twenty_tags_and_limits_are_accepted(
    authed_client: httpx.AsyncClient,
) -> None:
    image = await create_image(
        authed_client,
        png_bytes(52),
        title="t" * 200,
        description="d" * 2000,
        tags=",".join(f"tag{i:02d}" + "x" * 40 for i in range(20)),
    )
    assert len(image["tags"]) == 20


async def test_missing_file_is_422(authed_client: httpx.AsyncClient, state: State) -> None:
    response = await authed_client.post(
        "/api/v1/images", data={"title": "no file"}, files={"other": ("x", b"y")}
    )
    assert response.status_code == 422
    await state.assert_nothing_stored()


async def test_two_files_are_422(authed_client: httpx.AsyncClient, state: State) -> None:
    response = await authed_client.post(
        "/api/v1/images",
        files=[
            ("file", ("a.png", png_bytes(61), "image/png")),
            ("file", ("b.png", png_bytes(62), "image/png")),
        ],
    )
    assert response.status_code == 422
    await state.assert_nothing_stored()


async def test_not_multipart_is_415(authed_client: httpx.AsyncClient, state: State) -> None:
    response = await authed_client.post(
        "/api/v1/images", content=png_bytes(63), headers={"Content-Type": "image/png"}
    )
    assert response.status_code == 415
    await state.assert_nothing_stored()


async def test_malformed_multipart_is_4xx(authed_client: httpx.AsyncClient, state: State) -> None:
    response = await authed_client.post(
        "/api/v1/images",
        content=b"--abc\r\nthis is not a part header\r\n\r\n" + png_bytes(64),
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert 400 <= response.status_code < 500
    await state.assert_nothing_stored()


AWKWARD = [
    "rgba.png",
    "palette_transparent.png",
    "gray16.png",
    "la.png",
    "cmyk.jpg",
    "bilevel.png",
    "strip_1x30000.png",
    "animated.png",
    "animated.webp",
]


@pytest.mark.parametrize("name", AWKWARD)
async def test_awkward_but_valid_images_upload_with_a_thumbnail(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, name: str
) -> None:
    from pathlib import Path

    from PIL import Image as PILImage

    data = (Path(__file__).resolve().parents[1] / "samples" / name).read_bytes()
    image = await create_image(authed_client, data)
    thumb = await client.get(image["thumbnail_url"])
    assert thumb.status_code == 200
    decoded = PILImage.open(io.BytesIO(thumb.content))
    assert decoded.format == "WEBP"
    assert max(decoded.size) <= 320
    assert min(decoded.size) >= 1


async def test_the_answer_is_what_a_read_gives_with_new_and_known_tags_in_order(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    await create_image(authed_client, png_bytes(1), tags="known,other")
    image = await create_image(authed_client, png_bytes(2), tags="zebra,known,apple")
    assert image["tags"] == ["zebra", "known", "apple"]
    image.pop("near_duplicates")
    assert (await client.get(f"/api/v1/images/{image['id']}")).json() == image
    tags = {t["name"]: t["count"] for t in (await client.get("/api/v1/tags")).json()}
    assert tags == {"known": 2, "other": 1, "zebra": 1, "apple": 1}


async def test_concurrent_uploads_creating_the_same_tags_keep_every_tag(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    async def one(seed: int) -> dict[str, Any]:
        return await create_image(authed_client, png_bytes(seed), tags="fresh,brand-new")

    images = await asyncio.gather(*(one(seed) for seed in range(6)))
    assert all(image["tags"] == ["fresh", "brand-new"] for image in images)
    tags = {t["name"]: t["count"] for t in (await client.get("/api/v1/tags")).json()}
    assert tags == {"fresh": 6, "brand-new": 6}


async def test_both_background_jobs_are_queued_for_an_upload(
    app: FastAPI, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, png_bytes(3))
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT task_name, lock, args->>'image_id' FROM procrastinate_jobs ORDER BY id")
        )
        jobs = [tuple(row) for row in rows]
    assert jobs == [
        ("process_image", None, image["id"]),
        ("make_renditions", f"renditions:{image['id']}", image["id"]),
    ]
