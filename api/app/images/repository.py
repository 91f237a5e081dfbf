"""Every SQL statement about images and their tags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Select, cast, delete, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import BIT, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.images.models import Image, ImageTag
from app.tags.models import Tag

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def with_tags(statement: SelectT) -> SelectT:
    return statement.options(selectinload(Image.tag_links))


def having_all_tags(statement: SelectT, tags: Sequence[str]) -> SelectT:
    for name in dict.fromkeys(tags):
        statement = statement.where(
            select(ImageTag.image_id)
            .join(Tag, Tag.id == ImageTag.tag_id)
            .where(ImageTag.image_id == Image.id, Tag.name == name)
            .exists()
        )
    return statement


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def get(session: AsyncSession, image_id: str) -> Image | None:
    statement = with_tags(select(Image).where(Image.id == image_id))
    # populate_existing: a row changed in this session is read back fresh, tags included.
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def id_by_sha256(session: AsyncSession, sha256: str) -> str | None:
    result = await session.execute(select(Image.id).where(Image.sha256 == sha256))
    return result.scalar_one_or_none()


async def list_newest(
    session: AsyncSession,
    *,
    tags: Sequence[str],
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[Image]:
    statement = select(Image)
    if after is not None:
        # Keyset: rows strictly older than the last one seen; new uploads never shift pages.
        statement = statement.where(tuple_(Image.created_at, Image.id) < tuple_(*after))
    statement = having_all_tags(statement, tags)
    statement = statement.order_by(Image.created_at.desc(), Image.id.desc()).limit(limit)
    result = await session.execute(with_tags(statement))
    return list(result.scalars())


async def random_one(session: AsyncSession, *, tags: Sequence[str], pivot: str) -> Image | None:
    """Ids are uniformly random strings, so "first id at or after a random pivot"
    picks a uniformly random row with an index lookup instead of ORDER BY random()."""
    base = having_all_tags(select(Image), tags)
    for condition in (Image.id >= pivot, Image.id < pivot):
        statement = base.where(condition).order_by(Image.id).limit(1)
        found = (await session.execute(with_tags(statement))).scalar_one_or_none()
        if found is not None:
            return found
    return None


async def ensure_tags(session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    if not names:
        return {}
    await session.execute(
        insert(Tag)
        .values([{"name": n} for n in names])
        .on_conflict_do_nothing(index_elements=["name"])
    )
    rows = await session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names)))
    return dict(rows.all())


async def set_tags(session: AsyncSession, image: Image, names: Sequence[str]) -> None:
    """Replace the image's tags, keeping the given order."""
    ids = await ensure_tags(session, names)
    image.tags_text = " ".join(names)
    await session.execute(delete(ImageTag).where(ImageTag.image_id == image.id))
    if names:
        await session.execute(
            insert(ImageTag).values(
                [
                    {"image_id": image.id, "tag_id": ids[name], "position": position}
                    for position, name in enumerate(names)
                ]
            )
        )


async def delete_image(session: AsyncSession, image_id: str) -> bool:
    result = await session.execute(delete(Image).where(Image.id == image_id).returning(Image.id))
    return result.scalar_one_or_none() is not None


async def tag_counts(
    session: AsyncSession, *, prefix: str | None, limit: int
) -> list[tuple[str, int]]:
    statement = select(Tag.name, Tag.image_count).where(Tag.image_count > 0)
    if prefix:
        statement = statement.where(Tag.name.like(_like_pattern(prefix)[1:], escape="\\"))
    statement = statement.order_by(Tag.image_count.desc(), Tag.name).limit(limit)
    return [(name, n) for name, n in (await session.execute(statement)).all()]


async def all_keys(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """id -> (original key, thumbnail key), for `reactbin check`."""
    rows = await session.execute(select(Image.id, Image.original_key, Image.thumbnail_key))
    return {image_id: (original, thumb) for image_id, original, thumb in rows.all()}


async def now(session: AsyncSession) -> datetime:
    """The database's clock, so created_at and updated_at share one time source."""
    return (await session.execute(select(func.now()))).scalar_one()


async def ids_to_process(session: AsyncSession, *, every: bool) -> list[str]:
    statement = select(Image.id).order_by(Image.created_at)
    if not every:
        statement = statement.where(Image.processed_at.is_(None))
    return list((await session.execute(statement)).scalars())


async def look_alikes(
    session: AsyncSession, phash: int, *, exclude: str | None, max_distance: int, limit: int
) -> list[tuple[Image, int]]:
    """Images whose perceptual hash is within `max_distance` bits, closest first.

    A sequential scan with a XOR and a popcount per row: about 10 ms at 100,000
    images; a BK-tree or LSH index would only pay off far beyond that."""
    distance = func.bit_count(cast(Image.phash.op("#")(literal(phash, BigInteger)), BIT(64)))
    statement = select(Image, distance).where(Image.phash.is_not(None), distance <= max_distance)
    if exclude is not None:
        statement = statement.where(Image.id != exclude)
    statement = statement.order_by(distance, Image.created_at.desc()).limit(limit)
    result = await session.execute(with_tags(statement))
    return [(image, int(bits)) for image, bits in result.all()]
