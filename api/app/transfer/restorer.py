"""`reactbin restore DIR`: an export back into a server with the same ids, so old links work.

Every image goes through the owner-only `POST /api/v1/backup/images`, which keeps
its id, created time, metadata, share count and perceptual hash, and refuses
(storing nothing) a malformed id, a time in the future or bytes that differ from
the manifest. Running it twice changes nothing, and after a kill it carries on:
before sending, it asks the server which ids it holds (with their sha256) and
sends only the others. An id the server holds with other bytes is a conflict,
reported by name and never overwritten.

Example::

    async with ReactbinClient(server, creds) as api:
        await api.authenticate()
        summary = await restore_library(api, Path("backup"), read_export(Path("backup")))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from app.transfer.client import ReactbinClient, TransferError
from app.transfer.importer import Problem
from app.transfer.sources import read_manifest

# Manifest versions this release reads: 1 (ids, text fields, created_at) and 2 (also
# updated_at, share_count, phash...). Later releases keep reading both.
READABLE_VERSIONS = (1, 2)
_SENT_FIELDS = ("id", "title", "description", "ocr_text", "sha256", "created_at", "updated_at")
_NUMBER_FIELDS = ("share_count", "phash")


@dataclass
class RestoreSummary:
    total: int = 0
    restored: int = 0
    unchanged: int = 0  # already on the server with the same bytes
    conflicts: list[Problem] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    seconds: float = 0.0


def read_export(folder: Path) -> list[dict[str, Any]]:
    """The manifest's entries, oldest first; TransferError when it is not an export."""
    manifest = read_manifest(folder)
    if manifest is None:
        raise TransferError(f"{folder} has no reactbin manifest.json (made by `reactbin export`)")
    version = manifest.get("version")
    if version not in READABLE_VERSIONS:
        raise TransferError(f"manifest version {version!r} is newer than this reactbin reads")
    entries = [e for e in manifest.get("images", []) if isinstance(e, dict)]
    return sorted(entries, key=lambda entry: str(entry.get("created_at", "")))


def label(entry: dict[str, Any]) -> str:
    return f"{entry.get('id')} ({entry.get('title')!s:.60})"


def form_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as the restore form's fields (absent or null ones left out)."""
    fields: dict[str, Any] = {
        name: str(entry[name]) for name in _SENT_FIELDS if entry.get(name) is not None
    }
    fields.update({n: str(int(entry[n])) for n in _NUMBER_FIELDS if entry.get(n) is not None})
    tags = [str(tag) for tag in entry.get("tags") or []]
    if tags:
        fields["tags"] = tags
    return fields


def _load(folder: Path, entry: dict[str, Any]) -> tuple[str, bytes]:
    path = (folder / str(entry.get("file", ""))).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise OSError(f"{entry.get('file')!s}: not a file of this export")
    return path.name, path.read_bytes()


async def restore_library(
    api: ReactbinClient,
    folder: Path,
    entries: list[dict[str, Any]],
    *,
    jobs: int = 4,
    report: Callable[[str], None] | None = None,
) -> RestoreSummary:
    summary = RestoreSummary(total=len(entries))
    started = time.monotonic()
    held = {str(image["id"]): str(image["sha256"]) async for image in api.backup_images()}
    pending: Iterator[dict[str, Any]] = iter(entries)

    def done(kind: str) -> None:
        if report is not None:
            report(kind)

    async def worker() -> None:
        for entry in pending:  # shared: each entry goes to one worker
            kind = await _restore_one(api, folder, entry, held, summary)
            done(kind)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, jobs))))
    finally:
        summary.seconds = time.monotonic() - started
    return summary


async def _restore_one(
    api: ReactbinClient,
    folder: Path,
    entry: dict[str, Any],
    held: dict[str, str],
    summary: RestoreSummary,
) -> str:
    image_id = str(entry.get("id"))
    if image_id in held:
        if held[image_id] == entry.get("sha256"):
            summary.unchanged += 1
            return "unchanged"
        reason = "the server holds this id with other bytes; not overwritten"
        summary.conflicts.append(Problem(label(entry), reason, 409))
        return "conflict"
    try:
        filename, data = await anyio.to_thread.run_sync(_load, folder, entry)
    except OSError as exc:
        summary.failed.append(Problem(label(entry), str(exc)))
        return "failed"
    outcome = await api.restore(form_fields(entry), filename, data)
    if outcome.status == 401:
        raise TransferError(
            "the server stopped accepting the token (expired or revoked); "
            "run again with --username/--password: what is in will be skipped"
        )
    if outcome.kind == "created":
        summary.restored += 1
    elif outcome.kind == "duplicate":
        summary.unchanged += 1
    elif outcome.status == 409:
        summary.conflicts.append(Problem(label(entry), outcome.reason or "", 409))
    elif outcome.kind == "refused":
        summary.refused.append(Problem(label(entry), outcome.reason or "", outcome.status))
    else:
        summary.failed.append(Problem(label(entry), outcome.reason or "", outcome.status))
    return outcome.kind
