from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_OCR_TEXT = 20_000

_SPACES = re.compile(r"\s+")


class FieldError(ValueError):
    """A user-supplied field is invalid; the message names the field."""


def _reject_control_characters(value: str, field: str) -> str:
    """Tabs and newlines are white space (collapsed in titles and tags); other
    control characters are refused."""
    for char in value:
        if char in "\n\r\t":
            continue
        category = unicodedata.category(char)
        # Cc: control characters (NUL...). Cs: lone surrogates, which cannot be
        # stored as UTF-8. Cf includes the right-to-left override used to disguise text.
        if (
            category in ("Cc", "Cs")
            or char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        ):
            raise FieldError(f"{field} contains a control character.")
    return value


def clean_title(value: str) -> str:
    value = _SPACES.sub(" ", _reject_control_characters(value, "title"))
    value = value.strip()
    if not value:
        raise FieldError("title must not be empty.")
    if len(value) > MAX_TITLE:
        raise FieldError(f"title must be at most {MAX_TITLE} characters.")
    return value


def clean_description(value: str) -> str:
    value = _reject_control_characters(value, "description").strip()
    if len(value) > MAX_DESCRIPTION:
        raise FieldError(f"description must be at most {MAX_DESCRIPTION} characters.")
    return value


def clean_ocr_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = _reject_control_characters(value, "ocr_text").strip()
    if len(value) > MAX_OCR_TEXT:
        raise FieldError(f"ocr_text must be at most {MAX_OCR_TEXT} characters.")
    return value or None


def normalize_tag(value: str) -> str:
    """Trimmed, lower-case, inner white space collapsed: ' Happy  Dance ' -> 'happy dance'."""
    tag = _SPACES.sub(" ", _reject_control_characters(value, "tag"))
    tag = tag.strip().lower()
    if not tag:
        raise FieldError("tags must not be empty.")
    if len(tag) > MAX_TAG_LENGTH:
        raise FieldError(f"each tag must be at most {MAX_TAG_LENGTH} characters.")
    return tag


def clean_tags(values: list[str]) -> list[str]:
    """Normalised, duplicates dropped, order kept."""
    tags = list(dict.fromkeys(normalize_tag(v) for v in values))
    if len(tags) > MAX_TAGS:
        raise FieldError(f"an image can have at most {MAX_TAGS} tags.")
    return tags


def split_tag_fields(fields: list[str]) -> list[str]:
    """`tags` may be one comma-separated string, the field repeated, or both.

    A single blank field means "no tags" (an empty form input); otherwise every
    piece must be a tag, so `"dog,,cat"` is refused rather than silently mended.
    """
    if len(fields) == 1 and not fields[0].strip():
        return []
    return [part for field in fields for part in field.split(",")]


# What the cleaners above accept, as JSON Schema for /openapi.json (a generated
# client, or Schemathesis, then sends only what the server takes): no control
# character but tab, newline and carriage return, nor a bidirectional override;
# titles and tags need one character that is not white space.
_CONTROL = (
    "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
)
_NO_CONTROL = f"^[^{_CONTROL}]*$"
_NOT_BLANK = f"^[^{_CONTROL}]*[^{_CONTROL}\\s][^{_CONTROL}]*$"
TAG_SCHEMA = {"type": "string", "maxLength": MAX_TAG_LENGTH, "pattern": _NOT_BLANK}
TITLE_SCHEMA = {"type": "string", "maxLength": MAX_TITLE, "pattern": _NOT_BLANK}
DESCRIPTION_SCHEMA = {"type": "string", "maxLength": MAX_DESCRIPTION, "pattern": _NO_CONTROL}
NO_CONTROL_SCHEMA = {"type": "string", "pattern": _NO_CONTROL}
_OCR_SCHEMA = {"type": "string", "maxLength": MAX_OCR_TEXT, "pattern": _NO_CONTROL}
TAGS_SCHEMA = {"type": "array", "maxItems": MAX_TAGS, "items": TAG_SCHEMA}

Title = Annotated[str, AfterValidator(clean_title), WithJsonSchema(TITLE_SCHEMA)]
Description = Annotated[str, AfterValidator(clean_description), WithJsonSchema(DESCRIPTION_SCHEMA)]
Tags = Annotated[list[str], AfterValidator(clean_tags), WithJsonSchema(TAGS_SCHEMA)]
OcrText = Annotated[
    str | None,
    AfterValidator(clean_ocr_text),
    WithJsonSchema({"anyOf": [_OCR_SCHEMA, {"type": "null"}]}),
]


class ImageUpdate(BaseModel):
    """PATCH body: any of these; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    tags: Tags | None = None
    ocr_text: OcrText = None


class ImageRead(BaseModel):
    id: str
    title: str
    description: str
    tags: list[str]
    ocr_text: str | None
    mime_type: str
    width: int
    height: int
    frame_count: int
    duration_ms: int
    size_bytes: int
    sha256: str
    url: str
    thumbnail_url: str
    created_at: datetime
    updated_at: datetime


class NearDuplicate(BaseModel):
    id: str
    distance: int = Field(
        description="Differing bits of the 64-bit perceptual hash (0: looks identical)."
    )


class ImageCreated(ImageRead):
    near_duplicates: list[NearDuplicate] = Field(
        default_factory=list,
        description="Images already in the library that look the same (re-encoded, resized...).",
    )


class ImageRestored(ImageCreated):
    """The answer (200) to an upload of bytes that were in the trash."""

    restored_from_trash: bool = Field(
        default=True,
        description="These bytes were in the trash: that image came back with its id, "
        "links and metadata instead of a new one being made.",
    )


class SimilarPage(BaseModel):
    items: list[ImageRead]


class ImagePage(BaseModel):
    items: list[ImageRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class DuplicateDetail(BaseModel):
    detail: str
    id: str
