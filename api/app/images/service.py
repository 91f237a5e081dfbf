"""Read, list, edit and delete images. Uploads live in `upload.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ServiceUnavailable, Unprocessable
from app.ids import is_valid_id, new_id
from app.images import keys, repository
from app.images.models import Image
from app.images.schemas import ImageRead, ImageUpdate
from app.pagination import CursorCodec, InvalidCursor
from app.storage import Storage, StorageError
from app.storage.base import delete_prefix

log = structlog.get_logger()


def to_read(image: Image, base_url: str) -> ImageRead:
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


def _decode_after(codec: CursorCodec, cursor: str) -> tuple[datetime, str]:
    try:
        payload = codec.decode(cursor)
        return datetime.fromisoformat(payload["t"]), str(payload["i"])
    except (InvalidCursor, KeyError, TypeError, ValueError):
        raise Unprocessable("The cursor is not valid; start again without it.") from None


async def list_images(
    session: AsyncSession,
    codec: CursorCodec,
    *,
    tags: Sequence[str],
    limit: int,
    cursor: str | None,
    query: str | None = None,
) -> tuple[list[Image], str | None]:
    after = _decode_after(codec, cursor) if cursor else None
    words = _search_words(query)
    # One extra row tells whether another page exists without a COUNT.
    rows = await repository.list_newest(
        session, tags=tags, words=words, limit=limit + 1, after=after
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = codec.encode({"t": last.created_at.isoformat(), "i": last.id})
    return page, next_cursor


def _search_words(query: str | None) -> list[str]:
    if not query:
        return []
    if "\x00" in query or any(0xD800 <= ord(c) <= 0xDFFF for c in query):
        raise Unprocessable("The search text contains characters that cannot be searched.")
    return query.split()[:10]


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
