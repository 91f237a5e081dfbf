"""Keyset pages of an image listing (the trash, the backup): a signed cursor holds
the last row's time and id, and the next page starts after it.

    page, next_cursor = await keyset_page(
        lambda n, after: repository.page(session, limit=n, after=after),
        codec, cursor=cursor, limit=50, key="tt", position=lambda row: (row.trashed_at, row.id),
    )
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from app.errors import Unprocessable
from app.pagination import CursorCodec, InvalidCursor

Row = TypeVar("Row")
Position = tuple[datetime, str]


def _after(codec: CursorCodec, cursor: str | None, key: str) -> Position | None:
    if not cursor:
        return None
    try:
        payload = codec.decode(cursor)
        return datetime.fromisoformat(payload[key]), str(payload["i"])
    except (InvalidCursor, KeyError, TypeError, ValueError):
        raise Unprocessable("The cursor is not valid; start again without it.") from None


async def keyset_page(
    fetch: Callable[[int, Position | None], Awaitable[list[Row]]],
    codec: CursorCodec,
    *,
    cursor: str | None,
    limit: int,
    key: str,
    position: Callable[[Row], Position],
) -> tuple[list[Row], str | None]:
    """Up to `limit` rows after `cursor` (a 422 when it is not one this listing issued)
    and the cursor of the next page, None on the last. `fetch(n, after)` returns up to
    n rows after a position (or from the start); `key` names the time in the cursor."""
    # One row more than the page says whether there is a next page, without a count.
    rows = await fetch(limit + 1, _after(codec, cursor, key))
    page = rows[:limit]
    if len(rows) <= limit:
        return page, None
    at, row_id = position(page[-1])
    return page, codec.encode({key: at.isoformat(), "i": row_id})
