"""Read, edit and delete images. Uploads live in `upload.py`, listing and search in
`app/search/service.py`."""

from __future__ import annotations

import random
from collections.abc import Sequence

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ServiceUnavailable
from app.ids import is_valid_id
from app.images import keys, repository
from app.images.models import Image
from app.images.rows import RECORD_COLUMN_NAMES, ImageRecord
from app.images.schemas import ImageRead, ImageUpdate, NearDuplicate
from app.imaging.hashing import NEAR_DUPLICATE_DISTANCE
from app.storage import Storage, StorageError
from app.storage.base import delete_prefix

log = structlog.get_logger()


# The columns the API shows as they are (not the storage keys, the extension or
# the perceptual hash); the rest of ImageRead is derived below.
_SHOWN_COLUMNS = [name for name in ImageRead.model_fields if name in RECORD_COLUMN_NAMES]


def to_read(image: Image | ImageRecord, base_url: str) -> ImageRead:
    return ImageRead(
        **{name: getattr(image, name) for name in _SHOWN_COLUMNS},
        tags=image.tag_names,
        url=f"{base_url}/f/{image.id}.{image.extension}",
        thumbnail_url=f"{base_url}/api/v1/images/{image.id}/thumbnail",
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


async def random_image(session: AsyncSession, tags: Sequence[str]) -> Image:
    image = await repository.random_one(session, tags=tags, draw=random.random())  # noqa: S311 (a pick, not a secret)
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


async def near_duplicates(session: AsyncSession, image: Image | ImageRecord) -> list[NearDuplicate]:
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
