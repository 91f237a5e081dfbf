"""List images, newest first or by relevance to a search (the API, the web pages and
the Tenor-compatible API list through here)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Unprocessable
from app.images import repository
from app.images.rows import ImageRecord
from app.pagination import CursorCodec, InvalidCursor
from app.search import repository as search_repository
from app.search import tiered
from app.search.query import ParsedQuery, parse_query


def _decode(codec: CursorCodec, cursor: str) -> dict[str, Any]:
    try:
        return codec.decode(cursor)
    except InvalidCursor:
        raise Unprocessable("The cursor is not valid; start again without it.") from None


def _query_digest(query: str, tags: Sequence[str]) -> str:
    """Ties a cursor to its search, so it cannot be replayed against another one."""
    return hashlib.sha256("\x1f".join([query, *tags]).encode()).hexdigest()[:16]


async def list_images(
    session: AsyncSession,
    codec: CursorCodec,
    *,
    tags: Sequence[str],
    limit: int,
    cursor: str | None,
    query: str | None = None,
) -> tuple[list[ImageRecord], str | None]:
    """Newest first, or by relevance when a query is given."""
    if query is not None and query.strip():
        parsed = _parse(query)
        if parsed is None:  # only punctuation: nothing can match it
            return [], None
        return await _search(session, codec, parsed, tags=tags, limit=limit, cursor=cursor)
    after = None
    if cursor:
        payload = _decode(codec, cursor)
        try:
            if "q" in payload:
                raise ValueError("a search cursor")
            after = (datetime.fromisoformat(payload["t"]), str(payload["i"]))
        except (KeyError, TypeError, ValueError):
            raise Unprocessable("The cursor does not belong to this listing.") from None
    # One extra row tells whether another page exists without a COUNT.
    rows = await repository.list_newest(session, tags=tags, limit=limit + 1, after=after)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = codec.encode({"t": last.created_at.isoformat(), "i": last.id})
    return page, next_cursor


async def _search(
    session: AsyncSession,
    codec: CursorCodec,
    parsed: ParsedQuery,
    *,
    tags: Sequence[str],
    limit: int,
    cursor: str | None,
) -> tuple[list[ImageRecord], str | None]:
    digest = _query_digest(parsed.text, tags)
    payload = _decode(codec, cursor) if cursor else None
    if payload is not None and payload.get("q") != digest:
        raise Unprocessable("The cursor does not belong to this search.")
    if len(parsed.words) == 1 and not parsed.advanced:
        return await _search_one_word(session, codec, parsed.words[0], digest, payload, tags, limit)
    after = _search_position(payload, "r", float)
    tsquery = await search_repository.build_tsquery(session, parsed)
    rows = await search_repository.search(session, tsquery, tags=tags, limit=limit + 1, after=after)
    return _search_page(codec, digest, "r", rows, limit)


async def _search_one_word(
    session: AsyncSession,
    codec: CursorCodec,
    word: str,
    digest: str,
    payload: dict[str, Any] | None,
    tags: Sequence[str],
    limit: int,
) -> tuple[list[ImageRecord], str | None]:
    """The common case, one word: relevance tiers (see app/search/tiered.py)."""
    after = _search_position(payload, "s", int)
    corrections = await search_repository.typo_corrections(session, word)
    rows = await tiered.search_tiered(
        session, word, corrections, tags=list(dict.fromkeys(tags)), limit=limit + 1, after=after
    )
    return _search_page(codec, digest, "s", rows, limit)


# A search row's score: ts_rank (float) or relevance tier (int).
Score = TypeVar("Score", int, float)


def _search_position(
    payload: dict[str, Any] | None, key: str, score: Callable[[Any], Score]
) -> tuple[Score, datetime, str] | None:
    """Where a search cursor left off: the last row's score (under `key`: a rank
    or a tier), creation time and id; None on the first page."""
    if payload is None:
        return None
    try:
        return score(payload[key]), datetime.fromisoformat(payload["t"]), str(payload["i"])
    except (KeyError, TypeError, ValueError):
        raise Unprocessable("The cursor does not belong to this search.") from None


def _search_page(
    codec: CursorCodec,
    digest: str,
    key: str,
    rows: Sequence[tuple[ImageRecord, Score]],
    limit: int,
) -> tuple[list[ImageRecord], str | None]:
    """A page of `limit` rows (one more was fetched to tell whether another page
    exists) and the cursor that continues after its last row."""
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last, score = page[-1]
        next_cursor = codec.encode(
            {"q": digest, key: score, "t": last.created_at.isoformat(), "i": last.id}
        )
    return [image for image, _ in page], next_cursor


def _parse(query: str) -> ParsedQuery | None:
    if "\x00" in query or any(0xD800 <= ord(c) <= 0xDFFF for c in query):
        raise Unprocessable("The search text contains characters that cannot be searched.")
    return parse_query(query)
