"""The Storage contract: every backend (S3, local disk, memory) speaks it.

Example::

    await storage.put_file("images/k3J9xQ2mTz/original.gif", path, "image/gif")
    obj = await storage.get("images/k3J9xQ2mTz/original.gif", byte_range=(0, 99))
    async for chunk in obj.body:
        ...
    await obj.close()
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import anyio


class StorageError(Exception):
    """The object store failed or could not be reached."""


class ObjectNotFound(StorageError):
    """No object has that key."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime


async def _noop_close() -> None:
    return None


@dataclass
class StoredObject:
    """An object being read: its body streams in chunks; `close()` releases the connection."""

    body: AsyncIterator[bytes]
    size: int  # bytes in this response (the range length for a ranged read)
    close: Callable[[], Awaitable[None]] = field(default=_noop_close)


class Storage(Protocol):
    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store a local file under `key`, streaming it (never read whole into memory)."""

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store small bytes (thumbnails, manifests)."""

    async def get(self, key: str, byte_range: tuple[int, int] | None = None) -> StoredObject:
        """Open an object; `byte_range` is inclusive (first, last). Raises ObjectNotFound."""

    async def head(self, key: str) -> ObjectInfo:
        """Size and modification time. Raises ObjectNotFound."""

    async def delete(self, key: str) -> None:
        """Delete one object; deleting a missing key is not an error."""

    def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        """Every object whose key starts with `prefix`."""

    async def ping(self) -> None:
        """Raise StorageError unless the store answers (for /readyz and start-up checks)."""

    async def close(self) -> None:
        """Release connections."""


async def delete_prefix(storage: Storage, prefix: str) -> int:
    """Delete every object under `prefix`; returns how many were deleted."""
    keys = [info.key async for info in storage.list(prefix)]
    for key in keys:
        await storage.delete(key)
    return len(keys)


async def download_to(storage: Storage, key: str, path: Path) -> None:
    """Write the object `key` to the file `path`; raises ObjectNotFound.

    The stream is closed whatever happens: a write that fails half-way must not
    keep the connection to the store. The writes run in a worker thread."""
    stored = await storage.get(key)
    try:
        async with await anyio.open_file(path, "wb") as handle:
            async for chunk in stored.body:
                await handle.write(chunk)
    finally:
        await stored.close()
