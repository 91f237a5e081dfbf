"""The upload use case, and its write order.

1. The body streams to a temp file (receive.py), cut off at the size cap.
2. Fields are validated, then, in a worker thread, the bytes are probed,
   cleaned (metadata and smuggled bytes dropped: imaging/sanitize.py), hashed
   and thumbnailed: nothing is stored for a refused upload.
3. The original and the thumbnail are written to storage under a fresh id
   (both at once: two PUTs in flight, not one after the other).
4. The row is inserted with its tags, in one statement that commits by itself.
   Only then does the client get its 201.

A failure after step 3 deletes the objects written; if that delete fails too,
they are orphans without a row, which `reactbin check --repair` removes. So a
row never points to a missing object, and nothing confirmed is lost.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import anyio
import procrastinate
import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Duplicate, ServiceUnavailable, Unprocessable
from app.ids import new_id
from app.images import insertion, repository
from app.images.preparation import PreparedImage, inspect
from app.images.rows import ImageRecord, new_image
from app.images.schemas import (
    MAX_TITLE,
    FieldError,
    clean_description,
    clean_tags,
    clean_title,
    split_tag_fields,
)
from app.images.spool import ReceivedUpload
from app.images.trash import service as trash_service
from app.jobs.queue import defer_upload_jobs
from app.storage import Storage, StorageError

log = structlog.get_logger()


@dataclass(frozen=True)
class UploadFields:
    title: str
    description: str
    tags: list[str]


def title_from_filename(filename: str | None) -> str:
    """'../memes/this_is-fine.gif' -> 'this is fine'."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    text = "".join(c for c in stem if unicodedata.category(c)[0] != "C")
    text = re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", text)).strip()
    return text[:MAX_TITLE].strip() or "Untitled"


def parse_fields(received: ReceivedUpload) -> UploadFields:
    def one(name: str) -> str | None:
        values = received.fields.get(name)
        return values[-1] if values else None

    if received.file_path is None:
        raise Unprocessable("The `file` field is required.")
    try:
        title_field = one("title")
        title = (
            clean_title(title_field)
            if title_field and title_field.strip()
            else title_from_filename(received.filename)
        )
        return UploadFields(
            title=title,
            description=clean_description(one("description") or ""),
            tags=clean_tags(split_tag_fields(received.fields.get("tags", []))),
        )
    except FieldError as exc:
        raise Unprocessable(str(exc)) from None


def cleanup_budget(settings: Settings) -> float:
    """How long a failed upload may spend deleting what it wrote before answering.

    The failed storage call may already have taken a whole storage timeout, and
    with a hung S3 each delete would take as long again. The deletes run together
    and get a quarter of it, so an upload that meets a hung S3 answers within 1.25
    timeouts (25 s by default); whatever is not deleted by then is an orphan for
    `reactbin check --repair`.
    """
    return settings.storage_timeout_seconds / 4


async def discard_objects(
    storage: Storage, object_keys: list[str], reason: str, budget: float
) -> None:
    async def delete(key: str) -> None:
        try:
            await storage.delete(key)
        except StorageError:
            # Left for `reactbin check --repair`: an object without a row is harmless.
            log.warning("upload.orphan_left", key=key, reason=reason)

    with anyio.move_on_after(budget) as scope:
        async with anyio.create_task_group() as group:
            for key in object_keys:
                group.start_soon(delete, key)
    if scope.cancelled_caught:
        log.warning("upload.orphan_left", keys=object_keys, reason=f"{reason}; clean-up timed out")


