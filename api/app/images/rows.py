"""An image row as the code handles it, its columns defined once.

`NewImage` is what an upload writes; `ImageRecord` what a read returns: the same
columns, those the database fills and the tags. Reads build records from plain
rows (no ORM object per image and tag, which was most of a list page's CPU time),
and an upload returns the record of what it inserted rather than reading it back.
The ORM model (`models.py`) declares the same columns for the schema (types,
indexes, migrations); tests/unit/test_image_rows.py checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime


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


NEW_IMAGE_COLUMNS = [field.name for field in fields(NewImage)]
# What a record reads from `images`, in the order of its fields (the tag names come
# from `image_tags`, last).
RECORD_COLUMN_NAMES = [field.name for field in fields(ImageRecord)][:-1]
