"""Object keys: server-generated from the image id, never from a user-supplied name.

Every object of an image lives under `images/<id>/`, so deleting an image is
deleting one prefix, and `reactbin check` can tell whose an object is.
"""

from __future__ import annotations

PREFIX = "images/"


def image_prefix(image_id: str) -> str:
    return f"{PREFIX}{image_id}/"


def original_key(image_id: str, extension: str) -> str:
    return f"{image_prefix(image_id)}original.{extension}"


def thumbnail_key(image_id: str) -> str:
    return f"{image_prefix(image_id)}thumbnail.webp"


def image_id_of(key: str) -> str | None:
    """The image an object belongs to, or None for a key outside the layout."""
    if not key.startswith(PREFIX):
        return None
    image_id, sep, _rest = key[len(PREFIX) :].partition("/")
    return image_id if sep and image_id else None
