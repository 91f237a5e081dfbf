"""The read routes write their JSON from the rows (app/images/encode.py): the
bytes must be exactly those FastAPI wrote through the response models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter

from app.images.encode import image_body, page_body
from app.images.rows import ImageRecord
from app.images.schemas import ImagePage, ImageRead
from app.images.service import to_read

BASE = "https://gifs.example.org"


def record(**changes: object) -> ImageRecord:
    fields: dict[str, object] = {
        "id": "aB3dE5gH9k",
        "title": "Happy dance",
        "description": "",
        "ocr_text": None,
        "mime_type": "image/gif",
        "extension": "gif",
        "width": 480,
        "height": 270,
        "frame_count": 13,
        "duration_ms": 1300,
        "size_bytes": 1_048_576,
        "sha256": "0" * 64,
        "phash": -123456789,
        "original_key": "images/aB3dE5gH9k/original.gif",
        "thumbnail_key": "images/aB3dE5gH9k/thumbnail.webp",
        "thumbnail_bytes": 9000,
        "created_at": datetime(2024, 7, 8, 8, 20, 51, 234414, tzinfo=UTC),
        "updated_at": datetime(2024, 7, 8, 8, 20, 51, tzinfo=UTC),
        "tag_names": ["happy dance", "yes"],
    }
    fields.update(changes)
    return ImageRecord(**fields)  # type: ignore[arg-type]


def as_read(image: ImageRecord) -> ImageRead:
    return to_read(image, BASE)


# What the records may hold: accents, emoji, quotes, backslashes, the white
# space descriptions keep, control characters the database could hold (psql),
# times without microseconds and at an offset, empty and many tags. FastAPI
# writes a `response_model` with pydantic's TypeAdapter.dump_json.
CASES = [
    record(),
    record(title='Caf\u00e9 "quoted" \\ back\u2028slash \U0001f600', tag_names=[]),
    record(description="line one\nline two\ttab\r\n", ocr_text="OCR\x01\x1f\x7f text"),
    record(created_at=datetime(2000, 1, 1, tzinfo=UTC), ocr_text=""),
    record(updated_at=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(0)))),
    record(tag_names=[f"tag {n}" for n in range(20)], size_bytes=2**40, duration_ms=0),
]


@pytest.mark.parametrize("image", CASES)
def test_an_image_is_the_bytes_of_its_model(image: ImageRecord) -> None:
    assert image_body(image, BASE) == TypeAdapter(ImageRead).dump_json(as_read(image))


@pytest.mark.parametrize("cursor", [None, "c2lnbmVkLWN1cnNvcg"])
def test_a_page_is_the_bytes_of_its_model(cursor: str | None) -> None:
    page = ImagePage(items=[as_read(image) for image in CASES], next_cursor=cursor)
    assert page_body(CASES, cursor, BASE) == TypeAdapter(ImagePage).dump_json(page)


def test_an_empty_page() -> None:
    assert page_body([], None, BASE) == b'{"items":[],"next_cursor":null}'
