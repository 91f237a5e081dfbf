"""The renditions' part of `reactbin check` (app/consistency.py).

- A rendition row whose object is missing: reported as `<id>/<format>`;
  `--repair` deletes the row, marks the image pending and queues a rebuild.
  Rows written after the bucket was listed are not judged (the job uploads
  its objects first, so a row that new may have objects the listing missed).
- An object under `images/<id>/renditions/` that no row names is an orphan,
  like any other object without a row (after the same grace period).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.images.keys import image_id_of, image_prefix
from app.jobs.queue import defer_renditions
from app.renditions import repository


@dataclass(frozen=True)
class RenditionRows:
    count: int
    keys: frozenset[str]
    missing: list[str]  # "<image id>/<format>"


async def inspect(
    sessionmaker: async_sessionmaker[AsyncSession], objects: Collection[str], listed_at: datetime
) -> RenditionRows:
    async with sessionmaker() as session:
        rows = await repository.all_keys(session)
    missing = [
        f"{image_id}/{fmt}"
        for image_id, fmt, key, created_at in rows
        if key not in objects and created_at < listed_at
    ]
    return RenditionRows(len(rows), frozenset(key for *_, key, _ in rows), sorted(missing))


def unclaimed(key: str, rendition_keys: Collection[str]) -> bool:
    """A rendition object that no rendition row names (its image may still exist)."""
    image_id = image_id_of(key)
    if image_id is None or not key.startswith(f"{image_prefix(image_id)}renditions/"):
        return False
    return key not in rendition_keys


async def repair_missing(
    sessionmaker: async_sessionmaker[AsyncSession],
    missing: Iterable[str],
    queue: procrastinate.App | None,
) -> list[str]:
    """Forget the rows; queue a rebuild when a queue is given (else `reactbin renditions`)."""
    repaired: list[str] = []
    images: set[str] = set()
    async with sessionmaker() as session:
        for name in missing:
            image_id, _, fmt = name.partition("/")
            await repository.delete_one(session, image_id, fmt)
            await repository.mark_pending(session, image_id)
            images.add(image_id)
            repaired.append(name)
        await session.commit()
    if queue is not None:
        for image_id in sorted(images):
            await defer_renditions(queue, image_id)
    return repaired
