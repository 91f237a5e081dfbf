"""Upload many items in parallel, skipping what the server already has.

Example::

    async with ReactbinClient(server, creds) as api:
        await api.authenticate()
        summary = await import_items(api, collect([Path("gifs")]).items, jobs=4)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import anyio

from app.transfer.client import Outcome, ReactbinClient, TransferError
from app.transfer.journal import Journal, already_in
from app.transfer.sources import Item

Report = Callable[[str], None]  # called with the outcome kind after each item


@dataclass(frozen=True)
class Problem:
    label: str
    reason: str
    status: int = 0


@dataclass
class Summary:
    total: int = 0
    created: int = 0
    duplicates: int = 0
    skipped: int = 0  # already on the server (resumed run): nothing sent
    refused: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    ignored: int = 0  # files in folders that are not images
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        done = self.created + self.duplicates + len(self.refused)
        return done / self.seconds if self.seconds > 0 else 0.0


async def server_inventory(api: ReactbinClient) -> tuple[set[str], set[str]]:
    """The ids and sha256 sums already on the server."""
    ids: set[str] = set()
    sums: set[str] = set()
    async for image in api.images():
        ids.add(str(image["id"]))
        sums.add(str(image["sha256"]))
    return ids, sums


async def _upload(api: ReactbinClient, item: Item, data: bytes) -> Outcome:
    outcome = await api.upload(
        data,
        item.filename,
        title=item.title,
        description=item.description,
        tags=list(item.tags),
    )
    if outcome.kind == "created" and item.ocr_text and outcome.image_id:
        # The upload form has no field for recognised text; a PATCH restores it,
        # and marks it as the owner's, so the background job never overwrites it.
        try:
            await api.update(outcome.image_id, {"ocr_text": item.ocr_text})
        except TransferError as exc:
            return Outcome("refused", outcome.status, outcome.image_id, reason=str(exc))
    return outcome


async def import_items(
    api: ReactbinClient,
    items: list[Item],
    *,
    jobs: int = 4,
    journal: Journal | None = None,
    report: Report | None = None,
    inventory: tuple[set[str], set[str]] | None = None,
) -> Summary:
    """Upload `items` with `jobs` at once; refusals are counted, not raised.

    `inventory` is `server_inventory(api)` when the caller already asked for it.
    """
    journal = journal or Journal(None)
    summary = Summary(total=len(items))
    started = time.monotonic()
    ids, sums = inventory if inventory is not None else await server_inventory(api)
    skip = already_in(journal, ids, sums)
    pending: Iterator[Item] = iter(items)

    def done(kind: str) -> None:
        if report is not None:
            report(kind)

    async def worker() -> None:
        for item in pending:  # a shared iterator: each item goes to one worker
            try:
                data, sha = await item.load()
            except (OSError, TransferError) as exc:
                summary.failed.append(Problem(item.label, str(exc)))
                done("failed")
                continue
            if sha in skip:
                summary.skipped += 1
                done("skipped")
                continue
            outcome = await _upload(api, item, data)
            if outcome.status == 401:
                # Not this file's fault: every other upload would be refused the same way.
                raise TransferError(
                    "the server stopped accepting the token (expired or revoked); "
                    "run again with --username/--password: what is in will be skipped"
                )
            if outcome.kind in ("created", "duplicate") and outcome.image_id:
                await anyio.to_thread.run_sync(journal.record, sha, outcome.image_id)
                skip.add(sha)  # the same bytes twice in one run: sent once
            if outcome.kind == "created":
                summary.created += 1
            elif outcome.kind == "duplicate":
                summary.duplicates += 1
            elif outcome.kind == "refused":
                summary.refused.append(Problem(item.label, outcome.reason or "", outcome.status))
            else:
                summary.failed.append(Problem(item.label, outcome.reason or "", outcome.status))
            done(outcome.kind)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, jobs))))
    finally:
        summary.seconds = time.monotonic() - started
    return summary
