"""SQL of the Tenor-compatible API: result pages, posts by id, terms and share counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.images.models import Image, ImageTag
from app.images.repository import with_tags
from app.renditions.models import Rendition
from app.search.models import SearchWord
from app.tags.models import Tag
from app.tenor.media import RenditionFile, StoredMedia

Order = Literal["relevance", "featured", "random"]
SortKey = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True)
class PageQuery:
    """What to list and how; `tsquery` None lists the whole library."""

    order: Order
    tsquery: ColumnElement[Any] | None = None
    # Aspect-ratio bounds in hundredths (width * 100 between lo * height and hi * height).
    aspect: tuple[int, int] | None = None
    animated_only: bool = False
    seed: str = ""


def _sort_keys(query: PageQuery) -> list[SortKey]:
    """The keys of the order, most significant first; the last one (the id) breaks ties."""
    if query.order == "relevance":
        if query.tsquery is None:
            raise ValueError("the relevance order needs a tsquery")
        return [func.ts_rank(Image.search_vector, query.tsquery), Image.created_at, Image.id]
    if query.order == "featured":
        return [Image.share_count, Image.created_at, Image.id]
    # A stable shuffle: the same seed gives the same order on every page.
    return [func.md5(Image.id + literal(query.seed)), Image.id]


def _filtered(query: PageQuery) -> Select[*tuple[Any, ...]]:
    keys = _sort_keys(query)
    statement: Select[*tuple[Any, ...]] = select(Image, *keys)
    if query.tsquery is not None:
        statement = statement.where(Image.search_vector.op("@@")(query.tsquery))
    if query.aspect is not None:
        low, high = query.aspect
        statement = statement.where(
            Image.width * 100 >= Image.height * low, Image.width * 100 <= Image.height * high
        )
    if query.animated_only:
        statement = statement.where(Image.frame_count > 1)
    return statement


async def page(
    session: AsyncSession,
    query: PageQuery,
    *,
    limit: int,
    after: Sequence[Any] | None = None,
    offset: int = 0,
) -> list[tuple[Image, list[Any]]]:
    """Up to `limit` images with their sort keys; after a keyset position or at an offset."""
    keys = _sort_keys(query)
    statement = _filtered(query)
    descending = query.order != "random"
    if after is not None:
        position = tuple_(*keys) < tuple_(*after) if descending else tuple_(*keys) > tuple_(*after)
        statement = statement.where(position)
    statement = statement.order_by(*(key.desc() if descending else key for key in keys))
    statement = statement.offset(offset).limit(limit)
    result = await session.execute(with_tags(statement))
    return [(row[0], list(row[1:])) for row in result.all()]


async def stored_media(session: AsyncSession, ids: Sequence[str]) -> dict[str, StoredMedia]:
    """Thumbnail sizes and renditions of a page's images: one query, plain rows (no ORM
    objects: a page of 20 animated images has 220 renditions)."""
    if not ids:
        return {}
    statement = (
        select(
            Image.id,
            Image.thumbnail_bytes,
            Rendition.format,
            Rendition.mime_type,
            Rendition.width,
            Rendition.height,
            Rendition.duration,
            Rendition.size_bytes,
            Rendition.created_at,
        )
        .outerjoin(Rendition, Rendition.image_id == Image.id)
        .where(Image.id.in_(set(ids)))
    )
    found: dict[str, StoredMedia] = {}
    for image_id, thumbnail_bytes, fmt, mime, width, height, duration, size, made in (
        await session.execute(statement)
    ).all():
        media = found.setdefault(image_id, StoredMedia(thumbnail_bytes))
        if fmt is not None:
            media.renditions[fmt] = RenditionFile(mime, width, height, duration, size, made)
    return found


async def by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Image]:
    """The images among `ids` that exist, in the order given."""
    if not ids:
        return []
    result = await session.execute(with_tags(select(Image).where(Image.id.in_(set(ids)))))
    found = {image.id: image for image in result.scalars()}
    return [found[image_id] for image_id in ids if image_id in found]


async def count_share(session: AsyncSession, image_id: str) -> bool:
    """One more share, atomically (concurrent shares all count); False for an unknown id."""
    result = await session.execute(
        update(Image)
        .where(Image.id == image_id)
        .values(share_count=Image.share_count + 1)
        .returning(Image.id)
    )
    return result.scalar_one_or_none() is not None


# The newest image of a popular tag is nearly always among the library's newest
# rows: looking there first reads a thousand rows through the created_at index
# instead of every image of every tag (226 -> a few ms at 100,000 images).
RECENT_ROWS_FOR_CATEGORIES = 1000


async def top_tags_with_newest_image(
    session: AsyncSession, *, limit: int
) -> list[tuple[str, Image]]:
    """The most used tags, each with its newest image (for a category's picture)."""
    top = (
        await session.execute(
            select(Tag.id, Tag.name)
            .where(Tag.image_count > 0)
            .order_by(Tag.image_count.desc(), Tag.name)
            .limit(limit)
        )
    ).all()
    tag_ids = [tag_id for tag_id, _ in top]
    recent = (
        select(Image.id, Image.created_at)
        .order_by(Image.created_at.desc(), Image.id.desc())
        .limit(RECENT_ROWS_FOR_CATEGORIES)
        .subquery("recent")
    )
    newest_recent = (
        select(ImageTag.tag_id, recent.c.id)
        .join(recent, recent.c.id == ImageTag.image_id)
        .where(ImageTag.tag_id.in_(tag_ids))
        .order_by(ImageTag.tag_id, recent.c.created_at.desc(), recent.c.id.desc())
        .ext(distinct_on(ImageTag.tag_id))
    )
    newest: dict[int, str] = dict((await session.execute(newest_recent)).all())
    for tag_id in (t for t in tag_ids if t not in newest):  # tags used only long ago
        found = await session.execute(
            select(ImageTag.image_id)
            .join(Image, Image.id == ImageTag.image_id)
            .where(ImageTag.tag_id == tag_id)
            .order_by(Image.created_at.desc(), Image.id.desc())
            .limit(1)
        )
        image_id = found.scalar_one_or_none()
        if image_id is not None:
            newest[tag_id] = image_id
    images = {
        image.id: image
        for image in (
            await session.execute(select(Image).where(Image.id.in_(set(newest.values()))))
        ).scalars()
    }
    return [
        (name, images[newest[tag_id]])
        for tag_id, name in top
        if tag_id in newest and newest[tag_id] in images
    ]


def _prefix_pattern(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def tags_starting_with(session: AsyncSession, prefix: str, *, limit: int) -> list[str]:
    statement = (
        select(Tag.name)
        .where(Tag.image_count > 0, Tag.name.like(_prefix_pattern(prefix), escape="\\"))
        .order_by(Tag.image_count.desc(), Tag.name)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def words_starting_with(session: AsyncSession, prefix: str, *, limit: int) -> list[str]:
    """Words of the library's titles, tags, text and descriptions (the search vocabulary)."""
    statement = (
        select(SearchWord.word)
        .where(SearchWord.word.like(_prefix_pattern(prefix), escape="\\"))
        .order_by(func.length(SearchWord.word), SearchWord.word)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def most_used_tags(session: AsyncSession, *, limit: int) -> list[str]:
    statement = (
        select(Tag.name)
        .where(Tag.image_count > 0)
        .order_by(Tag.image_count.desc(), Tag.name)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())
