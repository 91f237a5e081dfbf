"""Every SQL statement about images and the tags they carry (the tags themselves:
`app/tags/repository.py`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    TextClause,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import BIT, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.types import NullType

from app import rawsql
from app.images.models import Image, ImageTag
from app.images.rows import RECORD_COLUMN_NAMES, ImageRecord
from app.tags import repository as tags
from app.tags.locks import lock_tags
from app.tags.models import Tag

# Two hashes this close share one of the seven bands of reactbin_phash_bands().
PHASH_BAND_DISTANCE = 6

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


# The record's columns, the tag names last: a column of the row since migration
# 0012 (kept by triggers), so a page reads them without joining image_tags per row.
RECORD_COLUMNS = [Image.__table__.c[name] for name in [*RECORD_COLUMN_NAMES, "tag_names"]]


async def records(
    session: AsyncSession, page: Subquery, order: Sequence[ColumnElement[Any]]
) -> list[tuple[ImageRecord, Any]]:
    """The rows of `page` (a subquery with the record columns and `sort_key`) as records."""
    # Tag names untyped on purpose: asyncpg already returns a list, which
    # SQLAlchemy's ARRAY type would copy item by item (a tenth of a search's CPU time).
    columns = [
        type_coerce(page.c[c.name], NullType()) if c.name == "tag_names" else page.c[c.name]
        for c in RECORD_COLUMNS
    ]
    statement = select(page.c.sort_key, *columns).order_by(*order)
    result = await session.execute(statement)
    rows: list[Sequence[Any]] = list(result.all())
    return [(ImageRecord(*row[1:]), row[0]) for row in rows]


# The same, as SQL text: the list and one-word search statements are text built
# once per shape, as building them with SQLAlchemy expressions on every request
# cost more CPU than running them.
RECORD_COLUMNS_SQL = ", ".join(column.name for column in RECORD_COLUMNS)
HAS_TAG_SQL = (
    "EXISTS (SELECT 1 FROM image_tags JOIN tags ON tags.id = image_tags.tag_id "
    "WHERE image_tags.image_id = images.id AND tags.name = CAST(:tag_{n} AS text))"
)
AFTER_SQL = "(created_at, id) < (CAST(:after_created_at AS timestamptz), CAST(:after_id AS text))"


def tag_params(tags: Sequence[str]) -> dict[str, str]:
    return {f"tag_{n}": name for n, name in enumerate(tags)}


def page_sql(inner: str, order: str) -> str:
    """Orders `inner` (record columns and `sort_key`, with its LIMIT): the tiers'
    UNION needs the outer ORDER BY; the tag names are a column of the row
    (migration 0012), so the page needs no join."""
    columns = ", ".join(f"page.{column.name}" for column in RECORD_COLUMNS)
    return (
        f"SELECT page.sort_key, {columns} "  # noqa: S608 (constants only)
        f"FROM ({inner}) AS page ORDER BY {order}"
    )


def page_sql_by_id(inner: str) -> str:
    """The page of `inner` (its LIMIT given), which selects only `id`, `created_at`
    and `sort_key`: each row is read again by id, for a sort of narrow rows."""
    columns = ", ".join(f"page.{column.name}" for column in RECORD_COLUMNS)
    return (
        f"SELECT ids.sort_key, {columns} "  # noqa: S608 (constants only)
        f"FROM ({inner}) AS ids JOIN images AS page ON page.id = ids.id "
        "ORDER BY ids.sort_key DESC, ids.created_at DESC, ids.id DESC"
    )


async def fetch_records(
    session: AsyncSession, statement: TextClause, params: dict[str, Any]
) -> list[tuple[ImageRecord, Any]]:
    rows = await rawsql.fetch(session, statement, params)
    return [(ImageRecord(*row[1:]), row[0]) for row in rows]


async def get(session: AsyncSession, image_id: str) -> Image | None:
    statement = with_tags(select(Image).where(Image.id == image_id))
    # populate_existing: a row changed in this session is read back fresh, tags included.
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def get_record(session: AsyncSession, image_id: str) -> ImageRecord | None:
    """One image for reading (GET, file and thumbnail routes): one plain statement."""
    rows = await fetch_records(session, _BY_ID_SQL, {"id": image_id})
    return rows[0][0] if rows else None


_BY_ID_SQL = text(
    page_sql(
        f"SELECT {RECORD_COLUMNS_SQL}, 0 AS sort_key FROM images "  # noqa: S608 (constants only)
        "WHERE id = CAST(:id AS text)",
        "page.id",
    )
)


async def id_by_sha256(session: AsyncSession, sha256: str) -> str | None:
    result = await session.execute(select(Image.id).where(Image.sha256 == sha256))
    return result.scalar_one_or_none()


async def list_newest(
    session: AsyncSession,
    *,
    tags: Sequence[str],
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[ImageRecord]:
    tags = list(dict.fromkeys(tags))
    params: dict[str, Any] = {"limit": limit, **tag_params(tags)}
    if after is not None:
        params.update(after_created_at=after[0], after_id=after[1])
    rows = await fetch_records(session, _newest_sql(after is not None, len(tags)), params)
    return [record for record, _ in rows]


@functools.lru_cache(maxsize=64)
def _newest_sql(after: bool, tags: int) -> TextClause:
    where = [HAS_TAG_SQL.format(n=n) for n in range(tags)]
    if after:
        # Keyset: rows strictly older than the last one seen; new uploads never shift pages.
        where.append(AFTER_SQL)
    inner = (
        f"SELECT {RECORD_COLUMNS_SQL}, 0 AS sort_key FROM images "  # noqa: S608 (constants only)
        + (f"WHERE {' AND '.join(where)} " if where else "")
        + "ORDER BY created_at DESC, id DESC LIMIT :limit"
    )
    return text(page_sql(inner, "page.created_at DESC, page.id DESC"))


async def random_one(session: AsyncSession, *, tags: Sequence[str], draw: float) -> Image | None:
    """The matching row at position `draw` (in [0, 1)) of the id order: every row is
    equally likely. ("First id after a random pivot" was cheaper but picked each row in
    proportion to the gap before its id: two close ids left one almost never drawn.)"""
    base = having_all_tags(select(Image), tags)
    count = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    if not count:
        return None
    statement = base.order_by(Image.id).offset(min(int(draw * count), count - 1)).limit(1)
    return (await session.execute(with_tags(statement))).scalar_one_or_none()


async def set_tags(session: AsyncSession, image: Image, names: Sequence[str]) -> None:
    """Replace the image's tags, keeping the given order."""
    await lock_tags(session, names, image.id)
    ids = await tags.ensure_tags(session, names)
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
    await lock_tags(session, (), image_id)  # the cascade to image_tags updates their counts
    result = await session.execute(delete(Image).where(Image.id == image_id).returning(Image.id))
    return result.scalar_one_or_none() is not None


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

    Up to PHASH_BAND_DISTANCE bits (the near-duplicate warning of every upload),
    only the images sharing a band of the hash are compared (GIN index): about
    1 % of the rows. Looser searches (`/similar`) compare every
    row: a XOR and a popcount each, tens of ms at 100,000 images."""
    given = literal(phash, BigInteger)
    distance = func.bit_count(cast(Image.phash.op("#")(given), BIT(64)))
    statement = select(Image, distance).where(Image.phash.is_not(None), distance <= max_distance)
    if max_distance <= PHASH_BAND_DISTANCE:
        bands = func.reactbin_phash_bands
        statement = statement.where(bands(Image.phash).op("&&")(bands(given)))
    if exclude is not None:
        statement = statement.where(Image.id != exclude)
    statement = statement.order_by(distance, Image.created_at.desc()).limit(limit)
    result = await session.execute(with_tags(statement))
    return [(image, int(bits)) for image, bits in result.all()]
