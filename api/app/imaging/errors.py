"""What can be wrong with an uploaded image, in words a user can read.

Each error's `.message` is one sentence that never echoes Pillow's own text
(which can name temp paths or internals); the Pillow exception, when there is
one, is chained as `__cause__` for the logs.
"""

from __future__ import annotations

import struct
import zlib


class ImagingError(Exception):
    """Base class: the upload is refused, and `.message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedImageType(ImagingError):
    """The bytes are not GIF, PNG, JPEG or WebP, whatever the file is called (HTTP 415)."""


class InvalidImage(ImagingError):
    """The file is empty, corrupt, truncated or otherwise undecodable (HTTP 422)."""


class ImageTooComplex(ImagingError):
    """A decompression bomb: too many pixels, frames or pixel-frames to decode (HTTP 422)."""


# What Pillow's parsers raise on hostile input (fuzzing finds all of these);
# each means "this is not a decodable image". Our own code inside the guarded
# blocks is small and mypy --strict checked, so an AttributeError there is Pillow's.
# Warning is only ever raised when warnings are errors (`-W error`, pytest's
# `filterwarnings = error`): Pillow warns about broken metadata ("Corrupt EXIF
# data") and carries on, so with default filters such files are accepted; with
# escalated warnings they are refused as invalid instead of escaping as a 500.
DECODE_FAILURES: tuple[type[BaseException], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,
    ValueError,
    TypeError,
    LookupError,
    ArithmeticError,
    AttributeError,
    EOFError,
    MemoryError,
    struct.error,
    zlib.error,
    Warning,
)
