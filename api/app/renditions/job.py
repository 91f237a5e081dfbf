"""The background job that makes an image's renditions, and its write order.

1. The original is downloaded to a temp directory (removed whatever happens).
2. Every rendition is encoded there, in a worker thread (`encode.py`).
3. Every object is uploaded first; only then are the rows written and
   `images.renditions_at` set, in one transaction that locks the image row.
   So a row never points to a missing object.
   A rendition that is the original itself (`gif` of a GIF, `webp` of a WebP)
   is a row naming the original's object, not a second copy.
4. An image deleted meanwhile: the objects just written are deleted, and the
   job stops. A rebuild removes the old rows before overwriting the objects,
   so a row never describes bytes it does not match (for the few seconds of a
   rebuild, the image has no renditions, which every reader copes with).

A broken original (it cannot be decoded or encoded) is logged and given up
on: trying again would fail the same way. Storage or database trouble raises,
and procrastinate retries with back-off like the text-recognition job.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

import anyio
import procrastinate
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.images import repository as images
from app.images.models import Image
from app.images.rows import ImageRecord
from app.images.spool import RENDITIONS_JOB_DIR_PREFIX
from app.jobs.queue import WorkerResources
from app.renditions import repository
from app.renditions.encoded import EncodedRendition, RenditionError
from app.renditions.formats import rendition_key
from app.renditions.models import Rendition
from app.storage import ObjectNotFound, Storage, StorageError
from app.storage.base import download_to

log = structlog.get_logger()
# A rendition row takes these from the encoder's output, by the same names.
ENCODED_COLUMNS = ("format", "mime_type", "width", "height", "duration", "size_bytes")
# made; gone: the image was deleted (nothing to do); failed: the original cannot be read.
Outcome = Literal["made", "gone", "failed"]


def _encode(original: Path, workdir: Path) -> list[EncodedRendition]:
    from app.renditions.encode import make_renditions  # FFmpeg: loaded in workers only

    return make_renditions(original, workdir)


async def _discard(storage: Storage, object_keys: list[str]) -> None:
    for key in object_keys:
        try:
            await storage.delete(key)
        except StorageError:
            log.warning("renditions.orphan_left", key=key)  # `reactbin check --repair` removes it


async def _lock_image(session: AsyncSession, image_id: str) -> bool:
    """Hold the image row until commit, so a delete waits for (or beats) this job."""
    statement = select(Image.id).where(Image.id == image_id).with_for_update()
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def _forget_old(resources: WorkerResources, image_id: str) -> list[str]:
    """Drop the rows of a previous build before its objects are overwritten; their keys."""
    async with resources.sessionmaker() as session:
        found = (await repository.renditions_for(session, [image_id])).get(image_id, {})
        if found:
            await repository.delete_all(session, image_id)
            await session.commit()
    return [rendition.key for rendition in found.values()]


async def _save(
    resources: WorkerResources, image: ImageRecord, original: Path, made: list[EncodedRendition]
) -> list[str] | None:
    """Objects, then rows. The keys written, or None when the image was deleted meanwhile.

    A rendition that is the original file itself (`gif` of a GIF) points to the
    original's object: a GIF library would otherwise be stored twice.
    """
    image_id = image.id
    written: list[str] = []
    rows: list[Rendition] = []
    for rendition in made:
        if rendition.path == original:
            key = image.original_key
        else:
            key = rendition_key(image_id, rendition.format, rendition.mime_type)
            await resources.storage.put_file(key, rendition.path, rendition.mime_type)
            written.append(key)
        encoded = {name: getattr(rendition, name) for name in ENCODED_COLUMNS}
        rows.append(Rendition(image_id=image_id, key=key, **encoded))
    async with resources.sessionmaker() as session:
        if not await _lock_image(session, image_id):
            await session.rollback()
            await _discard(resources.storage, written)
            return None
        await repository.replace_all(session, image_id, rows)
        await session.commit()
    return written


async def build_renditions(resources: WorkerResources, image_id: str) -> Outcome:
    """Make and store every rendition of one image."""
    async with resources.sessionmaker() as session:
        image = await images.get_record(session, image_id)
    if image is None:
        log.info("renditions.image_gone", image_id=image_id)
        return "gone"
    with tempfile.TemporaryDirectory(
        prefix=RENDITIONS_JOB_DIR_PREFIX, dir=resources.settings.upload_tmp_dir
    ) as workdir:
        original = Path(workdir) / f"original.{image.extension}"
        try:
            await download_to(resources.storage, image.original_key, original)
        except ObjectNotFound:
            log.warning("renditions.original_missing", image_id=image_id)
            return "failed"
        output = Path(workdir) / "out"
        output.mkdir()
        try:
            made = await anyio.to_thread.run_sync(_encode, original, output)
        except RenditionError as exc:
            log.warning("renditions.failed", image_id=image_id, error=str(exc))
            return "failed"
        old_keys = await _forget_old(resources, image_id)
        written = await _save(resources, image, original, made)
    if written is None:
        log.info("renditions.image_gone", image_id=image_id)
        return "gone"
    # A rebuild whose file type changed (preview JPEG -> PNG) leaves the old object behind.
    keep = {*written, image.original_key}
    await _discard(resources.storage, [key for key in old_keys if key not in keep])
    log.info("renditions.made", image_id=image_id, count=len(made))
    return "made"


async def make_renditions_task(context: procrastinate.JobContext, image_id: str) -> None:
    await build_renditions(context.additional_context["resources"], image_id)
