"""`media_formats` of a result: the image's renditions, with the original standing in.

Renditions are made by the background worker some seconds after an upload
(or never, when the job failed). Until then the original file and the WebP
thumbnail stand in, so that every picker still works: Zulip's response schema
requires `tinygif.url` and `mediumgif.url`, Discourse reads `gif.dims`, and
Bluesky clients read `gif`, `tinygif` and `preview`. A stand-in is the
original itself (full size, real dimensions and byte size), never a promise of
a file that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from app.imaging.thumbnails import thumbnail_size
from app.renditions.formats import rendition_path, rendition_version
from app.tenor.schemas import MediaFormatData

# Formats the original can stand in for: the animated ones every picker reads.
ORIGINAL_STANDS_IN_FOR = ("gif", "mediumgif", "tinygif", "nanogif")


class Shown(Protocol):
    """What a result needs of an image: the ORM row or the search's lighter record."""

    @property
    def id(self) -> str: ...
    @property
    def mime_type(self) -> str: ...
    @property
    def extension(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def size_bytes(self) -> int: ...


class RenditionFile(NamedTuple):
    mime_type: str
    width: int
    height: int
    duration: float
    size_bytes: int
    made: datetime | None = None  # the build's time: its URL's `?v=`


@dataclass
class StoredMedia:
    """What the database knows of an image's files beyond the image row itself."""

    thumbnail_bytes: int
    renditions: dict[str, RenditionFile] = field(default_factory=dict)


def original_url(image: Shown, base_url: str) -> str:
    return f"{base_url}/f/{image.id}.{image.extension}"


def thumbnail_url(image: Shown, base_url: str) -> str:
    return f"{base_url}/api/v1/images/{image.id}/thumbnail"


def _rendition_url(image_id: str, fmt: str, rendition: RenditionFile, base_url: str) -> str:
    url = base_url + rendition_path(image_id, fmt, rendition.mime_type)
    return url if rendition.made is None else f"{url}?v={rendition_version(rendition.made)}"


def media_formats(
    image: Shown, stored: StoredMedia, base_url: str, wanted: frozenset[str] | None
) -> dict[str, MediaFormatData]:
    """Format name -> file, limited to `wanted` (None: every format there is)."""
    renditions: Mapping[str, RenditionFile] = stored.renditions
    if "preview" in renditions:
        preview_url = _rendition_url(image.id, "preview", renditions["preview"], base_url)
    else:
        preview_url = thumbnail_url(image, base_url)
    formats: dict[str, MediaFormatData] = {}
    for name, rendition in renditions.items():
        formats[name] = {
            "url": _rendition_url(image.id, name, rendition, base_url),
            "dims": [rendition.width, rendition.height],
            "duration": float(rendition.duration),
            "preview": preview_url,
            "size": rendition.size_bytes,
        }
    original: MediaFormatData = {
        "url": original_url(image, base_url),
        "dims": [image.width, image.height],
        "duration": image.duration_ms / 1000,
        "preview": preview_url,
        "size": image.size_bytes,
    }
    stand_ins = list(ORIGINAL_STANDS_IN_FOR)
    if image.mime_type == "image/webp":
        stand_ins.append("webp")
    for name in stand_ins:
        formats.setdefault(name, original)
    if "preview" not in formats:
        formats["preview"] = {
            "url": preview_url,
            "dims": list(thumbnail_size(image.width, image.height)),
            "duration": 0.0,
            "preview": preview_url,
            "size": stored.thumbnail_bytes,
        }
    if wanted is None:
        return formats
    return {name: media for name, media in formats.items() if name in wanted}
