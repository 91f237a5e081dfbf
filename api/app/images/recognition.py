"""The job that runs after an upload: read the caption printed in the image.

The upload never waits for it. It retries with back-off when storage or the
database is briefly away, and an image deleted meanwhile is simply skipped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
import procrastinate
import structlog
from sqlalchemy import func, update

from app.images import repository
from app.images.models import Image
from app.images.spool import TEXT_JOB_DIR_PREFIX
from app.jobs.queue import WorkerResources
from app.storage import ObjectNotFound
from app.storage.base import download_to

log = structlog.get_logger()


def _recognise(path: Path) -> str | None:
    from app.imaging.ocr import extract_text  # heavy: loaded in workers only

    return extract_text(path)


async def recognise_text(resources: WorkerResources, image_id: str) -> None:
    """Read the text printed in the image into `ocr_text`, unless the owner wrote one."""
    async with resources.sessionmaker() as session:
        image = await repository.get_record(session, image_id)
    if image is None:
        log.info("job.image_gone", image_id=image_id)
        return
    with tempfile.TemporaryDirectory(
        prefix=TEXT_JOB_DIR_PREFIX, dir=resources.settings.upload_tmp_dir
    ) as workdir:
        original = Path(workdir) / f"original.{image.extension}"
        try:
            await download_to(resources.storage, image.original_key, original)
        except ObjectNotFound:
            log.warning("job.original_missing", image_id=image_id)
            return
        text = await anyio.to_thread.run_sync(_recognise, original)
    async with resources.sessionmaker() as session:
        # Only fill what nobody has written: the owner's correction always wins.
        await session.execute(
            update(Image)
            .where(Image.id == image_id, Image.ocr_text.is_(None))
            .values(ocr_text=text)
        )
        await session.execute(
            update(Image).where(Image.id == image_id).values(processed_at=func.now())
        )
        await session.commit()
    log.info("job.image_processed", image_id=image_id, text_found=text is not None)


async def recognise_text_task(context: procrastinate.JobContext, image_id: str) -> None:
    await recognise_text(context.additional_context["resources"], image_id)
