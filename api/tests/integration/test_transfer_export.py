"""`reactbin export` and the restore of an export by `reactbin import`, and the
migration from a Gifable server (a recorded response served on a local port)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.transfer.client import TransferError
from app.transfer.exporter import export_library, list_images
from app.transfer.gifable import GifableSource
from app.transfer.importer import import_items
from app.transfer.sources import collect
from tests.integration.helpers import State, create_image, png_bytes
from tests.integration.transfer_helpers import distinct_gif, owner_client

# What is compared after a round trip: everything but ids and times.
KEPT = (
    "title",
    "description",
    "tags",
    "ocr_text",
    "sha256",
    "mime_type",
    "width",
    "height",
    "frame_count",
    "duration_ms",
    "size_bytes",
)


def _comparable(images: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(json.dumps(image[k]) for k in KEPT) for image in images)


async def test_export_wipe_import_restores_everything(
    app: FastAPI,
    settings: Settings,
    state: State,
    authed_client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    for index in range(4):
        image = await create_image(
            authed_client,
            distinct_gif(100 + index) if index % 2 else png_bytes(100 + index),
            title=f"Reaction №{index} — ünïcode",
            description=f"line one\nline two of {index}" if index else "",
            tags=f"tag{index},shared,with space",
        )
        if index < 3:
            response = await authed_client.patch(
                f"/api/v1/images/{image['id']}", json={"ocr_text": f"CAPTION {index}"}
            )
            assert response.status_code == 200
    before = (await authed_client.get("/api/v1/images")).json()["items"]
    export = tmp_path / "backup"

    async with owner_client(app, settings) as api:
        summary = await export_library(api, export, await list_images(api), jobs=3)
    assert (summary.downloaded, summary.failed) == (4, [])
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["format"] == "reactbin-export"
    assert {entry["id"] for entry in manifest["images"]} == {i["id"] for i in before}
    for entry in manifest["images"]:
        stored = (export / entry["file"]).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == entry["sha256"]
        assert set(entry) >= {"title", "description", "tags", "ocr_text", "created_at"}

    # A second export downloads nothing again.
    async with owner_client(app, settings) as api:
        again = await export_library(api, export, await list_images(api))
    assert (again.downloaded, again.reused) == (0, 4)

    for image in before:  # deleted for good (through the trash): a wiped library
        response = await authed_client.delete(f"/api/v1/images/{image['id']}")
        assert response.status_code == 204
        assert (await authed_client.delete(f"/api/v1/trash/{image['id']}")).status_code == 204
    assert await state.row_count() == 0

    async with owner_client(app, settings) as api:
        await api.authenticate()
        # One at a time, so that the order is exact (in parallel it is approximate).
        restored = await import_items(api, collect([export]).items, jobs=1)
    assert (restored.created, restored.refused, restored.failed) == (4, [], [])

    after = (await authed_client.get("/api/v1/images")).json()["items"]
    assert _comparable(after) == _comparable(before)
    # Oldest first on the way in: the library lists in the same order as before.
    assert [i["title"] for i in after] == [i["title"] for i in before]
    # ids cannot be chosen through the API: the restored images have new ones.
    assert not {i["id"] for i in after} & {i["id"] for i in before}


class _Gifable(BaseHTTPRequestHandler):
    """Gifable's routes as recorded: `/api/media` (Bearer API token) and `/media/<id>/image`."""

    token = "gifable-api-token"
    media: dict[str, bytes] = {}
    payload: dict[str, Any] = {}
    requests: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        type(self).requests.append((self.path, self.headers.get("Authorization")))
        if self.path == "/api/media":
            if self.headers.get("Authorization") != f"Bearer {self.token}":
                self._send(401, b'{"message":"Unauthorized"}', "application/json")
                return
            self._send(200, json.dumps(self.payload).encode(), "application/json")
            return
        name = self.path.split("/")[-2] if self.path.endswith("/image") else self.path[1:]
        data = self.media.get(name)
        if data is None:
            self._send(404, b"not found", "text/plain")
        else:
            self._send(200, data, "image/gif")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def gifable() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gifable)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ids = ["7f1c9a52-3a4e-4a8f-9d7e-1c2b3a4d5e6f", "0b9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c"]
    _Gifable.media = {
        ids[0]: distinct_gif(500),
        ids[1]: distinct_gif(501),
        "old": distinct_gif(502),
    }
    _Gifable.requests = []
    # The shape of Gifable's /api/media answer (app/routes/api.media.tsx): proxy URLs,
    # comma-separated labels, alt text; no title.
    _Gifable.payload = {
        "data": [
            {
                "id": ids[0],
                "url": f"{base}/media/{ids[0]}/image",
                "thumbnailUrl": f"{base}/media/{ids[0]}/thumbnail",
                "labels": "this is fine, Dog,fire , " + "x" * 60,
                "width": 40,
                "height": 30,
                "color": "#5a1e3c",
                "altText": "A dog sipping coffee in a burning room",
                "user": {"username": "piet"},
            },
            {
                "id": ids[1],
                "url": f"{base}/media/{ids[1]}/image",
                "thumbnailUrl": None,
                "labels": None,
                "width": 40,
                "height": 30,
                "color": None,
                "altText": None,
                "user": {"username": "piet"},
            },
            {  # an older Gifable: `comment`, and the bucket URL with the file name
                "id": "c0ffee00-0000-4000-8000-000000000000",
                "url": f"{base}/old",
                "comment": "shrug",
                "altText": "",
            },
        ]
    }
    _Gifable.payload["data"][2]["url"] = f"{base}/old"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


async def test_gifable_library_is_migrated(
    app: FastAPI, settings: Settings, state: State, client: httpx.AsyncClient, gifable: str
) -> None:
    async with owner_client(app, settings) as api, GifableSource(gifable, _Gifable.token) as source:
        await api.authenticate()
        items = source.items(await source.media(), ("from gifable",))
        summary = await import_items(api, items, jobs=2)
    assert (summary.created, summary.refused, summary.failed) == (3, [], [])

    images = {i["sha256"]: i for i in (await client.get("/api/v1/images")).json()["items"]}
    first = images[hashlib.sha256(_Gifable.media[next(iter(_Gifable.media))]).hexdigest()]
    assert first["title"] == "this is fine"
    assert first["tags"] == ["this is fine", "dog", "fire", "from gifable"]
    assert first["description"].startswith("A dog sipping coffee in a burning room")
    assert "x" * 60 in first["description"]  # too long for a tag, kept in the text
    assert {i["title"] for i in images.values()} >= {"this is fine", "shrug"}
    assert len(images) == 3
    # The API token went to the Gifable server for every request, and only there.
    assert all(auth == f"Bearer {_Gifable.token}" for _, auth in _Gifable.requests)


async def test_gifable_wrong_token_is_one_clear_error(gifable: str) -> None:
    async with GifableSource(gifable, "wrong") as source:
        with pytest.raises(TransferError, match="Gifable refused the API token"):
            await source.media()
