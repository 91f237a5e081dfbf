"""An image row is defined once (app/images/rows.py); the ORM model, the API schema
and the rendition rows must agree with it, so the columns cannot drift apart."""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from datetime import UTC, datetime

from app.images.models import Image
from app.images.rows import RECORD_COLUMN_NAMES, ImageRecord, NewImage
from app.images.schemas import ImageRead
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
