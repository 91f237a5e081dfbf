"""An image row as the code handles it, its columns defined once.

`NewImage` is what an upload (or a restore) writes, built by `new_image`;
`ImageRecord` what a read returns: the same columns, those the database fills and
the tags. Reads build records from plain
rows (no ORM object per image and tag, which was most of a list page's CPU time),
and an upload returns the record of what it inserted rather than reading it back.
The ORM model (`models.py`) declares the same columns for the schema (types,
indexes, migrations); tests/unit/test_image_rows.py checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING

from app.images import keys

if TYPE_CHECKING:
    from app.images.preparation import PreparedImage


@dataclass(frozen=True, slots=True)
class NewImage:
    """The columns an upload fills; the database fills the rest (times, counters)."""

    id: str
    title: str
    description: str
    mime_type: str
    extension: str
    width: int
    height: int
    frame_count: int
    duration_ms: int
    size_bytes: int
    sha256: str
    original_key: str
    thumbnail_key: str
    thumbnail_bytes: int
    phash: int | None


@dataclass(frozen=True, slots=True)
class ImageRecord(NewImage):
    """An image as pages show it: an upload's columns, the database's, and the tags."""

    ocr_text: str | None
    created_at: datetime
    updated_at: datetime
    tag_names: list[str]

    @classmethod
    def inserted(
        cls, row: NewImage, tags: Sequence[str], created_at: datetime, updated_at: datetime
    ) -> ImageRecord:
        """The record of a row just inserted, built from it instead of read back."""
        values = {name: getattr(row, name) for name in NEW_IMAGE_COLUMNS}
        return cls(
            **values,
            ocr_text=None,
            created_at=created_at,
            updated_at=updated_at,
            tag_names=list(tags),
        )


def new_image(
    image_id: str,
    title: str,
    description: str,
    prepared: PreparedImage,
    phash: int | None = None,
) -> NewImage:
    """The row of prepared bytes stored under `image_id` (at its object keys), for an
    upload and a restore; the prepared perceptual hash unless one is given (a restore
    keeps the exported one)."""
    probe = prepared.probe
    return NewImage(
        id=image_id,
        title=title,
        description=description,
        mime_type=probe.mime_type,
        extension=probe.extension,
        width=probe.width,
        height=probe.height,
        frame_count=probe.frame_count,
        duration_ms=probe.duration_ms,
        size_bytes=prepared.size,
        sha256=prepared.sha256,
        original_key=keys.original_key(image_id, probe.extension),
        thumbnail_key=keys.thumbnail_key(image_id),
        thumbnail_bytes=len(prepared.thumbnail),
        phash=prepared.phash if phash is None else phash,
    )


NEW_IMAGE_COLUMNS = [field.name for field in fields(NewImage)]
# What a record reads from `images`, in the order of its fields (the tag names come
# from `image_tags`, last).
RECORD_COLUMN_NAMES = [field.name for field in fields(ImageRecord)][:-1]
