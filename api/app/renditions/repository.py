"""Every SQL statement about renditions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.images.models import Image
from app.renditions.models import Rendition


async def renditions_for(
    session: AsyncSession, image_ids: Sequence[str]
) -> dict[str, dict[str, Rendition]]:
    """The renditions of each image, by image id then format name, in one query.

    An image with no renditions yet (pending, or a failed job) is absent from
    the result, so callers use `.get(image_id, {})`.

    >>> found = await renditions_for(session, ["abc"])
    >>> found["abc"]["tinygif"].width
    """
    found: dict[str, dict[str, Rendition]] = {}
    if not image_ids:
        return found
    statement = select(Rendition).where(Rendition.image_id.in_(set(image_ids)))
    for rendition in (await session.execute(statement)).scalars():
        found.setdefault(rendition.image_id, {})[rendition.format] = rendition
    return found


async def get(session: AsyncSession, image_id: str, fmt: str) -> Rendition | None:
    return await session.get(Rendition, (image_id, fmt))


async def replace_all(
    session: AsyncSession, image_id: str, renditions: Sequence[Rendition]
) -> None:
    """Swap the image's rows for these and mark it done, in the caller's transaction."""
    await session.execute(delete(Rendition).where(Rendition.image_id == image_id))
    session.add_all(renditions)
    await session.execute(
        update(Image).where(Image.id == image_id).values(renditions_at=func.now())
    )
    await session.flush()


async def delete_all(session: AsyncSession, image_id: str) -> None:
    """Forget every rendition of the image and mark it pending (a rebuild is starting)."""
    await session.execute(delete(Rendition).where(Rendition.image_id == image_id))
    await mark_pending(session, image_id)


async def delete_one(session: AsyncSession, image_id: str, fmt: str) -> None:
    await session.execute(
        delete(Rendition).where(Rendition.image_id == image_id, Rendition.format == fmt)
    )


async def mark_pending(session: AsyncSession, image_id: str) -> None:
    await session.execute(update(Image).where(Image.id == image_id).values(renditions_at=None))


async def image_ids(session: AsyncSession, *, pending_only: bool) -> list[str]:
    """Ids to (re)build, oldest first, so a rebuild resumes where it left off."""
    statement = select(Image.id).order_by(Image.created_at, Image.id)
    if pending_only:
        statement = statement.where(Image.renditions_at.is_(None))
    return list((await session.execute(statement)).scalars())


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Rendition))).scalar_one())


async def all_keys(session: AsyncSession) -> list[tuple[str, str, str, datetime]]:
    """(image_id, format, key, created_at) of every row, for the consistency check."""
    statement = select(Rendition.image_id, Rendition.format, Rendition.key, Rendition.created_at)
    rows = (await session.execute(statement)).all()
    return [(image_id, fmt, key, made) for image_id, fmt, key, made in rows]


async def renditions_at(session: AsyncSession, image_id: str) -> datetime | None:
    statement = select(Image.renditions_at).where(Image.id == image_id)
    return (await session.execute(statement)).scalar_one_or_none()
