"""Request dependencies shared by every feature: settings, session, storage, cursors."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import get_app_settings
from app.config import Settings
from app.db import get_session
from app.pagination import CursorCodec
from app.storage import Storage


# `async def`: a plain `def` dependency would run in a worker thread (see
# app/auth/dependencies.py).
async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
StorageDep = Annotated[Storage, Depends(get_storage)]
CursorDep = Annotated[CursorCodec, Depends(get_cursor_codec)]
