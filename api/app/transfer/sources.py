"""What an import reads: files and folders on disk, or a reactbin export (manifest.json).

Each thing to upload becomes an `Item`: how to load its bytes plus the metadata to
send. Titles come from file names, tags from the sub-folders under the folder given.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "reactbin-export"
MAX_TITLE = 200
# In a folder, only these are sent; a file named explicitly is always sent (the
# server decides from the bytes and reports a refusal).
IMAGE_SUFFIXES = frozenset({".gif", ".png", ".apng", ".jpg", ".jpeg", ".jfif", ".webp"})
_SEPARATORS = re.compile(r"[\s_\-]+")

Loader = Callable[[], Awaitable[tuple[bytes, str]]]


@dataclass(frozen=True)
class Item:
    label: str  # what the report shows: a path or a URL
    filename: str  # the file name sent to the server
    load: Loader = field(repr=False)  # -> (bytes, sha256 of them)
    title: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    ocr_text: str | None = None


@dataclass
class Collected:
    items: list[Item]
    ignored: list[Path]  # files in folders that are not images (by extension)


def title_from_name(name: str) -> str | None:
    """'this_is-fine.gif' -> 'this is fine' (None when nothing is left)."""
    title = _SEPARATORS.sub(" ", Path(name).stem).strip()
    return title[:MAX_TITLE].rstrip() or None


def merge_tags(*groups: Iterable[str]) -> tuple[str, ...]:
    """In order, without repeats (compared as the server will: trimmed, lower-case)."""
    seen: dict[str, str] = {}
    for group in groups:
        for tag in group:
            key = " ".join(tag.split()).lower()
            if key and key not in seen:
                seen[key] = tag.strip()
    return tuple(seen.values())


def _read_and_hash(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def file_loader(path: Path) -> Loader:
    async def load() -> tuple[bytes, str]:
        # hashlib releases the GIL on large buffers: reading and hashing in a worker
        # thread lets several uploads prepare at once.
        return await anyio.to_thread.run_sync(_read_and_hash, path)

    return load


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _file_item(path: Path, folder_tags: Iterable[str], extra_tags: Iterable[str]) -> Item:
    return Item(
        label=str(path),
        filename=path.name,
        load=file_loader(path),
        title=title_from_name(path.name),
        tags=merge_tags(folder_tags, extra_tags),
    )


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a reactbin export in `folder`, else None."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return None
    return manifest


def _manifest_items(folder: Path, manifest: dict[str, Any], extra: Iterable[str]) -> list[Item]:
    entries = sorted(manifest.get("images", []), key=lambda e: str(e.get("created_at", "")))
    items = []
    # Oldest first, so that the restored library lists newest first as before.
    for entry in entries:
        path = (folder / str(entry["file"])).resolve()
        if not path.is_relative_to(folder.resolve()):
            continue  # a manifest entry that points outside the export is ignored
        items.append(
            Item(
                label=str(path),
                filename=path.name,
                load=file_loader(path),
                title=entry.get("title") or title_from_name(path.name),
                description=entry.get("description") or None,
                tags=merge_tags(entry.get("tags") or [], extra),
                ocr_text=entry.get("ocr_text") or None,
            )
        )
    return items


def collect(paths: Iterable[Path], extra_tags: Iterable[str] = ()) -> Collected:
    """Every item under `paths`, in a stable order. Raises FileNotFoundError."""
    extra = tuple(extra_tags)
    items: list[Item] = []
    ignored: list[Path] = []
    for given in paths:
        if given.is_file():
            items.append(_file_item(given, (), extra))
            continue
        if not given.is_dir():
            raise FileNotFoundError(f"{given}: no such file or folder")
        manifest = read_manifest(given)
        if manifest is not None:
            items.extend(_manifest_items(given, manifest, extra))
            continue
        for path in sorted(given.rglob("*")):
            relative = path.relative_to(given)
            if _hidden(relative) or not path.is_file():
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                ignored.append(path)
                continue
            items.append(_file_item(path, relative.parent.parts, extra))
    return Collected(items, ignored)
