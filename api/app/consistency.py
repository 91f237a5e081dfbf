"""`reactbin check`: make the database and the bucket agree.

- A row whose original is missing cannot be served: reported; `--repair`
  deletes the row (the image is already gone).
- A row whose thumbnail is missing: reported; `--repair` rebuilds it from the original.
- An object under `images/<id>/` with no row is an orphan (an upload that died
  between storage and commit, or a delete that could not reach storage):
  reported once older than the grace period, so uploads in flight are left
  alone; `--repair` deletes it. The objects of an image in the trash are not
  orphans: they wait there until the image is restored or purged.
- Renditions (app/renditions/checks.py): a row whose object is missing is
  reported; `--repair` deletes the row and queues a rebuild. A rendition
  object that no row names is an orphan like the above.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import procrastinate
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.images import keys, repository
from app.images.trash import repository as trash_repository
from app.imaging.thumbnails import make_thumbnail
from app.renditions import checks as renditions
from app.storage import ObjectInfo, Storage, StorageError
from app.storage.base import download_to

log = structlog.get_logger()
DEFAULT_GRACE = timedelta(minutes=15)


@dataclass
class CheckReport:
    rows: int = 0
    objects: int = 0
    missing_originals: list[str] = field(default_factory=list)
    missing_thumbnails: list[str] = field(default_factory=list)
    renditions: int = 0
    missing_renditions: list[str] = field(default_factory=list)  # "<id>/<format>"
    orphans: list[str] = field(default_factory=list)
    young_orphans: int = 0
    repaired: list[str] = field(default_factory=list)
    repair_failures: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        problems = [*self.missing_originals, *self.missing_thumbnails]
        problems += [*self.missing_renditions, *self.orphans]
        return not problems or len(self.repaired) == len(problems)


async def _rebuild_thumbnail(storage: Storage, original: str, thumbnail: str) -> None:
    with tempfile.TemporaryDirectory(prefix="reactbin-check-") as workdir:
        path = Path(workdir) / "original"
        await download_to(storage, original, path)
        data = await anyio.to_thread.run_sync(make_thumbnail, path)
    await storage.put_bytes(thumbnail, data, "image/webp")


async def check(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    *,
    repair: bool = False,
    grace: timedelta = DEFAULT_GRACE,
    queue: procrastinate.App | None = None,
) -> CheckReport:
    report = CheckReport()
    listed_at = datetime.now(UTC)
    objects: dict[str, ObjectInfo] = {info.key: info async for info in storage.list(keys.PREFIX)}
    async with sessionmaker() as session:
        rows = await repository.all_keys(session)
        # A trashed image keeps every object (original, thumbnail, renditions) until purged.
        trashed = set(await trash_repository.all_keys(session))
    rendition_rows = await renditions.inspect(sessionmaker, objects, listed_at)
    report.renditions, report.missing_renditions = rendition_rows.count, rendition_rows.missing
    report.rows, report.objects = len(rows), len(objects)
    for image_id, (original, thumbnail) in rows.items():
        if original not in objects:
            report.missing_originals.append(image_id)
        elif thumbnail not in objects:
            report.missing_thumbnails.append(image_id)
    cutoff = datetime.now(UTC) - grace
    for key, info in objects.items():
        owner = keys.image_id_of(key)
        if owner in trashed:
            continue
        if owner not in rows or renditions.unclaimed(key, rendition_rows.keys):
            if info.last_modified <= cutoff:
                report.orphans.append(key)
            else:
                report.young_orphans += 1
    if repair:
        await _repair(sessionmaker, storage, rows, report)
        report.repaired += await renditions.repair_missing(
            sessionmaker, report.missing_renditions, queue
        )
    return report


async def _repair(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    rows: dict[str, tuple[str, str]],
    report: CheckReport,
) -> None:
    for key in report.orphans:
        await _attempt(report, key, storage.delete(key))
    for image_id in report.missing_thumbnails:
        original, thumbnail = rows[image_id]
        await _attempt(report, image_id, _rebuild_thumbnail(storage, original, thumbnail))
    for image_id in report.missing_originals:
        async with sessionmaker() as session:
            await repository.delete_image(session, image_id)
            await session.commit()
        log.warning("check.row_removed", image_id=image_id, reason="original missing")
        report.repaired.append(image_id)


async def _attempt(report: CheckReport, name: str, action: Awaitable[None]) -> None:
    try:
        await action
    except (StorageError, OSError) as exc:
        report.repair_failures.append(f"{name}: {exc}")
    else:
        report.repaired.append(name)
