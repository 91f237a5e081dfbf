"""`reactbin export DIR`: every original plus `manifest.json`, over the HTTP API.

Layout of an export::

    DIR/manifest.json            {"format": "reactbin-export", "version": 1, "images": [...]}
    DIR/images/<id>.<ext>        the original bytes, exactly as served by /f/<id>.<ext>

Each manifest entry: id, title, description, tags, ocr_text, sha256, mime_type,
size_bytes, width, height, created_at, updated_at and file (the path relative to
DIR); with the owner's credentials also share_count and phash (version 2, read
from the owner-only `/api/v1/backup/images`). `reactbin restore DIR` brings it
all back with the same ids; every later release reads versions 1 and 2 (see
docs/deploy.md). An export can be resumed: a file already there with the right
sha256 is not downloaded again. Every download is checked against the sha256
the server reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import anyio

from app.transfer.client import Gone, ReactbinClient, TransferError
from app.transfer.importer import Problem
from app.transfer.sources import MANIFEST_FORMAT, MANIFEST_NAME

MANIFEST_VERSION = 2
FILES_DIR = "images"
MANIFEST_FIELDS = ("id", "title", "description", "tags", "ocr_text", "sha256", "mime_type")
# Present when the server said (the owner's listing has them all).
OPTIONAL_FIELDS = ("size_bytes", "width", "height", "updated_at", "share_count", "phash")


@dataclass
class ExportSummary:
    total: int = 0
    downloaded: int = 0
    reused: int = 0  # already in DIR with the right sha256
    gone: int = 0  # deleted on the server during the export
    bytes: int = 0
    failed: list[Problem] = field(default_factory=list)
    seconds: float = 0.0


def file_name(image: dict[str, Any]) -> str:
    """`<id>.<ext>`, the extension of the direct link (ids are URL-safe: no path tricks)."""
    suffix = PurePosixPath(urlsplit(str(image.get("url", ""))).path).suffix
    return f"{image['id']}{suffix or '.bin'}"


def _sha256_of(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def manifest_entry(image: dict[str, Any]) -> dict[str, Any]:
    entry = {name: image.get(name) for name in MANIFEST_FIELDS}
    entry["created_at"] = image.get("created_at")
    entry.update({name: image[name] for name in OPTIONAL_FIELDS if name in image})
    entry["file"] = f"{FILES_DIR}/{file_name(image)}"
    return entry


def _write_manifest(folder: Path, server: str, entries: list[dict[str, Any]]) -> None:
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "server": server,
        "count": len(entries),
        "images": entries,
    }
    partial = folder / (MANIFEST_NAME + ".part")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.replace(partial, folder / MANIFEST_NAME)  # a reader never sees half a manifest


async def list_images(api: ReactbinClient) -> list[dict[str, Any]]:
    """Logged in as the owner: every field a restore needs; else the public ones."""
    if api.authenticated:
        return [image async for image in api.backup_images()]
    return [image async for image in api.images()]


async def export_library(
    api: ReactbinClient,
    folder: Path,
    images: list[dict[str, Any]],
    *,
    jobs: int = 4,
    report: Callable[[str], None] | None = None,
) -> ExportSummary:
    """Download every image of `images` into `folder` and write the manifest last."""
    files = folder / FILES_DIR
    await anyio.to_thread.run_sync(lambda: files.mkdir(parents=True, exist_ok=True))
    summary = ExportSummary(total=len(images))
    started = time.monotonic()
    exported: dict[str, dict[str, Any]] = {}
    pending: Iterator[dict[str, Any]] = iter(images)

    async def worker() -> None:
        for image in pending:
            dest = files / file_name(image)
            kind = "downloaded"
            if await anyio.to_thread.run_sync(_sha256_of, dest) == image["sha256"]:
                summary.reused += 1
                kind = "reused"
            else:
                try:
                    digest = await api.download(image, dest)
                except Gone:
                    summary.gone += 1
                    _report(report, "gone")
                    continue
                except TransferError as exc:
                    summary.failed.append(Problem(str(image["id"]), str(exc)))
                    _report(report, "failed")
                    continue
                if digest != image["sha256"]:
                    summary.failed.append(
                        Problem(str(image["id"]), "the download does not match its sha256")
                    )
                    _report(report, "failed")
                    continue
                summary.downloaded += 1
                summary.bytes += int(image.get("size_bytes") or 0)
            exported[str(image["id"])] = manifest_entry(image)
            _report(report, kind)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, jobs))))
    finally:
        summary.seconds = time.monotonic() - started
    # In the server's order (newest first); only what is really in the folder.
    entries = [exported[str(i["id"])] for i in images if str(i["id"]) in exported]
    await anyio.to_thread.run_sync(_write_manifest, folder, api.server, entries)
    return summary


def _report(report: Callable[[str], None] | None, kind: str) -> None:
    if report is not None:
        report(kind)
