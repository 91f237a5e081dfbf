"""Delete into the trash, list it, restore from it, purge it (now or after TRASH_DAYS)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.errors import Duplicate, NotFound, ServiceUnavailable
from app.ids import is_valid_id
from app.images import keys
from app.images import repository as images
from app.images import service as images_service
from app.images.paging import keyset_page
from app.images.rows import ImageRecord
from app.images.trash import repository
from app.images.trash.models import TrashedImage
from app.images.trash.schemas import TrashedRead
from app.pagination import CursorCodec
from app.storage import Storage, StorageError
from app.storage.base import delete_prefix

log = structlog.get_logger()
# Images purged per statement by the worker, so one run never holds many row locks.
PURGE_BATCH = 100


async def _commit(session: AsyncSession, nothing: str) -> None:
    try:
        await session.commit()
    except DBAPIError as exc:
        raise ServiceUnavailable(f"The database is unavailable; {nothing}.") from exc


async def discard_image(
    session: AsyncSession, storage: Storage, settings: Settings, image_id: str
) -> None:
    """`DELETE /api/v1/images/{id}`: into the trash, or gone at once when TRASH_DAYS is 0."""
    if settings.trash_days == 0:
        await images_service.delete_image(session, storage, image_id)
        return
    if not is_valid_id(image_id) or not await repository.trash(session, image_id):
        raise NotFound("No image with that id.")
    await _commit(session, "nothing was deleted")
    log.info("image.trashed", image_id=image_id)


async def restore(session: AsyncSession, image_id: str) -> ImageRecord:
    """Back into the library with its id, times, tags and renditions: every link works again."""
    if not is_valid_id(image_id):
        raise NotFound("No image with that id in the trash.")
    try:
        restored = await repository.restore(session, image_id)
    except IntegrityError:
        await session.rollback()
        trashed = await repository.get(session, image_id)
        existing = await images.id_by_sha256(session, trashed.sha256) if trashed else None
        raise Duplicate(
            "An image with the same bytes is in the library; the trashed one stays in the trash.",
            id=existing or "",
        ) from None
    if not restored:
        raise NotFound("No image with that id in the trash.")
    await _commit(session, "nothing was restored")
    log.info("image.restored_from_trash", image_id=image_id)
    return await images_service.read_image(session, image_id)


async def restore_by_sha256(session: AsyncSession, sha256: str) -> ImageRecord | None:
    """A byte-identical upload of a trashed image brings the original back; None if none."""
    image_id = await repository.id_by_sha256(session, sha256)
    if image_id is None:
        return None
    try:
        return await restore(session, image_id)
    except (NotFound, Duplicate):
        return None  # restored or purged meanwhile, or back in the library: upload as usual


async def _forget_objects(storage: Storage, image_id: str) -> None:
    try:
        deleted = await delete_prefix(storage, keys.image_prefix(image_id))
    except StorageError as exc:
        # An object without a row: `reactbin check --repair` removes it.
        log.warning("trash.purge_objects_failed", image_id=image_id, error=str(exc))
        return
    log.info("trash.purged", image_id=image_id, objects=deleted)


async def purge(session: AsyncSession, storage: Storage, image_id: str) -> None:
    """Row first, then objects, as a delete always did: no row ever names a missing object."""
    if not is_valid_id(image_id) or not await repository.purge(session, image_id):
        raise NotFound("No image with that id in the trash.")
    await _commit(session, "nothing was deleted")
    await _forget_objects(storage, image_id)


async def purge_expired(
    sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, days: int
) -> int:
    """The worker's periodic job: purge what has been in the trash longer than `days`."""
    purged = 0
    while True:
        async with sessionmaker() as session:
            ids = await repository.purge_older_than(session, days, PURGE_BATCH)
            await session.commit()
        for image_id in ids:
            await _forget_objects(storage, image_id)
        purged += len(ids)
        if len(ids) < PURGE_BATCH:
            return purged


def to_read(trashed: TrashedImage, days: int) -> TrashedRead:
    snapshot: dict[str, Any] = trashed.snapshot
    return TrashedRead(
        id=trashed.id,
        title=trashed.title,
        description=str(snapshot.get("description") or ""),
        tags=[str(tag) for tag in snapshot.get("tags") or []],
        mime_type=str(snapshot.get("mime_type")),
        width=int(snapshot.get("width") or 0),
        height=int(snapshot.get("height") or 0),
        size_bytes=int(snapshot.get("size_bytes") or 0),
        sha256=trashed.sha256,
        created_at=datetime.fromisoformat(str(snapshot.get("created_at"))),
        trashed_at=trashed.trashed_at,
        purge_after=trashed.trashed_at + timedelta(days=days),
    )


async def list_trash(
    session: AsyncSession, codec: CursorCodec, *, limit: int, cursor: str | None
) -> tuple[list[TrashedImage], str | None]:
    return await keyset_page(
        lambda n, after: repository.page(session, limit=n, after=after),
        codec,
        cursor=cursor,
        limit=limit,
        key="tt",
        position=lambda row: (row.trashed_at, row.id),
    )
