"""SQL for the backup API: the full listing, and inserting an image as it was."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.images.insertion import insert_image_sql
from app.images.models import Image
from app.images.repository import with_tags
from app.images.rows import NewImage
from app.images.trash.models import TrashedImage


@dataclass(frozen=True, slots=True)
class RestoredImage(NewImage):
    """The columns an upload fills, plus what a restore brings back as it was."""

    ocr_text: str | None
    share_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls,
        row: NewImage,
        *,
        ocr_text: str | None,
        share_count: int,
        created_at: datetime,
        updated_at: datetime,
    ) -> RestoredImage:
        """An upload's row with what the export kept of the rest."""
        values = {name: getattr(row, name) for name in NewImage.__slots__}
        return cls(
            **values,
            ocr_text=ocr_text,
            share_count=share_count,
            created_at=created_at,
            updated_at=updated_at,
        )


_COLUMNS = [*NewImage.__slots__, *RestoredImage.__slots__]
_INSERT_SQL = insert_image_sql([*_COLUMNS, "tags_text"])


async def insert(session: AsyncSession, image: RestoredImage, tags: Sequence[str]) -> None:
    """Raises IntegrityError when the id or the bytes are taken meanwhile."""
    params = {name: getattr(image, name) for name in _COLUMNS}
    params.update(tags=list(tags), tags_text=" ".join(tags))
    await session.execute(_INSERT_SQL, params)


async def lock_id(session: AsyncSession, image_id: str) -> None:
    """One restore of an id at a time, until the transaction ends: two restores of
    the same id never write its objects at once."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('reactbin-restore:' || :id))"), {"id": image_id}
    )


async def sha256_of(session: AsyncSession, image_id: str) -> tuple[str | None, str | None]:
    """(the library's sha256 for the id, the trash's), None where absent."""
    live = await session.scalar(select(Image.sha256).where(Image.id == image_id))
    trashed = await session.scalar(select(TrashedImage.sha256).where(TrashedImage.id == image_id))
    return live, trashed


async def page(
    session: AsyncSession, *, limit: int, after: tuple[datetime, str] | None
) -> list[Image]:
    """Oldest first: a restore in this order lists newest first as before."""
    statement = with_tags(select(Image)).order_by(Image.created_at, Image.id)
    if after is not None:
        position = tuple_(Image.created_at, Image.id)
        statement = statement.where(position > tuple_(literal(after[0]), literal(after[1])))
    return list((await session.execute(statement.limit(limit))).scalars())


async def now(session: AsyncSession) -> datetime:
    return (await session.execute(select(func.now()))).scalar_one()
