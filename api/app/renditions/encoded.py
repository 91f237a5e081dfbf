"""What every rendition encoder produces, and the shape they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.renditions.sizing import FrameView


class RenditionError(Exception):
    """The original cannot be turned into renditions (corrupt, or an encoder refused it)."""


@dataclass(frozen=True)
class EncodedRendition:
    format: str  # a Tenor format name: "tinygif", "mp4", ...
    path: Path  # a file in the work directory (or the original itself, for a copy)
    mime_type: str
    width: int
    height: int
    duration: float  # seconds; 0.0 for a still
    size_bytes: int

    @classmethod
    def of_file(
        cls, fmt: str, path: Path, mime_type: str, size: tuple[int, int], duration: float
    ) -> EncodedRendition:
        """The rendition written at `path` (its byte size read from the file)."""
        return cls(fmt, path, mime_type, size[0], size[1], duration, path.stat().st_size)


class Sink(Protocol):
    """An encoder fed the source's frames one at a time (streamed: frames are not kept)."""

    def add(self, frame: FrameView) -> None: ...

    def finish(self) -> EncodedRendition:
        """Flush and close the output file."""

    def close(self) -> None:
        """Release the encoder after a failure (idempotent; `finish` also closes)."""
