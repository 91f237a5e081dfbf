"""Count storage failures whatever the backend: a thin wrapper around any `Storage`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from app.ops.metrics import STORAGE_ERRORS
from app.storage.base import ObjectInfo, ObjectNotFound, Storage, StorageError, StoredObject


def _failed(operation: str, exc: StorageError) -> None:
    if not isinstance(exc, ObjectNotFound):  # a missing object is an answer, not a failure
        STORAGE_ERRORS.labels(operation).inc()


class CountingStorage:
    """Forwards every call to `inner`; a StorageError is counted, then re-raised."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        try:
            await self.inner.put_file(key, path, content_type)
        except StorageError as exc:
            _failed("put", exc)
            raise

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        try:
            await self.inner.put_bytes(key, data, content_type)
        except StorageError as exc:
            _failed("put", exc)
            raise

    async def get(self, key: str, byte_range: tuple[int, int] | None = None) -> StoredObject:
        try:
            stored = await self.inner.get(key, byte_range)
        except StorageError as exc:
            _failed("get", exc)
            raise
        return StoredObject(body=_counted_body(stored.body), size=stored.size, close=stored.close)

    async def head(self, key: str) -> ObjectInfo:
        try:
            return await self.inner.head(key)
        except StorageError as exc:
            _failed("head", exc)
            raise

    async def delete(self, key: str) -> None:
        try:
            await self.inner.delete(key)
        except StorageError as exc:
            _failed("delete", exc)
            raise

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        try:
            async for info in self.inner.list(prefix):
                yield info
        except StorageError as exc:
            _failed("list", exc)
            raise

    async def ping(self) -> None:
        try:
            await self.inner.ping()
        except StorageError as exc:
            _failed("ping", exc)
            raise

    async def close(self) -> None:
        await self.inner.close()


async def _counted_body(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A read that fails half-way (the connection to S3 dropped) counts too."""
    try:
        async for chunk in body:
            yield chunk
    except StorageError as exc:
        _failed("read", exc)
        raise
    finally:
        # Closed now, not whenever the garbage collector gets to it: the inner
        # body's own clean-up releases the connection to the store.
        aclose = getattr(body, "aclose", None)
        if aclose is not None:
            await aclose()
