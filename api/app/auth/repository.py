from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import OwnerTokenVersion


async def token_version(session: AsyncSession, username: str) -> int:
    result = await session.execute(
        select(OwnerTokenVersion.version).where(OwnerTokenVersion.username == username)
    )
    return result.scalar_one_or_none() or 0


async def bump_token_version(session: AsyncSession, username: str) -> int:
    statement = (
        insert(OwnerTokenVersion)
        .values(username=username, version=1)
        .on_conflict_do_update(
            index_elements=[OwnerTokenVersion.username],
            set_={"version": OwnerTokenVersion.version + 1},
        )
        .returning(OwnerTokenVersion.version)
    )
    return (await session.execute(statement)).scalar_one()
