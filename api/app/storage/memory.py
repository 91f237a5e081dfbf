"""In-memory storage for unit tests of pure logic. Never used by the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from app.storage.base import ObjectInfo, ObjectNotFound, StoredObject


class MemoryStorage:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str, datetime]] = {}

    async def open(self) -> MemoryStorage:
        return self

    async def close(self) -> None:
        return None

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await self.put_bytes(key, path.read_bytes(), content_type)  # noqa: ASYNC240  (tests only)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type, datetime.now(UTC))

    async def get(self, key: str, byte_range: tuple[int, int] | None = None) -> StoredObject:
        if key not in self.objects:
            raise ObjectNotFound(key)
        data = self.objects[key][0]
        if byte_range is not None:
            data = data[byte_range[0] : byte_range[1] + 1]

        async def body() -> AsyncIterator[bytes]:
            yield data

        return StoredObject(body=body(), size=len(data))

    async def head(self, key: str) -> ObjectInfo:
        if key not in self.objects:
            raise ObjectNotFound(key)
        data, _, modified = self.objects[key]
        return ObjectInfo(key=key, size=len(data), last_modified=modified)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        for key in sorted(self.objects):
            if key.startswith(prefix):
                yield await self.head(key)

    async def ping(self) -> None:
        return None
