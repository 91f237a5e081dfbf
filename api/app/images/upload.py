"""The upload use case, and its write order.

1. The body streams to a temp file (receive.py), cut off at the size cap.
2. Fields are validated, then, in a worker thread, the bytes are probed,
   cleaned (metadata and smuggled bytes dropped: imaging/sanitize.py), hashed
   and thumbnailed: nothing is stored for a refused upload.
3. The original and the thumbnail are written to storage under a fresh id.
4. The row is inserted and committed. Only then does the client get its 201.

A failure after step 3 deletes the objects written; if that delete fails too,
they are orphans without a row, which `reactbin check --repair` removes. So a
row never points to a missing object, and nothing confirmed is lost.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import anyio
import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Duplicate, ServiceUnavailable, Unprocessable, UnsupportedMedia
from app.ids import new_id
from app.images import keys, repository
from app.images.models import Image
from app.images.receive import TEMP_PREFIX, ReceivedUpload
from app.images.schemas import (
    MAX_TITLE,
    FieldError,
    clean_description,
    clean_tags,
    clean_title,
    split_tag_fields,
)
from app.imaging.errors import ImagingError, UnsupportedImageType
from app.imaging.probe import ImageLimits, ProbeResult, probe_image
from app.imaging.sanitize import sanitize
from app.imaging.thumbnails import make_thumbnail
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


def limits_from(settings: Settings) -> ImageLimits:
    return ImageLimits(
        max_pixels=settings.max_image_pixels,
        max_side=settings.max_image_side,
        max_frames=settings.max_image_frames,
        max_total_pixels=settings.max_image_total_pixels,
    )


@dataclass
class PreparedImage:
    """What will be stored: the cleaned file (a temp file), its facts, its thumbnail."""

    path: Path
    probe: ProbeResult
    sha256: str
    size: int
    thumbnail: bytes

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def _prepare(raw: Path, limits: ImageLimits) -> PreparedImage:
    """Blocking: probe, clean (no EXIF/GPS, no smuggled bytes), hash and thumbnail."""
    probe = probe_image(raw, limits)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=raw.parent)
    os.close(fd)
    clean = Path(name)
    try:
        sanitize(raw, clean, probe)
        digest = hashlib.sha256()
        with clean.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        # The thumbnail is made from exactly the bytes that will be served.
        thumbnail = make_thumbnail(clean)
        return PreparedImage(clean, probe, digest.hexdigest(), clean.stat().st_size, thumbnail)
    except BaseException:
        clean.unlink(missing_ok=True)
        raise


async def _inspect(received: ReceivedUpload, settings: Settings) -> PreparedImage:
    assert received.file_path is not None
    try:
        # Pillow decodes on the CPU for up to seconds on hostile files: never on the event loop.
        return await anyio.to_thread.run_sync(_prepare, received.file_path, limits_from(settings))
    except UnsupportedImageType as exc:
        raise UnsupportedMedia(exc.message) from None
    except ImagingError as exc:
        raise Unprocessable(exc.message) from None


async def _discard(storage: Storage, object_keys: list[str], reason: str) -> None:
    for key in object_keys:
        try:
            await storage.delete(key)
        except StorageError:
            # Left for `reactbin check --repair`: an object without a row is harmless.
            log.warning("upload.orphan_left", key=key, reason=reason)


async def _store_objects(storage: Storage, object_keys: list[str], image: PreparedImage) -> None:
    original, thumbnail = object_keys
    try:
        await storage.put_file(original, image.path, image.probe.mime_type)
        await storage.put_bytes(thumbnail, image.thumbnail, "image/webp")
    except StorageError as exc:
        log.warning("upload.storage_failed", key=original, error=str(exc))
        await _discard(storage, object_keys, "storage failed")
        raise ServiceUnavailable("Storage is unavailable; the upload was not saved.") from exc


async def upload_image(
    session: AsyncSession, storage: Storage, settings: Settings, received: ReceivedUpload
) -> Image:
    fields = parse_fields(received)
    prepared = await _inspect(received, settings)
    try:
        return await _save(session, storage, fields, prepared)
    finally:
        prepared.discard()


async def _save(
    session: AsyncSession, storage: Storage, fields: UploadFields, prepared: PreparedImage
) -> Image:
    # Duplicates are judged on the stored (cleaned) bytes: the same upload always
    # cleans to the same bytes, and the hash is also the file's ETag.
    if (existing := await repository.id_by_sha256(session, prepared.sha256)) is not None:
        raise Duplicate("This image is already in the library.", id=existing)

    image_id, probe = new_id(), prepared.probe
    original = keys.original_key(image_id, probe.extension)
    thumbnail = keys.thumbnail_key(image_id)
    await _store_objects(storage, [original, thumbnail], prepared)
    image = Image(
        id=image_id,
        title=fields.title,
        description=fields.description,
        mime_type=probe.mime_type,
        extension=probe.extension,
        width=probe.width,
        height=probe.height,
        frame_count=probe.frame_count,
        duration_ms=probe.duration_ms,
        size_bytes=prepared.size,
        sha256=prepared.sha256,
        original_key=original,
        thumbnail_key=thumbnail,
        thumbnail_bytes=len(prepared.thumbnail),
    )
    try:
        session.add(image)
        await session.flush()
        await repository.set_tags(session, image, fields.tags)
        await session.commit()
    except IntegrityError:
        # Two identical uploads raced; the unique sha256 index picked the winner.
        await session.rollback()
        await _discard(storage, [original, thumbnail], "duplicate")
        winner = await repository.id_by_sha256(session, prepared.sha256)
        raise Duplicate("This image is already in the library.", id=winner or "") from None
    except (DBAPIError, OSError) as exc:
        await session.rollback()
        await _discard(storage, [original, thumbnail], "database failed")
        raise ServiceUnavailable("The database is unavailable; the upload was not saved.") from exc
    log.info("image.uploaded", image_id=image_id, bytes=prepared.size, mime=probe.mime_type)
    return await repository.get(session, image_id) or image
