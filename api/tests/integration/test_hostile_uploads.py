"""Hostile uploads: every one gets a clear 4xx, never a 500, and leaves nothing behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.helpers import State, png_bytes, upload

HOSTILE = Path(__file__).resolve().parents[1] / "samples" / "hostile"
NOT_IMAGES = {
    "archive.zip",
    "document.pdf",
    "icon.ico",
    "image.bmp",
    "image.svg",
    "image.tiff",
    "page.html",
    "random.bin",
}


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE.iterdir()))
async def test_each_hostile_sample_is_refused_cleanly(
    authed_client: httpx.AsyncClient, state: State, name: str
) -> None:
    data = (HOSTILE / name).read_bytes()
    # Disguised as a GIF by name and declared type: neither may matter.
    response = await upload(authed_client, data, filename="cute.gif", content_type="image/gif")
    expected = 415 if name in NOT_IMAGES else 422
    assert response.status_code == expected, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail
    assert "Traceback" not in detail
    await state.assert_nothing_stored()


def _multipart(parts: list[bytes], boundary: str = "xyzzy") -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary.encode() + b"--\r\n"


def _field(name: str, value: bytes) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value


def _file(data: bytes) -> bytes:
    head = (
        'Content-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    )
    return head.encode() + data


async def _post_raw(
    client: httpx.AsyncClient, body: bytes, boundary: str = "xyzzy"
) -> httpx.Response:
    return await client.post(
        "/api/v1/images",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


async def test_a_huge_text_field_is_refused(authed_client: httpx.AsyncClient, state: State) -> None:
    body = _multipart([_field("description", b"d" * 200_000), _file(png_bytes(1))])
    response = await _post_raw(authed_client, body)
    assert response.status_code == 422
    await state.assert_nothing_stored()


async def test_thousands_of_fields_are_refused(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    body = _multipart([_field(f"f{i}", b"x") for i in range(5000)] + [_file(png_bytes(2))])
    response = await _post_raw(authed_client, body)
    assert response.status_code == 422
    assert "fields" in response.json()["detail"]
    await state.assert_nothing_stored()


async def test_endless_part_headers_are_refused(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    headers = b"".join(f"X-Junk-{i}: {'v' * 100}\r\n".encode() for i in range(2000))
    part = (
        b'Content-Disposition: form-data; name="file"; filename="a.png"\r\n'
        + headers
        + b"\r\n"
        + png_bytes(3)
    )
    response = await _post_raw(authed_client, _multipart([part]))
    assert response.status_code == 422
    await state.assert_nothing_stored()


async def test_a_body_that_ends_inside_the_file_is_refused(
    authed_client: httpx.AsyncClient, state: State
) -> None:
    body = b"--xyzzy\r\n" + _file(png_bytes(4))  # no closing boundary
    response = await _post_raw(authed_client, body)
    assert response.status_code == 422
    await state.assert_nothing_stored()


@pytest.fixture
async def impatient_client(
    make_app, authed_client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async for app in make_app(upload_idle_timeout_seconds=0.5):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=authed_client.headers
        ) as client:
            yield client


async def test_a_trickling_body_is_cut_off(
    impatient_client: httpx.AsyncClient, state: State
) -> None:
    sent = 0

    async def trickle() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"--xyzzy\r\n" + _file(b"\x89PNG\r\n\x1a\n")
        for _ in range(20):
            await asyncio.sleep(1)
            sent += 1
            yield b"\x00"

    response = await impatient_client.post(
        "/api/v1/images",
        content=trickle(),
        headers={"Content-Type": "multipart/form-data; boundary=xyzzy"},
    )
    assert response.status_code == 408
    assert sent <= 2
    await state.assert_nothing_stored()


@pytest.mark.parametrize(
    "filename",
    [
        "../../../etc/passwd",
        "..\\..\\boot.ini",
        "a\x00b.png",
        "\u202egnp.exe",
        "\udcff.png",
        "/absolute.png",
        "x" * 5000,
    ],
)
async def test_path_tricks_in_file_names_never_reach_storage_keys(
    authed_client: httpx.AsyncClient, state: State, filename: str
) -> None:
    part = f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'.encode(
        "utf-8", "surrogateescape"
    ) + png_bytes(9)
    response = await _post_raw(authed_client, _multipart([part]))
    assert response.status_code in (201, 422), response.text
    for key in await state.object_keys():
        assert key.startswith("images/")
        assert ".." not in key
        assert "passwd" not in key
    if response.status_code == 201:
        image = response.json()
        assert "\x00" not in image["title"]
        assert "\u202e" not in image["title"]
        assert len(image["title"]) <= 200
    else:
        await state.assert_nothing_stored()


async def test_disconnect_mid_upload_leaves_no_temp_file(
    app: FastAPI, state: State, authed_client: httpx.AsyncClient
) -> None:
    """A client that goes away mid-body: the temp file is removed."""
    messages = [
        {
            "type": "http.request",
            "body": b"--xyzzy\r\n" + _file(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000),
            "more_body": True,
        },
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/images",
        "raw_path": b"/api/v1/images",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=xyzzy"),
            (b"authorization", authed_client.headers["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    await state.assert_nothing_stored()
