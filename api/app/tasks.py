"""Every background task, registered on the queue a worker runs: the one place that
knows both the queue (`app/jobs/`) and the features whose jobs it runs."""

from __future__ import annotations

import procrastinate

from app.config import DatabasePooler
from app.images.recognition import recognise_text_task
from app.images.trash.job import purge_trash_task
from app.jobs.queue import (
    MAKE_RENDITIONS,
    PURGE_TRASH,
    PURGE_TRASH_CRON,
    QUEUE,
    RECOGNISE_TEXT,
    make_queue,
)
from app.renditions.job import make_renditions_task


def register_tasks(queue: procrastinate.App) -> procrastinate.App:
    # Registered per App (not through a shared Blueprint): a task object
    # remembers one App, and tests run several.
    retry = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=5)
    tasks = ((RECOGNISE_TEXT, recognise_text_task), (MAKE_RENDITIONS, make_renditions_task))
    for name, task in tasks:
        queue.task(name=name, queue=QUEUE, pass_context=True, retry=retry)(task)
    # Periodic: every worker's scheduler defers it; procrastinate runs each tick once.
    purge = queue.task(name=PURGE_TRASH, queue=QUEUE, pass_context=True)(purge_trash_task)
    queue.periodic(cron=PURGE_TRASH_CRON, periodic_id=PURGE_TRASH)(purge)
    return queue


def make_worker_queue(database_url: str, *, pooler: DatabasePooler = "none") -> procrastinate.App:
    """The queue with every task registered: what the server and `reactbin worker` use."""
    return register_tasks(make_queue(database_url, pooler=pooler))
