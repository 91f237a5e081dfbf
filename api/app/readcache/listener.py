"""Hear about every change to the library, whoever makes it, and clear the cache.

Migration 0008 makes PostgreSQL `NOTIFY reactbin_library` after every statement
that changes images, tags, renditions or search words (delivered on commit,
once per transaction). Each server process keeps one connection of its own
listening: PostgreSQL delivers notifications only to a session that is
LISTENing, so it cannot be a pooled connection. Any doubt turns the cache off
until it is resolved: while the connection is being (re)made, and when a
periodic check finds it dead (a half-open TCP connection says nothing; the
check bounds how long such a loss can go unnoticed).
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

    def _changed(self, *_: Any) -> None:
        self.cache.clear()

    async def run(self) -> None:
        """Until cancelled: listen, and come back after any failure."""
        failures = 0
        while True:
            try:
                await self._listen()
            except Exception as exc:
                self.cache.set_live(False)
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
            self.cache.set_live(True)  # clears too: nothing heard while away survives
            while not lost.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(lost.wait(), CHECK_EVERY_S)
                if not lost.is_set():
                    await connection.fetchval("SELECT 1", timeout=CHECK_TIMEOUT_S)
            raise ConnectionResetError("listening connection closed")
        finally:
            self.cache.set_live(False)
            with contextlib.suppress(Exception):
                connection.terminate()
