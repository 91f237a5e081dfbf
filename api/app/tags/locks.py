"""Lock the tag rows a transaction will change, all at once and in id order.

The image_tags trigger keeps `tags.image_count`, updating one tag row per link
added or removed, in whatever order the statement meets them. Two transactions
sharing tags (an upload tagged `cat, load` and an edit to `dog, cat, load`, on
two API processes) could each lock one of them first and wait for the other:
PostgreSQL then aborts one ("deadlock detected"), a 503 for its user. Taking the
locks first, sorted, makes them wait in line instead. New tags (and new search
words, migration 0011) are inserted sorted by name for the same reason: a second
insert of a name waits for the first transaction's uncommitted row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# NO KEY UPDATE: what the trigger's UPDATE takes; it does not block the foreign-key
# checks (KEY SHARE) of links to the same tags.
_LOCK_SQL = text(
    "SELECT id FROM tags"
    " WHERE name = ANY(CAST(:names AS text[]))"
    " OR id IN (SELECT tag_id FROM image_tags WHERE image_id = :image_id)"
    " ORDER BY id FOR NO KEY UPDATE"
)


async def lock_tags(session: AsyncSession, names: Sequence[str], image_id: str | None) -> None:
    """Lock the existing tags among `names` and those `image_id` carries now."""
    if not names and image_id is None:
        return
    await session.execute(_LOCK_SQL, {"names": list(names), "image_id": image_id or ""})
