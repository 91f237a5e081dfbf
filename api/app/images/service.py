"""Read, list, edit and delete images. Uploads live in `upload.py`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ServiceUnavailable, Unprocessable
from app.ids import is_valid_id, new_id
from app.images import keys, repository
from app.images.models import Image
from app.images.repository import ImageRecord
from app.images.schemas import ImageRead, ImageUpdate, NearDuplicate, storable
from app.imaging.hashing import NEAR_DUPLICATE_DISTANCE
from app.pagination import CursorCodec, InvalidCursor
from app.search import repository as search_repository
from app.search import tiered
from app.search.query import ParsedQuery, parse_query
from app.storage import Storage, StorageError
from app.storage.base import delete_prefix

log = structlog.get_logger()


def to_read(image: Image | ImageRecord, base_url: str) -> ImageRead:
    return ImageRead(
        id=image.id,
        title=image.title,
        description=image.description,
        tags=image.tag_names,
        ocr_text=image.ocr_text,
        mime_type=image.mime_type,
        width=image.width,
        height=image.height,
        frame_count=image.frame_count,
        duration_ms=image.duration_ms,
        size_bytes=image.size_bytes,
        sha256=image.sha256,
        url=f"{base_url}/f/{image.id}.{image.extension}",
        thumbnail_url=f"{base_url}/api/v1/images/{image.id}/thumbnail",
        created_at=image.created_at,
        updated_at=image.updated_at,
    )


async def get_image(session: AsyncSession, image_id: str) -> Image:
    image = await repository.get(session, image_id) if is_valid_id(image_id) else None
    if image is None:
        raise NotFound("No image with that id.")
    return image


async def read_image(session: AsyncSession, image_id: str) -> ImageRecord:
    """Like get_image, for routes that only read: no ORM objects built."""
    image = await repository.get_record(session, image_id) if is_valid_id(image_id) else None
    if image is None:
        raise NotFound("No image with that id.")
    return image


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
    if not storable(query):
        raise Unprocessable("The search text contains characters that cannot be searched.")
    return parse_query(query)


async def random_image(session: AsyncSession, tags: Sequence[str]) -> Image:
    image = await repository.random_one(session, tags=tags, pivot=new_id())
    if image is None:
        raise NotFound("No image matches.")
    return image


async def update_image(session: AsyncSession, image_id: str, update: ImageUpdate) -> Image:
    image = await get_image(session, image_id)
    changes = update.model_dump(exclude_unset=True)
    for field in ("title", "description"):
        if changes.get(field) is not None:
            setattr(image, field, changes[field])
    if "ocr_text" in changes:
        image.ocr_text = changes["ocr_text"]
    if changes.get("tags") is not None:
        await repository.set_tags(session, image, changes["tags"])
    image.updated_at = await repository.now(session)
    await session.commit()
    return await get_image(session, image_id)


async def delete_image(session: AsyncSession, storage: Storage, image_id: str) -> None:
    """Row first, then objects: a row never points to a missing object. Objects
    that fail to delete are orphans that `reactbin check --repair` removes."""
    if not is_valid_id(image_id) or not await repository.delete_image(session, image_id):
        raise NotFound("No image with that id.")
    try:
        await session.commit()
    except DBAPIError as exc:
        raise ServiceUnavailable("The database is unavailable; nothing was deleted.") from exc
    try:
        deleted = await delete_prefix(storage, keys.image_prefix(image_id))
    except StorageError as exc:
        log.warning("image.delete_objects_failed", image_id=image_id, error=str(exc))
        return
    log.info("image.deleted", image_id=image_id, objects=deleted)


# /similar lists looser matches (crops, overlays) than the near-duplicate warning.
SIMILAR_BITS = 2 * NEAR_DUPLICATE_DISTANCE


async def near_duplicates(session: AsyncSession, image: Image) -> list[NearDuplicate]:
    if image.phash is None:
        return []
    found = await repository.look_alikes(
        session, image.phash, exclude=image.id, max_distance=NEAR_DUPLICATE_DISTANCE, limit=10
    )
    return [NearDuplicate(id=other.id, distance=bits) for other, bits in found]


async def similar_images(session: AsyncSession, image_id: str) -> list[Image]:
    image = await get_image(session, image_id)
    if image.phash is None:
        return []
    found = await repository.look_alikes(
        session, image.phash, exclude=image.id, max_distance=SIMILAR_BITS, limit=50
    )
    return [other for other, _ in found]
