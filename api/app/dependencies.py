"""Request dependencies shared by every feature: settings, session, storage, cursors,
and the query parameters of a paged listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.pagination import MAX_CURSOR_LENGTH, CursorCodec
from app.storage import Storage


# Dependencies are `async def` even when they only read app state: FastAPI runs a
# plain `def` dependency in a worker thread, a thread hop per dependency per
# request (measured: eight hops, a tenth of a search's CPU).
async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


# GET routes only read, except the Tenor `registershare` (one UPDATE, atomic by
# itself): they run without a transaction.
_READ_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Request-scoped session: commits when the handler succeeds, rolls back otherwise
    (GET and HEAD: autocommit, nothing to commit)."""
    state = request.app.state
    read = request.method in _READ_METHODS
    sessionmaker: async_sessionmaker[AsyncSession] = (
        state.read_sessionmaker if read else state.sessionmaker
    )
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
StorageDep = Annotated[Storage, Depends(get_storage)]
CursorDep = Annotated[CursorCodec, Depends(get_cursor_codec)]
# A paged listing's `limit` (its default is the route's) and `cursor`.
PageLimit = Annotated[int, Query(ge=1, le=100)]
PageCursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
