"""Plain helpers for integration tests: build real images, inspect what was stored."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image as PILImage
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.storage import Storage


def png_bytes(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    """A PNG whose pixels depend on the seed, so each seed gives different bytes."""
    rng = random.Random(seed)
    image = PILImage.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image.putpixel((0, 0), (seed % 256, (seed // 256) % 256, 7))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def gif_bytes(
    seed: int = 0, frames: int = 3, size: tuple[int, int] = (40, 30), duration: int = 100
) -> bytes:
    rng = random.Random(seed)
    images = [PILImage.new("P", size, rng.randrange(256)) for _ in range(frames)]
    for index, frame in enumerate(images):
        frame.putpixel((index % size[0], 0), (seed + index) % 256)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
    return out.getvalue()


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (80, 60)) -> bytes:
    rng = random.Random(seed)
    image = PILImage.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def webp_bytes(seed: int = 0, size: tuple[int, int] = (50, 50)) -> bytes:
    rng = random.Random(seed)
    image = PILImage.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "WEBP", lossless=True)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    filename: str = "reaction.png",
    content_type: str = "application/octet-stream",
    **fields: Any,
) -> httpx.Response:
    return await client.post(
        "/api/v1/images", files={"file": (filename, data, content_type)}, data=fields
    )


async def create_image(
    client: httpx.AsyncClient, data: bytes | None = None, **fields: Any
) -> dict[str, Any]:
    response = await upload(
        client, data if data is not None else png_bytes(random.randrange(1 << 30)), **fields
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class State:
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: Storage
    upload_tmp_dir: Path

    async def wipe(self) -> None:
        async with self.sessionmaker() as session:
            await session.execute(
                text(
                    "TRUNCATE images, tags, image_tags, owner_token_versions, search_words, "
                    "trashed_images, login_failures, procrastinate_jobs CASCADE"
                )
            )
            await session.commit()
        for key in await self.object_keys():
            await self.storage.delete(key)

    async def row_count(self, table: str = "images") -> int:
        async with self.sessionmaker() as session:
            result = await session.execute(text(f"SELECT count(*) FROM {table}"))
            return int(result.scalar_one())

    async def object_keys(self) -> list[str]:
        return [info.key async for info in self.storage.list("")]

    def temp_files(self) -> list[Path]:
        return list(self.upload_tmp_dir.iterdir())

    async def assert_nothing_stored(self) -> None:
        """The refusal promise: no row, no object, no temp file."""
        assert await self.row_count("images") == 0
        assert await self.row_count("image_tags") == 0
        assert await self.object_keys() == []
        assert self.temp_files() == []


def metric_sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample of a /metrics text (0 when absent)."""
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def scrape_metrics(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text
