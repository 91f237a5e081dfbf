"""Inserting an uploaded image: the row, its new tags and its tag links in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.images.rows import NEW_IMAGE_COLUMNS, NewImage
from app.tags.locks import lock_tags

_NEW_IMAGE_COLUMNS = [*NEW_IMAGE_COLUMNS, "tags_text"]


# The row, its new tags and its tag links in one statement (one round trip; the ORM
# unit of work, the tag upsert, a SELECT of the tag ids, a DELETE of the image's
# tags and the INSERT of the links were five, ~10 % of a 200 KB upload's server
# time holding the GIL in py-spy, reading the image back two more).
# Tag counts are kept by the image_tags trigger as before. A tag the statement's
# snapshot cannot see yet (created by a concurrent upload) comes back from DO
# UPDATE, which, unlike DO NOTHING, returns the row it conflicted with.
def insert_image_sql(columns: Sequence[str]) -> TextClause:
    """The statement that inserts an image row with `columns` (bound by name) and its
    tags (`:tags`, in order), creating missing tags; returns (created_at, updated_at)."""
    return text(
        "WITH given AS ("  # noqa: S608 (column names are ours, never the client's)
        " SELECT name, (ord - 1)::smallint AS position"
        " FROM unnest(CAST(:tags AS text[])) WITH ORDINALITY AS t(name, ord)"
        "), image AS ("
        f" INSERT INTO images ({', '.join(columns)})"
        f" VALUES ({', '.join(f':{name}' for name in columns)})"
        " RETURNING id, created_at, updated_at"
        "), known AS ("
        " SELECT tags.id, tags.name FROM tags JOIN given USING (name)"
        "), added AS ("
        " INSERT INTO tags (name) SELECT name FROM given"
        " WHERE name NOT IN (SELECT name FROM known) ORDER BY name"  # see app/tags/locks.py
        " ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, name"
        "), links AS ("
        " INSERT INTO image_tags (image_id, tag_id, position)"
        " SELECT image.id, tag.id, given.position"
        " FROM image, given JOIN (SELECT * FROM known UNION ALL SELECT * FROM added) AS tag"
        # In tag id order: the count trigger then updates tag rows in the order
        # app/tags/locks.py takes them (position order deadlocked two uploads
        # sharing new tags against a concurrent lock_tags).
        " USING (name) ORDER BY tag.id"
        ") SELECT created_at, updated_at FROM image"
    )


_INSERT_IMAGE_SQL = insert_image_sql(_NEW_IMAGE_COLUMNS)


async def insert_image(
    session: AsyncSession, image: NewImage, tags: Sequence[str]
) -> tuple[datetime, datetime]:
    """Insert an uploaded image with its tags (in order); its (created_at, updated_at).

    Raises IntegrityError when an image with the same sha256 exists."""
    await lock_tags(session, tags, None)  # a round trip only when the upload has tags
    params = {name: getattr(image, name) for name in NEW_IMAGE_COLUMNS}
    params.update(tags=list(tags), tags_text=" ".join(tags))
    created_at, updated_at = (await session.execute(_INSERT_IMAGE_SQL, params)).one()
    return created_at, updated_at
