"""An image row is defined once (app/images/rows.py); the ORM model, the API schema
and the rendition rows must agree with it, so the columns cannot drift apart."""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from app.images.models import Image
from app.images.preparation import PreparedImage
from app.images.rows import RECORD_COLUMN_NAMES, ImageRecord, NewImage, new_image
from app.images.schemas import ImageRead
from app.imaging.probe import ProbeResult
from app.renditions.encoded import EncodedRendition
from app.renditions.job import ENCODED_COLUMNS
from app.renditions.models import Rendition


def _python_type(annotation: object) -> tuple[type, bool]:
    """(the type, whether None is allowed) of `int | None`, `str`, ..."""
    if isinstance(annotation, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return args[0], True
    assert isinstance(annotation, type)
    return annotation, False


def test_every_record_column_is_a_column_of_the_images_table_with_its_type() -> None:
    hints = typing.get_type_hints(ImageRecord)
    for name in RECORD_COLUMN_NAMES:
        column = Image.__table__.c[name]
        expected, nullable = _python_type(hints[name])
        assert column.type.python_type is expected, name
        assert column.nullable is nullable, name


def test_a_record_is_a_new_image_and_what_the_database_adds() -> None:
    added = [field.name for field in fields(ImageRecord)][len(fields(NewImage)) :]
    assert added == ["ocr_text", "created_at", "updated_at", "tag_names"]


def test_the_record_of_an_insert_keeps_every_column() -> None:
    row = NewImage(
        *(f"v{n}" if field.type == "str" else n for n, field in enumerate(fields(NewImage)))
    )
    now = datetime.now(UTC)
    record = ImageRecord.inserted(row, ("dog", "happy"), now, now)
    for field in fields(NewImage):
        assert getattr(record, field.name) == getattr(row, field.name)
    assert (record.ocr_text, record.created_at, record.tag_names) == (None, now, ["dog", "happy"])


def test_the_api_shows_record_columns_and_only_three_derived_fields() -> None:
    derived = set(ImageRead.model_fields) - set(RECORD_COLUMN_NAMES)
    assert derived == {"tags", "url", "thumbnail_url"}


def test_a_rendition_row_takes_the_encoder_output_by_name() -> None:
    encoded = {field.name for field in fields(EncodedRendition)}
    columns = set(Rendition.__table__.c.keys())
    assert set(ENCODED_COLUMNS) == encoded & columns


def test_the_row_of_prepared_bytes_takes_their_facts_and_keys_under_the_id() -> None:
    probe = ProbeResult("image/gif", "gif", 40, 30, 3, 240)
    prepared = PreparedImage(Path("unused.gif"), probe, "ab" * 32, 1234, b"thumb", phash=-7)
    row = new_image("AbCdEfGhIj", "a title", "a description", prepared)
    assert row == NewImage(
        id="AbCdEfGhIj",
        title="a title",
        description="a description",
        mime_type="image/gif",
        extension="gif",
        width=40,
        height=30,
        frame_count=3,
        duration_ms=240,
        size_bytes=1234,
        sha256="ab" * 32,
        original_key="images/AbCdEfGhIj/original.gif",
        thumbnail_key="images/AbCdEfGhIj/thumbnail.webp",
        thumbnail_bytes=5,
        phash=-7,
    )


def test_a_given_perceptual_hash_wins_over_the_prepared_one() -> None:
    """A restore keeps the exported hash, 0 included (a hash, not a missing one)."""
    probe = ProbeResult("image/png", "png", 1, 1, 1, 0)
    prepared = PreparedImage(Path("unused.png"), probe, "cd" * 32, 1, b"", phash=-7)
    assert new_image("AbCdEfGhIj", "t", "", prepared, 0).phash == 0
    assert new_image("AbCdEfGhIj", "t", "", prepared, None).phash == -7
