"""Restore one image of an export with its id, times, metadata and exact bytes.

Write order, as for an upload: the bytes are checked (sha256 against the
manifest, probed and cleaned like an upload: a file a reactbin server would not
have stored as is is refused), then the objects are written, then the row in
one statement. All under a lock on the id, so two restores of one id never
write its objects at once. Refusals store nothing. Renditions and text
recognition are queued, not copied: the worker rebuilds them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Literal

import anyio
import procrastinate
import structlog
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.backup import repository
from app.backup.repository import RestoredImage
from app.backup.schemas import RestoreEntry
from app.config import Settings
from app.errors import Duplicate, ServiceUnavailable, Unprocessable
from app.images import repository as images
from app.images import service as images_service
from app.images.models import Image
from app.images.paging import keyset_page
from app.images.preparation import PreparedImage, inspect
from app.images.rows import ImageRecord, new_image
from app.images.spool import ReceivedUpload
from app.images.trash import service as trash_service
from app.images.upload import cleanup_budget, discard_objects, store_objects
from app.jobs.queue import defer_upload_jobs
from app.pagination import CursorCodec
from app.storage import Storage

log = structlog.get_logger()
Status = Literal["restored", "unchanged"]
_ENTRY_FIELDS = set(RestoreEntry.model_fields)
_LIST_FIELDS = {"tags"}


def parse_entry(received: ReceivedUpload) -> RestoreEntry:
    """The form's fields as an entry; one sentence naming the first bad field."""
    unknown = sorted(set(received.fields) - _ENTRY_FIELDS)
    if unknown:
        raise Unprocessable(f"Unknown field `{unknown[0][:50]}`.")
    values: dict[str, object] = {}
    for name, given in received.fields.items():
        values[name] = given if name in _LIST_FIELDS else given[-1]
    if values.get("tags") == [""]:
        values["tags"] = []
    try:
        return RestoreEntry.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"][:1]) or "entry"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise Unprocessable(f"`{where}`: {message}") from None


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


async def _checked(received: ReceivedUpload, entry: RestoreEntry, now: datetime) -> None:
    if entry.created_at > now or (entry.updated_at is not None and entry.updated_at > now):
        raise Unprocessable("`created_at` and `updated_at` must not be in the future.")
    if received.file_path is None:
        raise Unprocessable("The `file` field is required.")
    if await anyio.to_thread.run_sync(_file_sha256, received.file_path) != entry.sha256:
        raise Unprocessable("The file's sha256 differs from the manifest's: nothing was stored.")


async def _existing(session: AsyncSession, entry: RestoreEntry) -> Status | None:
    """What the server holds already: unchanged, a conflict (raised), or nothing (None)."""
    live, trashed = await repository.sha256_of(session, entry.id)
    if live == entry.sha256:
        return "unchanged"
    if live is not None or (trashed is not None and trashed != entry.sha256):
        raise Duplicate(
            f"Image {entry.id} exists on this server with other bytes; it was not overwritten.",
            id=entry.id,
        )
    if trashed is not None:
        return "restored"  # the same image, in the trash: brought back below
    other = await images.id_by_sha256(session, entry.sha256)
    if other is not None:
        raise Duplicate(f"These bytes are already image {other} on this server.", id=other)
    return None


async def list_images(
    session: AsyncSession, codec: CursorCodec, *, limit: int, cursor: str | None
) -> tuple[list[Image], str | None]:
    """A page of every image with its tags, oldest first, and the next page's cursor."""
    return await keyset_page(
        lambda n, after: repository.page(session, limit=n, after=after),
        codec,
        cursor=cursor,
        limit=limit,
        key="bt",
        position=lambda image: (image.created_at, image.id),
    )


async def restore_image(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    received: ReceivedUpload,
    queue: procrastinate.App | None,
) -> tuple[Status, ImageRecord]:
    entry = parse_entry(received)
    await _checked(received, entry, await repository.now(session))
    await repository.lock_id(session, entry.id)
    found = await _existing(session, entry)
    if found == "unchanged":
        await session.rollback()  # ends the lock
        return "unchanged", await images_service.read_image(session, entry.id)
    if found == "restored":
        return "restored", await trash_service.restore(session, entry.id)
    prepared = await inspect(received, settings)
    try:
        if prepared.sha256 != entry.sha256:
            raise Unprocessable(
                "The file is not as a reactbin server stores it (it carries metadata that "
                "an upload would remove); use `reactbin import` for it."
            )
        await _store(session, storage, settings, entry, prepared)
    finally:
        prepared.discard()
    if queue is not None:
        try:
            await defer_upload_jobs(queue, entry.id)
        except Exception as exc:  # the image is saved; `reactbin renditions` catches up
            log.warning("restore.enqueue_failed", image_id=entry.id, error=type(exc).__name__)
    log.info("image.restored", image_id=entry.id, bytes=prepared.size)
    return "restored", await images_service.read_image(session, entry.id)


async def _store(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    entry: RestoreEntry,
    prepared: PreparedImage,
) -> None:
    image = new_image(entry.id, entry.title, entry.description, prepared, entry.phash)
    objects = [image.original_key, image.thumbnail_key]
    budget = cleanup_budget(settings)
    await store_objects(storage, objects, prepared, budget)
    row = RestoredImage.of(
        image,
        ocr_text=entry.ocr_text,
        share_count=entry.share_count,
        created_at=entry.created_at,
        updated_at=entry.updated_at or entry.created_at,
    )
    try:
        await repository.insert(session, row, entry.tags)
        await session.commit()
    except IntegrityError:
        # The lock keeps other restores of this id out; an upload of the same bytes
        # under a new id is what can still win the race.
        await session.rollback()
        await discard_objects(storage, objects, "restore conflict", budget)
        raise Duplicate("These bytes were stored under another id meanwhile.", id="") from None
    except (DBAPIError, OSError) as exc:
        await session.rollback()
        await discard_objects(storage, objects, "database failed", budget)
        raise ServiceUnavailable("The database is unavailable; nothing was restored.") from exc
