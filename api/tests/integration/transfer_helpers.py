"""Helpers for the import/export tests: the CLI's HTTP client bound to the in-process app,
and a counting transport to prove what a resumed run does not send."""

from __future__ import annotations

import io
import random
from collections import Counter
from pathlib import Path

import httpx
from fastapi import FastAPI
from PIL import Image as PILImage

from app.config import Settings
from app.transfer.client import Credentials, ReactbinClient

BASE_URL = "http://testserver"  # as in conftest.py


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the app and counts them by (method, path)."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.calls: Counter[tuple[str, str]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[(request.method, request.url.path)] += 1
        return await self.inner.handle_async_request(request)

    @property
    def uploads(self) -> int:
        return self.calls[("POST", "/api/v1/images")]


def owner_client(
    app: FastAPI, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> ReactbinClient:
    assert settings.owner_password is not None
    credentials = Credentials(
        username=settings.owner_username, password=settings.owner_password.get_secret_value()
    )
    return ReactbinClient(
        BASE_URL, credentials, transport=transport or httpx.ASGITransport(app=app)
    )


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def distinct_gif(seed: int, frames: int = 3) -> bytes:
    """A small animated GIF whose pixels (not only its palette) depend on `seed`."""
    rng = random.Random(seed)
    images = []
    for index in range(frames):
        frame = PILImage.new("RGB", (40, 30), (rng.randrange(256), 90, (seed * 7) % 256))
        for _ in range(12):
            frame.putpixel((rng.randrange(40), rng.randrange(30)), (seed % 256, index * 60, 200))
        images.append(frame)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()
