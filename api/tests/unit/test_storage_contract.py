"""The Storage contract, on the backends that need no server (local disk, memory).
The S3 backend runs the same operations against SeaweedFS in the integration suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage import ObjectNotFound, Storage, StorageError, StoredObject
from app.storage.base import delete_prefix, download_to
from app.storage.local import LocalStorage
from app.storage.memory import MemoryStorage


@pytest.fixture(params=["local", "memory"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    backend: Storage = (
        await LocalStorage(tmp_path / "objects").open()
        if request.param == "local"
        else await MemoryStorage().open()
    )
    yield backend
    await backend.close()


async def _read(storage: Storage, key: str, byte_range: tuple[int, int] | None = None) -> bytes:
    stored = await storage.get(key, byte_range)
    data = b"".join([chunk async for chunk in stored.body])
    assert stored.size == len(data)
    return data


async def test_put_get_head_list_delete(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(bytes(range(256)) * 1000)
    await storage.put_file("images/a/original.gif", source, "image/gif")
    await storage.put_bytes("images/a/thumbnail.webp", b"RIFFxxxxWEBP", "image/webp")
    await storage.put_bytes("images/b/original.png", b"png", "image/png")
    assert await _read(storage, "images/a/original.gif") == source.read_bytes()
    assert await _read(storage, "images/a/original.gif", (10, 19)) == source.read_bytes()[10:20]
    assert (await storage.head("images/a/original.gif")).size == 256_000
    keys = [info.key async for info in storage.list("images/a/")]
    assert keys == ["images/a/original.gif", "images/a/thumbnail.webp"]
    assert await delete_prefix(storage, "images/a/") == 2
    assert [info.key async for info in storage.list("")] == ["images/b/original.png"]
    await storage.delete("images/a/never-existed")  # not an error
    await storage.ping()


async def test_missing_objects(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.get("nope")
    with pytest.raises(ObjectNotFound):
        await storage.head("nope")


async def test_local_storage_refuses_keys_that_leave_its_root(tmp_path: Path) -> None:
    storage = await LocalStorage(tmp_path / "objects").open()
    for key in ("../escape", "images/../../escape", "/etc/passwd"):
        with pytest.raises(StorageError):
            await storage.put_bytes(key, b"x", "text/plain")
    assert not (tmp_path / "escape").exists()


async def test_local_writes_are_atomic(tmp_path: Path) -> None:
    storage = await LocalStorage(tmp_path / "objects").open()
    await storage.put_bytes("k", b"first", "text/plain")
    await storage.put_bytes("k", b"second", "text/plain")
    assert await _read(storage, "k") == b"second"
    leftovers = [p.name for p in (tmp_path / "objects").iterdir()]
    assert leftovers == ["k"]


def test_stale_upload_spool_files_are_swept(tmp_path: Path) -> None:
    import os
    import time

    from app.images.spool import TEMP_PREFIX, sweep_stale_spool_files

    old, fresh, other = (
        tmp_path / f"{TEMP_PREFIX}old",
        tmp_path / f"{TEMP_PREFIX}new",
        tmp_path / "keep.txt",
    )
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(other, (an_hour_ago, an_hour_ago))
    assert sweep_stale_spool_files(tmp_path, older_than_seconds=600) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, other.name])


async def test_download_to_writes_the_whole_object(storage: Storage, tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    await storage.put_bytes("images/a/original.gif", data, "image/gif")
    target = tmp_path / "copy.gif"
    await download_to(storage, "images/a/original.gif", target)
    assert target.read_bytes() == data
    with pytest.raises(ObjectNotFound):
        await download_to(storage, "images/a/nope.gif", tmp_path / "nope.gif")
    assert not (tmp_path / "nope.gif").exists()


class ClosingStore(MemoryStorage):
    """Remembers whether each object it handed out was closed (an S3 connection released)."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: list[bool] = []

    async def get(self, key: str, byte_range: tuple[int, int] | None = None) -> StoredObject:
        stored = await super().get(key, byte_range)
        index = len(self.closed)
        self.closed.append(False)

        async def close() -> None:
            self.closed[index] = True

        return StoredObject(body=stored.body, size=stored.size, close=close)


async def test_download_to_closes_the_stream_when_the_write_fails(tmp_path: Path) -> None:
    storage = ClosingStore()
    await storage.put_bytes("images/a/original.gif", b"GIF89a" * 100, "image/gif")
    with pytest.raises(FileNotFoundError):
        await download_to(storage, "images/a/original.gif", tmp_path / "missing-dir" / "x.gif")
    await download_to(storage, "images/a/original.gif", tmp_path / "x.gif")
    assert storage.closed == [True, True]


def test_job_directories_killed_workers_left_are_swept(tmp_path: Path) -> None:
    import os
    import time

    from app.images.spool import (
        RENDITIONS_JOB_DIR_PREFIX,
        TEXT_JOB_DIR_PREFIX,
        sweep_stale_job_dirs,
    )

    dead_text, dead_renditions, busy, unrelated = (
        tmp_path / f"{TEXT_JOB_DIR_PREFIX}a",
        tmp_path / f"{RENDITIONS_JOB_DIR_PREFIX}b",
        tmp_path / f"{RENDITIONS_JOB_DIR_PREFIX}c",
        tmp_path / "other",
    )
    a_day_ago = time.time() - 86400
    for directory in (dead_text, dead_renditions, busy, unrelated):
        directory.mkdir()
        (directory / "frame.png").write_bytes(b"x")
        for path in (directory / "frame.png", directory):
            os.utime(path, (a_day_ago, a_day_ago))
    # A job still writing: its directory is old, but a file in it is new.
    (busy / "out.webm").write_bytes(b"x")
    assert sweep_stale_job_dirs(tmp_path, older_than_seconds=3600) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([busy.name, unrelated.name])
