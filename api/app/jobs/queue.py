"""The background job queue: procrastinate, on the same PostgreSQL.

No broker to run or back up, and any number of `reactbin worker` processes on
any number of machines share the queue safely (jobs are locked in the database).

This module knows the jobs by name only, so that every feature can queue one;
the code each runs is registered by `app/tasks.py`, where the app is assembled.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import procrastinate
import structlog
from procrastinate.jobs import JobDeferrer
from procrastinate.worker import FETCH_JOB_POLLING_INTERVAL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import DatabasePooler, Settings
from app.storage import Storage

QUEUE = "images"
# The text-recognition job. Its stored name is older than the job's code: queued
# jobs carry it, so it stays.
RECOGNISE_TEXT = "process_image"
MAKE_RENDITIONS = "make_renditions"
PURGE_TRASH = "purge_trash"
# Every hour at :17 (off the hour, when other cron jobs run), any worker may take it.
PURGE_TRASH_CRON = "17 * * * *"

# A worker writes a heartbeat every HEARTBEAT_SECONDS; one silent for STALLED_AFTER_SECONDS
# is dead (killed, its machine gone) and its jobs in hand are queued again, by any
# worker, at most RECOVER_EVERY_SECONDS later. Every job is safe to run again: it
# rewrites the same rows and objects from the same original.
HEARTBEAT_SECONDS = 5.0
STALLED_AFTER_SECONDS = 20.0
RECOVER_EVERY_SECONDS = 5.0
# Without LISTEN (DATABASE_POOLER=transaction) an idle worker asks for a job this often:
# one cheap query a second, and a new upload's jobs start within a second.
POLL_SECONDS = 1.0
# A worker whose connection broke starts again after 1 s, then 2, 4... at most 30 s.
RESTART_PAUSE_SECONDS = 1.0
MAX_RESTART_PAUSE_SECONDS = 30.0

log = structlog.get_logger()


@dataclass(frozen=True)
class WorkerResources:
    """What a job needs, handed to the worker as procrastinate's additional context."""

    sessionmaker: async_sessionmaker[AsyncSession]
    storage: Storage
    settings: Settings


def libpq_url(database_url: str) -> str:
    """psycopg speaks libpq URLs: the same URL without SQLAlchemy's driver name."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def make_queue(database_url: str, *, pooler: DatabasePooler = "none") -> procrastinate.App:
    """A queue to defer jobs on; a worker's also needs `app.tasks.register_tasks`."""
    # psycopg prepares (names) a statement from its fifth run on a connection: never
    # behind a transaction-mode pooler, whose next transaction may be on another server
    # connection (see app/db.py for asyncpg).
    options: dict[str, Any] = {}
    if pooler == "transaction":
        options["kwargs"] = {"prepare_threshold": None}
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(database_url), min_size=1, max_size=4, **options
    )
    return procrastinate.App(connector=connector)


def _job(queue: procrastinate.App, name: str, **options: Any) -> JobDeferrer:
    # The queue named explicitly: on an App where the task is not registered,
    # procrastinate would put the job on its default queue, which no worker reads.
    return queue.configure_task(name, queue=QUEUE, **options)


def renditions_task(queue: procrastinate.App, image_id: str) -> JobDeferrer:
    """The renditions job of one image. One per image at a time (a rebuild queued while
    the upload's job runs waits for it), so two jobs never interleave their objects and rows."""
    return _job(queue, MAKE_RENDITIONS, lock=f"renditions:{image_id}")


async def defer_text_recognition(queue: procrastinate.App, image_id: str) -> None:
    await _job(queue, RECOGNISE_TEXT).defer_async(image_id=image_id)


async def defer_renditions(queue: procrastinate.App, image_id: str) -> None:
    await renditions_task(queue, image_id).defer_async(image_id=image_id)


async def defer_upload_jobs(queue: procrastinate.App, image_id: str) -> None:
    """Queue text recognition and renditions for a new image in one statement: one
    round trip on one of the queue's connections, where two defers took two of each.
    Both jobs are queued, or neither (the upload logs it; `reactbin reprocess` and
    `reactbin renditions` catch up)."""
    jobs = [
        _job(queue, RECOGNISE_TEXT).make_new_job(image_id=image_id),
        renditions_task(queue, image_id).make_new_job(image_id=image_id),
    ]
    await queue.job_manager.batch_defer_jobs_async(jobs)


async def run_worker(
    queue: procrastinate.App, resources: WorkerResources, *, wait: bool = True, concurrency: int = 1
) -> None:
    """Process jobs; with `wait=False`, return once the queue is empty (tests, one-off runs)."""
    polling = resources.settings.database_pooler == "transaction"
    options: dict[str, Any] = {
        "queues": [QUEUE],
        "wait": wait,
        "concurrency": concurrency,
        "install_signal_handlers": False,
        "additional_context": {"resources": resources},
        "delete_jobs": "successful",
        # A worker wakes at once for a new job through LISTEN, or polls; a
        # transaction-mode pooler carries no LISTEN (tests/cluster/test_pooler.py).
        "listen_notify": wait and not polling,
        "fetch_job_polling_interval": POLL_SECONDS if polling else FETCH_JOB_POLLING_INTERVAL,
        "update_heartbeat_interval": HEARTBEAT_SECONDS,
        "stalled_worker_timeout": STALLED_AFTER_SECONDS,
    }
    if not wait:
        await queue.run_worker_async(**options)
        return
    recovery = asyncio.create_task(recover_stalled_jobs(queue), name="reactbin-job-recovery")
    try:
        await _run_until_cancelled(queue, options)
    finally:
        recovery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recovery


async def _run_until_cancelled(queue: procrastinate.App, options: dict[str, Any]) -> None:
    """procrastinate stops its worker when its database connection breaks (a PostgreSQL
    restart): start it again, with a growing pause, instead of leaving a process that
    looks alive and runs nothing. Found by the cluster tests (tests/cluster)."""
    pause = RESTART_PAUSE_SECONDS
    while True:
        started = asyncio.get_running_loop().time()
        try:
            await queue.run_worker_async(**options)
            error = "stopped"
        except Exception as exc:  # any failure: the next run tries again
            error = type(exc).__name__
        if asyncio.get_running_loop().time() - started > MAX_RESTART_PAUSE_SECONDS:
            pause = RESTART_PAUSE_SECONDS  # it had been running well: a fresh failure
        log.warning("jobs.worker_restarting", error=error, pause_s=pause)
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_RESTART_PAUSE_SECONDS)


async def recover_stalled_jobs(queue: procrastinate.App) -> None:
    """Queue again the jobs of workers that stopped sending heartbeats (procrastinate
    leaves them `doing` forever otherwise)."""
    manager = queue.job_manager
    while True:
        await asyncio.sleep(RECOVER_EVERY_SECONDS)
        try:
            stalled = await manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=STALLED_AFTER_SECONDS
            )
            for job in stalled:
                # Another worker may have recovered it first: that one wins, this one skips.
                with contextlib.suppress(Exception):
                    await manager.retry_job(job)
                    log.warning("jobs.recovered", job_id=job.id, task=job.task_name)
        except Exception as exc:  # PostgreSQL away: the worker itself reports it; retry later
            log.warning("jobs.recovery_failed", error=type(exc).__name__)
