"""`reactbin renditions`: make renditions for images that have none (or all of them).

By default the jobs are queued for the workers (any number, anywhere); with
`now`, this process builds them one after the other and says how it went.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.config import Settings, SettingsError
from app.db import create_engine, create_sessionmaker
from app.jobs.queue import WorkerResources, defer_renditions, make_queue
from app.renditions import repository
from app.renditions.job import Outcome, build_renditions
from app.storage.factory import open_storage


@dataclass
class RebuildResult:
    queued: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # "made" / "gone" / "failed" -> count

    @property
    def failed(self) -> int:
        return self.outcomes.get("failed", 0)


async def run(
    settings: Settings,
    *,
    every: bool,
    now: bool,
    progress: Callable[[str, Outcome], None] | None = None,
) -> RebuildResult:
    if settings.database_url is None:
        raise SettingsError("DATABASE_URL is not set")
    engine = create_engine(settings.database_url, pool_size=2, pooler=settings.database_pooler)
    sessionmaker = create_sessionmaker(engine)
    result = RebuildResult()
    try:
        async with sessionmaker() as session:
            ids = await repository.image_ids(session, pending_only=not every)
        if not now:
            queue = make_queue(settings.database_url, pooler=settings.database_pooler)
            async with queue.open_async():
                for image_id in ids:
                    await defer_renditions(queue, image_id)
            result.queued = len(ids)
            return result
        storage = await open_storage(settings)
        try:
            resources = WorkerResources(sessionmaker, storage, settings)
            for image_id in ids:
                outcome = await build_renditions(resources, image_id)
                result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
                if progress is not None:
                    progress(image_id, outcome)
        finally:
            await storage.close()
        return result
    finally:
        await engine.dispose()