async def store_objects(
    storage: Storage, object_keys: list[str], image: PreparedImage, budget: float
) -> None:
    original, thumbnail = object_keys
    failures: list[tuple[str, StorageError]] = []

    async def put(key: str) -> None:
        # Caught here rather than by the task group: the other PUT runs to its end
        # (success or its own timeout), so both are settled before cleaning up.
        try:
            if key == original and image.content is not None:
                await storage.put_bytes(key, image.content, image.probe.mime_type)
            elif key == original:
                await storage.put_file(key, image.path, image.probe.mime_type)
            else:
                await storage.put_bytes(key, image.thumbnail, "image/webp")
        except StorageError as exc:
            failures.append((key, exc))

    # Concurrently: each PUT is mostly a round trip to S3 (~5 ms on loopback).
    async with anyio.create_task_group() as group:
        group.start_soon(put, original)
        group.start_soon(put, thumbnail)
    if failures:
        key, exc = failures[0]
        log.warning("upload.storage_failed", key=key, error=str(exc))
        # Both keys, whichever failed: a PUT that failed may still have been stored.
        await discard_objects(storage, object_keys, "storage failed", budget)
        raise ServiceUnavailable("Storage is unavailable; the upload was not saved.") from exc


async def upload_image(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    received: ReceivedUpload,
    queue: procrastinate.App | None = None,
) -> ImageRecord:
    image, _restored = await upload_or_restore(session, storage, settings, received, queue)
    return image


async def upload_or_restore(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    received: ReceivedUpload,
    queue: procrastinate.App | None = None,
) -> tuple[ImageRecord, bool]:
    """The upload; (image, True) when the same bytes were in the trash and came back
    (with their id, links and metadata) instead of being stored again."""
    fields = parse_fields(received)
    prepared = await inspect(received, settings)
    try:
        await _without_transaction(session)
        # Bytes in the trash come back (one statement, atomic in autocommit too).
        restored = await trash_service.restore_by_sha256(session, prepared.sha256)
        if restored is not None:
            return restored, True
        image = await _save(session, storage, fields, prepared, cleanup_budget(settings))
    finally:
        prepared.discard()
    if queue is not None:
        await _enqueue_processing(queue, image.id)
    return image, False


async def _enqueue_processing(queue: procrastinate.App, image_id: str) -> None:
    # The image is saved whatever happens here; `reactbin reprocess` and
    # `reactbin renditions` catch up on any image whose jobs could not be queued.
    try:
        await defer_upload_jobs(queue, image_id)
    except Exception as exc:  # the queue is best effort, the upload is not
        log.warning("upload.enqueue_failed", image_id=image_id, error=type(exc).__name__)


async def _without_transaction(session: AsyncSession) -> None:
    """Run the upload's statements in autocommit: the duplicate check is advisory and
    the insert is one atomic statement, so BEGIN and COMMIT were two round trips
    (and a transaction left open during the storage writes) that protected nothing.
    `session.commit()` is still called: it sends nothing then, but runs the
    session's after-commit hook (the server's response cache is cleared there)."""
    if not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


async def _save(
    session: AsyncSession,
    storage: Storage,
    fields: UploadFields,
    prepared: PreparedImage,
    budget: float,
) -> ImageRecord:
    await _without_transaction(session)
    # Duplicates are judged on the stored (cleaned) bytes: the same upload always
    # cleans to the same bytes, and the hash is also the file's ETag.
    if (existing := await repository.id_by_sha256(session, prepared.sha256)) is not None:
        raise Duplicate("This image is already in the library.", id=existing)

    row = new_image(new_id(), fields.title, fields.description, prepared)
    objects = [row.original_key, row.thumbnail_key]
    await store_objects(storage, objects, prepared, budget)
    try:
        created_at, updated_at = await insertion.insert_image(session, row, fields.tags)
        await session.commit()
    except IntegrityError:
        # Two identical uploads raced; the unique sha256 index picked the winner.
        await session.rollback()
        await discard_objects(storage, objects, "duplicate", budget)
        winner = await repository.id_by_sha256(session, prepared.sha256)
        raise Duplicate("This image is already in the library.", id=winner or "") from None
    except (DBAPIError, OSError) as exc:
        await session.rollback()
        await discard_objects(storage, objects, "database failed", budget)
        raise ServiceUnavailable("The database is unavailable; the upload was not saved.") from exc
    log.info("image.uploaded", image_id=row.id, bytes=prepared.size, mime=row.mime_type)
    # Built from what was inserted rather than read back (a SELECT of the row and one
    # of its tags, with ORM objects for each: ~1 ms of CPU).
    return ImageRecord.inserted(row, fields.tags, created_at, updated_at)
