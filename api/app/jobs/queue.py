"""The background job queue: procrastinate, on the same PostgreSQL.

No broker to run or back up, and any number of `reactbin worker` processes on
any number of machines share the queue safely (jobs are locked in the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate.jobs import JobDeferrer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.storage import Storage

QUEUE = "images"
# The text-recognition job. Its stored name is older than the job's code: queued
# jobs carry it, so it stays.
RECOGNISE_TEXT = "process_image"
MAKE_RENDITIONS = "make_renditions"


@dataclass(frozen=True)
class WorkerResources:
    """What a job needs, handed to the worker as procrastinate's additional context."""

    sessionmaker: async_sessionmaker[AsyncSession]
    storage: Storage
    settings: Settings


def libpq_url(database_url: str) -> str:
    """psycopg speaks libpq URLs: the same URL without SQLAlchemy's driver name."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def make_queue(database_url: str) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(database_url), min_size=1, max_size=4
    )
    from app.jobs.processing import recognise_text_task
    from app.renditions.job import make_renditions_task

    queue = procrastinate.App(connector=connector)
    # Registered per App (not through a shared Blueprint): a task object
    # remembers one App, and tests run several.
    retry = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=5)
    tasks = ((RECOGNISE_TEXT, recognise_text_task), (MAKE_RENDITIONS, make_renditions_task))
    for name, task in tasks:
        queue.task(name=name, queue=QUEUE, pass_context=True, retry=retry)(task)
    return queue


def renditions_task(queue: procrastinate.App, image_id: str) -> JobDeferrer:
    """The renditions job of one image. One per image at a time (a rebuild queued while
    the upload's job runs waits for it), so two jobs never interleave their objects and rows."""
    return queue.configure_task(MAKE_RENDITIONS, lock=f"renditions:{image_id}")


async def defer_upload_jobs(queue: procrastinate.App, image_id: str) -> None:
    """Queue text recognition and renditions for a new image in one statement: one
    round trip on one of the queue's connections, where two defers took two of each.
    Both jobs are queued, or neither (the upload logs it; `reactbin reprocess` and
    `reactbin renditions` catch up)."""
    jobs = [
        queue.configure_task(RECOGNISE_TEXT).make_new_job(image_id=image_id),
        renditions_task(queue, image_id).make_new_job(image_id=image_id),
    ]
    await queue.job_manager.batch_defer_jobs_async(jobs)


async def run_worker(
    queue: procrastinate.App, resources: WorkerResources, *, wait: bool = True, concurrency: int = 1
) -> None:
    """Process jobs; with `wait=False`, return once the queue is empty (tests, one-off runs)."""
    options: dict[str, Any] = {
        "queues": [QUEUE],
        "wait": wait,
        "concurrency": concurrency,
        "install_signal_handlers": False,
        "additional_context": {"resources": resources},
        "delete_jobs": "successful",
        "listen_notify": wait,
    }
    await queue.run_worker_async(**options)
