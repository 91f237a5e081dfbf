"""Tenor v2 query parameters, parsed by hand so that every refusal is a Google-shaped 400.

GIF pickers send strings they built themselves (`limit=20`, `pos=40`,
`media_filter=tinygif,mp4`) and many more parameters than they need (`key`,
`client_key`, `country`, `locale`): anything unknown is accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.errors import BadRequest
from app.renditions.formats import FORMATS

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_IDS = 50
MAX_QUERY_LENGTH = 500
# An offset is served as one longer page of the search: bounded so it stays cheap.
MAX_OFFSET = 1_000
# Aspect ratio (width / height) bounds of Tenor's `ar_range`, as fractions of
# 100 so the SQL compares integers: `wide` 0.42-2.36, `standard` 0.56-1.78.
AR_RANGES: dict[str, tuple[int, int]] = {"wide": (42, 236), "standard": (56, 178)}
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def parse_limit(value: str | None) -> int:
    """Default 20; integers outside 1-50 are clamped (as Tenor did); anything else is a 400."""
    if value is None or not value.strip():
        return DEFAULT_LIMIT
    try:
        number = int(value.strip())
    except ValueError:
        raise BadRequest("limit must be an integer between 1 and 50.") from None
    return max(1, min(MAX_LIMIT, number))


@dataclass(frozen=True)
class Position:
    """Where a page starts: the first page, an offset, a signed cursor, or past the end."""

    offset: int | None = None
    cursor: str | None = None
    at_end: bool = False

    @property
    def is_offset(self) -> bool:
        return self.offset is not None


def parse_pos(value: str | None) -> Position:
    """`pos` is the `next` of a previous page (opaque) or, as some clients send, an offset.

    A `pos` that is present but empty is the `""` of a last page, sent back:
    Zulip and Bluesky ask for "the page after" it when the user scrolls on, and
    answering with the first page again would repeat the whole list. An absent
    `pos`, or `0`, is the first page.
    """
    if value is None:
        return Position()
    text = value.strip()
    if not text:
        return Position(at_end=True)
    if text.isascii() and text.isdigit():  # "³".isdigit() is True, int("³") fails
        offset = int(text)
        if offset > MAX_OFFSET:
            raise BadRequest(f"pos as an offset must be at most {MAX_OFFSET}.")
        return Position(offset=offset)
    return Position(cursor=text)


def parse_media_filter(value: str | None) -> frozenset[str] | None:
    """The requested format names (unknown ones dropped); None means every format.

    A filter naming only unknown formats gives results without formats rather
    than an error: a client asking for Tenor's `loopedmp4` alone should still see a list.
    """
    if value is None or not value.strip():
        return None
    names = {part.strip().lower() for part in value.split(",")}
    return frozenset(names & set(FORMATS))


def parse_ar_range(value: str | None) -> tuple[int, int] | None:
    if value is None or not value.strip() or value.strip().lower() == "all":
        return None
    bounds = AR_RANGES.get(value.strip().lower())
    if bounds is None:
        raise BadRequest("ar_range must be one of all, wide, standard.")
    return bounds


def parse_bool(value: str | None, name: str) -> bool:
    if value is None:
        return False
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadRequest(f"{name} must be true or false.")


Motion = Literal["any", "animated", "sticker"]


def parse_searchfilter(value: str | None) -> Motion:
    """`sticker` asks for transparent stickers, which a reaction library has none of;
    `-static` asks for animated results only. Other values are ignored."""
    names = {part.strip().lower() for part in (value or "").split(",")}
    if "sticker" in names:
        return "sticker"
    if "-static" in names:
        return "animated"
    return "any"


def parse_query(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequest(f"q must be at most {MAX_QUERY_LENGTH} characters.")
    if "\x00" in text:
        raise BadRequest("q contains characters that cannot be searched.")
    return text


def parse_ids(value: str | None) -> list[str]:
    """Up to 50 ids, comma-separated; order kept, repeats dropped."""
    ids = [part.strip() for part in (value or "").split(",") if part.strip()]
    if not ids:
        raise BadRequest("ids is required: a comma-separated list of up to 50 ids.")
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_IDS:
        raise BadRequest(f"ids may list at most {MAX_IDS} ids.")
    return unique
