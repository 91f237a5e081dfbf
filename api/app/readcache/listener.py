"""Hear about every change to the library, whoever makes it, and clear the cache.

Migration 0008 makes PostgreSQL `NOTIFY reactbin_library` after every statement
that changes images, tags, renditions or search words (delivered on commit,
once per transaction). Each server process keeps one connection of its own
listening: PostgreSQL delivers notifications only to a session that is
LISTENing, so it cannot be a pooled connection. Any doubt turns the cache off
until it is resolved: while the connection is being (re)made, and when a
periodic check finds it dead (a half-open TCP connection says nothing; the
check bounds how long such a loss can go unnoticed).

A notification travels on its own: the writer's response can reach a client,
and that client's next request reach this process, before this process has
read it (most of the time, on loopback). So before a stored answer is served,
`caught_up` makes one round trip on the listening connection. PostgreSQL sends
a session every notification it has been signalled of before the end of its
next query (the committing backend signals the listeners before it reports the
commit), and asyncpg hands them to `_changed` before the query's result: after
the round trip, every change committed before the request arrived has cleared
the cache. Requests that wait at the same moment share one round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog

from app.readcache.store import ResponseCache

log = structlog.get_logger()

CHANNEL = "reactbin_library"
# How the connection shows in pg_stat_activity.
APPLICATION_NAME = "reactbin cache listener"
CHECK_EVERY_S = 5.0
CHECK_TIMEOUT_S = 5.0
RETRY_AFTER_S = (0.5, 1.0, 2.0, 5.0)


class LibraryListener:
    def __init__(self, dsn: str, cache: ResponseCache) -> None:
        self.dsn = dsn
        self.cache = cache
        self._connection: asyncpg.Connection | None = None
        # The next round trip's outcome, for whoever asks before it starts.
        self._next: asyncio.Future[bool] | None = None
        self._round_trips: asyncio.Task[None] | None = None

    async def caught_up(self) -> bool:
        """True once every change committed before this call has cleared the cache;
        False when that cannot be known (not listening, or the connection failed)."""
        connection = self._connection
        if connection is None:
            return False
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if self._round_trips is None or self._round_trips.done():
                self._round_trips = asyncio.create_task(self._round_trip(connection))
        # Shielded: a client that goes away must not cancel the others' answer.
        return await asyncio.shield(self._next)

    async def _round_trip(self, connection: asyncpg.Connection) -> None:
        """One query at a time (a connection runs no more), each for everyone who
        asked while the previous one was on its way."""
        while self._next is not None:
            waiting, self._next = self._next, None
            try:
                await connection.fetchval("SELECT 1", timeout=CHECK_TIMEOUT_S)
            except Exception as exc:
                waiting.set_result(False)
                log.warning("cache.listener_check_failed", error=str(exc) or type(exc).__name__)
                connection.terminate()  # `_listen` sees it closed and starts again
            else:
                waiting.set_result(True)

    def _changed(self, *_: Any) -> None:
        self.cache.clear()

    async def run(self) -> None:
        """Until cancelled: listen, and come back after any failure."""
        failures = 0
        while True:
            try:
                await self._listen()
            except Exception as exc:
                self.cache.set_listening(None)
                delay = RETRY_AFTER_S[min(failures, len(RETRY_AFTER_S) - 1)]
                failures += 1
                log.warning(
                    "cache.listener_lost", error=str(exc) or type(exc).__name__, retry_s=delay
                )
                await asyncio.sleep(delay)
            else:
                failures = 0

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            self.dsn,
            timeout=CHECK_TIMEOUT_S,
            server_settings={"application_name": APPLICATION_NAME},
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._changed)
            self._connection = connection
            # Clears too: nothing heard while away survives.
            self.cache.set_listening(self.caught_up)
            while not lost.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(lost.wait(), CHECK_EVERY_S)
                if not lost.is_set() and not await self.caught_up():
                    break
            raise ConnectionResetError("listening connection closed")
        finally:
            self._connection = None
            self.cache.set_listening(None)
            with contextlib.suppress(Exception):
                connection.terminate()
