"""The autocomplete prefix of tag lists (`/api/v1/tags`, the `/tags` page)."""

from __future__ import annotations

from app.errors import Unprocessable


def clean_tag_prefix(value: str | None) -> str | None:
    """Normalised like a tag (white space collapsed, lower case); None when blank.

    A NUL, or a lone surrogate, is refused with 422: PostgreSQL text cannot hold
    them, and a prefix carrying one was a 500 (issue 15)."""
    if value is not None and (
        "\x00" in value or any(0xD800 <= ord(char) <= 0xDFFF for char in value)
    ):
        raise Unprocessable("prefix contains characters no tag can have.")
    return " ".join(value.split()).lower() if value else None
