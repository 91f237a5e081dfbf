"""Every SQL statement about the tags themselves (which image carries which:
`app/images/repository.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.tags.models import Tag


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def ensure_tags(session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    if not names:
        return {}
    await session.execute(
        insert(Tag)
        .values([{"name": n} for n in sorted(names)])  # in order: see app/tags/locks.py
        .on_conflict_do_nothing(index_elements=["name"])
    )
    rows = await session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names)))
    return dict(rows.all())


async def tag_counts(
    session: AsyncSession, *, prefix: str | None, limit: int
) -> list[tuple[str, int]]:
    statement = select(Tag.name, Tag.image_count).where(Tag.image_count > 0)
    if prefix:
        statement = statement.where(Tag.name.like(_like_pattern(prefix)[1:], escape="\\"))
    statement = statement.order_by(Tag.image_count.desc(), Tag.name).limit(limit)
    return [(name, n) for name, n in (await session.execute(statement)).all()]
