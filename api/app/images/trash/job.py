"""The worker's periodic job: purge what has been in the trash longer than TRASH_DAYS."""

from __future__ import annotations

import procrastinate
import structlog

from app.images.trash.service import purge_expired
from app.jobs.queue import WorkerResources

log = structlog.get_logger()


async def purge_trash(resources: WorkerResources) -> int:
    days = resources.settings.trash_days
    if days == 0:  # deletes skip the trash; what a previous setting left there stays restorable
        return 0
    purged = await purge_expired(resources.sessionmaker, resources.storage, days)
    if purged:
        log.info("trash.expired_purged", images=purged, days=days)
    return purged


async def purge_trash_task(context: procrastinate.JobContext, timestamp: int) -> None:
    await purge_trash(context.additional_context["resources"])
