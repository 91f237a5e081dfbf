"""Every SQL statement about the trash.

Moving an image in and out is one statement each way, so a crash never leaves
an image in both places or in neither.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.images.models import Image
from app.images.trash.models import TrashedImage

# Every column of `images` a snapshot carries and a restore writes back: all but
# the generated search document, which PostgreSQL computes again.
IMAGE_COLUMNS = [column.name for column in Image.__table__.columns if column.computed is None]
_COLUMNS_SQL = ", ".join(IMAGE_COLUMNS)
_RENDITION_COLUMNS_SQL = "format, key, mime_type, width, height, duration, size_bytes, created_at"

# The image row, its tags (in order) and its renditions go into one JSONB snapshot,
# and the row is deleted (its tag links and renditions rows with it: the tag counts
# drop, and the NOTIFY trigger on images clears every server's response cache).
_TRASH_SQL = text(
    "WITH image AS ("
    " SELECT * FROM images WHERE id = CAST(:id AS text) FOR UPDATE"
    "), moved AS ("
    " INSERT INTO trashed_images (id, sha256, title, original_key, thumbnail_key, snapshot)"
    " SELECT image.id, image.sha256, image.title, image.original_key, image.thumbnail_key,"
    "  (to_jsonb(image) - 'search_vector') || jsonb_build_object("
    "   'tags', coalesce((SELECT jsonb_agg(tags.name ORDER BY image_tags.position)"
    "    FROM image_tags JOIN tags ON tags.id = image_tags.tag_id"
    "    WHERE image_tags.image_id = image.id), '[]'::jsonb),"
    "   'renditions', coalesce((SELECT jsonb_agg(to_jsonb(renditions) - 'image_id')"
    "    FROM renditions WHERE renditions.image_id = image.id), '[]'::jsonb))"
    " FROM image RETURNING id"
    ") DELETE FROM images WHERE id IN (SELECT id FROM moved) RETURNING id"
)

# The reverse: the snapshot back into images (same id, same times), its tags
# (created when missing, as an upload does) and its renditions rows.
_RESTORE_SQL = text(
    "WITH gone AS ("  # noqa: S608 (constants only)
    " DELETE FROM trashed_images WHERE id = CAST(:id AS text) RETURNING snapshot"
    "), image AS ("
    f" INSERT INTO images ({_COLUMNS_SQL})"
    f" SELECT {_COLUMNS_SQL} FROM gone, jsonb_populate_record(NULL::images, gone.snapshot)"
    " RETURNING id"
    "), given AS ("
    " SELECT name, (ord - 1)::smallint AS position FROM gone,"
    " jsonb_array_elements_text(gone.snapshot->'tags') WITH ORDINALITY AS t(name, ord)"
    "), known AS ("
    " SELECT tags.id, tags.name FROM tags JOIN given USING (name)"
    "), added AS ("
    " INSERT INTO tags (name) SELECT name FROM given WHERE name NOT IN (SELECT name FROM known)"
    " ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, name"
    "), links AS ("
    " INSERT INTO image_tags (image_id, tag_id, position)"
    " SELECT image.id, tag.id, given.position FROM image, given"
    " JOIN (SELECT * FROM known UNION ALL SELECT * FROM added) AS tag USING (name)"
    "), renditions AS ("
    f" INSERT INTO renditions (image_id, {_RENDITION_COLUMNS_SQL})"
    f" SELECT image.id, {_RENDITION_COLUMNS_SQL} FROM image, gone,"
    " jsonb_populate_recordset(NULL::renditions, gone.snapshot->'renditions')"
    ") SELECT id FROM image"
)


async def trash(session: AsyncSession, image_id: str) -> bool:
    """Move the image into the trash; False when there is no such image."""
    result = await session.execute(_TRASH_SQL, {"id": image_id})
    return result.scalar_one_or_none() is not None


async def restore(session: AsyncSession, image_id: str) -> bool:
    """Move the image back into the library; False when it is not in the trash.

    Raises IntegrityError when the library holds the same bytes meanwhile."""
    result = await session.execute(_RESTORE_SQL, {"id": image_id})
    return result.scalar_one_or_none() is not None


async def get(session: AsyncSession, image_id: str) -> TrashedImage | None:
    return await session.get(TrashedImage, image_id, populate_existing=True)


async def id_by_sha256(session: AsyncSession, sha256: str) -> str | None:
    """The most recently trashed image with these bytes."""
    statement = (
        select(TrashedImage.id)
        .where(TrashedImage.sha256 == sha256)
        .order_by(TrashedImage.trashed_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def page(
    session: AsyncSession, *, limit: int, after: tuple[datetime, str] | None
) -> list[TrashedImage]:
    """Most recently trashed first."""
    statement = select(TrashedImage).order_by(
        TrashedImage.trashed_at.desc(), TrashedImage.id.desc()
    )
    if after is not None:
        position = tuple_(TrashedImage.trashed_at, TrashedImage.id)
        statement = statement.where(position < tuple_(literal(after[0]), literal(after[1])))
    return list((await session.execute(statement.limit(limit))).scalars())


async def purge(session: AsyncSession, image_id: str) -> bool:
    statement = delete(TrashedImage).where(TrashedImage.id == image_id).returning(TrashedImage.id)
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def purge_older_than(session: AsyncSession, days: int, limit: int) -> list[str]:
    """Forget up to `limit` images trashed more than `days` ago; their ids."""
    expired = (
        select(TrashedImage.id)
        .where(TrashedImage.trashed_at < text("now() - make_interval(days => :days)"))
        .order_by(TrashedImage.trashed_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(TrashedImage).where(TrashedImage.id.in_(expired.scalar_subquery()))
    result = await session.execute(statement.returning(TrashedImage.id), {"days": days})
    return list(result.scalars())


async def all_keys(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """id -> (original key, thumbnail key) of every trashed image, for `reactbin check`."""
    statement = select(TrashedImage.id, TrashedImage.original_key, TrashedImage.thumbnail_key)
    rows = (await session.execute(statement)).all()
    return {image_id: (original, thumb) for image_id, original, thumb in rows}
