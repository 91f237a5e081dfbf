"""The listener's round trip before a cache hit: shared by the requests that wait
together, never by one that arrives after it started (that one could miss a change
committed in between)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from app.config import Settings
from app.jobs.queue import libpq_url
from app.readcache.listener import LibraryListener
from app.readcache.store import ResponseCache


class CountingListener(LibraryListener):
    """Counts the round trips and can hold one on its way (the real query still runs)."""

    def __init__(self, dsn: str, cache: ResponseCache) -> None:
        super().__init__(dsn, cache)
        self.round_trips = 0
        self.sent = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def _round_trip(self, connection: asyncpg.Connection) -> None:
        await super()._round_trip(_Counted(connection, self))  # type: ignore[arg-type]


class _Counted:
    def __init__(self, connection: asyncpg.Connection, counter: CountingListener) -> None:
        self.connection = connection
        self.counter = counter

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        self.counter.round_trips += 1
        self.counter.sent.set()
        await self.counter.release.wait()
        return await self.connection.fetchval(*args, **kwargs)

    def terminate(self) -> None:
        self.connection.terminate()


@pytest.fixture
async def listener(
    settings: Settings, migrated: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CountingListener]:
    assert settings.database_url is not None
    # No periodic check in the middle of a test: it is a round trip too.
    monkeypatch.setattr("app.readcache.listener.CHECK_EVERY_S", 3600.0)
    cache = ResponseCache(1_000_000)
    listener = CountingListener(libpq_url(settings.database_url), cache)
    task = asyncio.create_task(listener.run())
    for _ in range(200):
        if cache.live:
            break
        await asyncio.sleep(0.05)
    assert cache.live, "the listener never connected"
    try:
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_requests_waiting_together_share_one_round_trip(listener: CountingListener) -> None:
    before = listener.round_trips
    answers = await asyncio.gather(*(listener.caught_up() for _ in range(50)))
    assert answers == [True] * 50
    assert listener.round_trips == before + 1


async def test_a_request_after_the_round_trip_left_waits_for_the_next(
    listener: CountingListener,
) -> None:
    before = listener.round_trips
    listener.release.clear()
    listener.sent.clear()
    first = asyncio.create_task(listener.caught_up())
    await listener.sent.wait()  # the query is on its way: a change committed now is not in it
    second = asyncio.create_task(listener.caught_up())
    third = asyncio.create_task(listener.caught_up())
    listener.release.set()
    assert await asyncio.gather(first, second, third) == [True, True, True]
    assert listener.round_trips == before + 2  # one for the first, one shared by the others


async def test_a_notification_committed_before_the_call_has_emptied_the_cache_by_its_end(
    listener: CountingListener, settings: Settings
) -> None:
    assert settings.database_url is not None
    outside = await asyncpg.connect(libpq_url(settings.database_url))
    cache = listener.cache
    try:
        for _ in range(50):
            seen = cache.generation
            await outside.execute("NOTIFY reactbin_library")
            assert await listener.caught_up()
            assert cache.generation > seen
    finally:
        await outside.close()


async def test_without_a_connection_nothing_counts_as_current(settings: Settings) -> None:
    assert settings.database_url is not None
    idle = LibraryListener(libpq_url(settings.database_url), ResponseCache(1_000_000))
    assert not await idle.caught_up()  # not listening yet
