"""Storage failures are counted for /metrics whatever the backend; answers are not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.ops.metrics import STORAGE_ERRORS
from app.ops.storage_metrics import CountingStorage
from app.storage import ObjectNotFound, StorageError, StoredObject
from app.storage.memory import MemoryStorage


def _count(operation: str) -> float:
    return STORAGE_ERRORS.labels(operation)._value.get()


class BrokenStore(MemoryStorage):
    """Puts fail; reads start, then the connection drops."""

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        raise StorageError("S3 put_object failed: EndpointConnectionError")

    async def get(self, key: str, byte_range: tuple[int, int] | None = None) -> StoredObject:
        if key == "missing":
            raise ObjectNotFound(key)

        async def body() -> AsyncIterator[bytes]:
            yield b"first chunk"
            raise StorageError("S3 read failed: ReadTimeoutError")

        return StoredObject(body=body(), size=100)


async def test_failures_are_counted_and_re_raised() -> None:
    storage = CountingStorage(BrokenStore())
    puts, reads = _count("put"), _count("read")
    with pytest.raises(StorageError):
        await storage.put_bytes("images/a/original.gif", b"GIF89a", "image/gif")
    stored = await storage.get("images/a/original.gif")
    with pytest.raises(StorageError):
        async for _chunk in stored.body:
            pass
    assert _count("put") == puts + 1
    assert _count("read") == reads + 1


async def test_a_missing_object_is_an_answer_not_a_failure() -> None:
    storage = CountingStorage(BrokenStore())
    gets = _count("get")
    with pytest.raises(ObjectNotFound):
        await storage.get("missing")
    assert _count("get") == gets


async def test_calls_pass_through_unchanged() -> None:
    inner = MemoryStorage()
    storage = CountingStorage(inner)
    await storage.put_bytes("k", b"data", "text/plain")
    stored = await storage.get("k")
    assert b"".join([chunk async for chunk in stored.body]) == b"data"
    assert [info.key async for info in storage.list("")] == ["k"]
    assert (await storage.head("k")).size == 4
    await storage.delete("k")
    assert inner.objects == {}
