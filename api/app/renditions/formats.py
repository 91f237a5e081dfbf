"""The rendition formats (Tenor v2's names), their file types, keys and URLs.

Shared by the worker that makes renditions, the file route that serves them
and the Tenor-compatible API that lists them, so all three agree on names.
"""

from __future__ import annotations

from datetime import datetime

from app.images.keys import image_prefix

# Tenor v2's format names, in the order its documentation lists them.
FORMATS: tuple[str, ...] = (
    "preview",
    "gif",
    "mediumgif",
    "tinygif",
    "nanogif",
    "webp",
    "mp4",
    "tinymp4",
    "nanomp4",
    "webm",
    "tinywebm",
)
# What a still image gets: no video, the GIF and WebP renditions are one frame.
STILL_FORMATS: tuple[str, ...] = ("preview", "gif", "mediumgif", "tinygif", "nanogif", "webp")

EXTENSIONS: dict[str, str] = {
    "image/gif": "gif",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/webm": "webm",
}
MIME_TYPES: dict[str, str] = {ext: mime for mime, ext in EXTENSIONS.items()}


def rendition_key(image_id: str, fmt: str, mime_type: str) -> str:
    """Under the image's prefix, so deleting the image deletes its renditions."""
    return f"{image_prefix(image_id)}renditions/{fmt}.{EXTENSIONS[mime_type]}"


def rendition_path(image_id: str, fmt: str, mime_type: str) -> str:
    """The public path of a rendition (served like `/f/{id}.{ext}`)."""
    return f"/f/{image_id}/{fmt}.{EXTENSIONS[mime_type]}"


def rendition_version(made: datetime) -> str:
    """Which build of a rendition: its row's time. The `?v=` of its URL in answers, so a
    rebuild (`reactbin renditions --all`) is a new URL that no cache holds yet."""
    return f"{int(made.timestamp() * 1_000_000):x}"
