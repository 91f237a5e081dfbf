"""Turn an accepted upload into what will be stored: probed, cleaned, hashed,
thumbnailed and fingerprinted. CPU-bound, so it runs in a worker thread."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio
from PIL import ImageFile

from app.config import Settings
from app.errors import Unprocessable, UnsupportedMedia
from app.images.spool import TEMP_PREFIX, ReceivedUpload
from app.imaging.errors import ImagingError, UnsupportedImageType
from app.imaging.hashing import hash_image, perceptual_hash
from app.imaging.probe import ImageLimits, ProbeResult, probe_image
from app.imaging.sanitize import sanitize
from app.imaging.thumbnails import make_thumbnail, shown_frame, thumbnail_of


def limits_from(settings: Settings) -> ImageLimits:
    return ImageLimits(
        max_pixels=settings.max_image_pixels,
        max_side=settings.max_image_side,
        max_frames=settings.max_image_frames,
        max_total_pixels=settings.max_image_total_pixels,
    )


# Cleaned files up to this size are also kept in memory and stored from there:
# aiohttp sends a file body through its thread pool, a hop per 64 KB, and botocore
# reads it once more to sign it (measured: 3.2 -> 2.4 ms of CPU per PUT of 230 KB,
# 5.0 -> 3.9 ms for 1 MB). Bigger files stream from disk, so memory stays bounded.
IN_MEMORY_MAX_BYTES = 4 * 1024 * 1024


@dataclass
class PreparedImage:
    """What will be stored: the cleaned file (a temp file), its facts, its thumbnail."""

    path: Path
    probe: ProbeResult
    sha256: str
    size: int
    thumbnail: bytes
    phash: int
    content: bytes | None = None  # the cleaned file's bytes, when small enough to keep

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class _FirstFrame:
    """The thumbnail and perceptual hash, made from the first shown frame while the
    probe decodes it anyway (it was decoded again for each of them: 2-3 ms of a GIF
    upload's CPU, and two more opens of the file)."""

    thumbnail: bytes | None = None
    phash: int | None = None

    def take(self, image: ImageFile.ImageFile, mime: str) -> None:
        if mime == "image/jpeg":
            # The probe decodes JPEGs at full size; from the file, libjpeg decodes at
            # 1/2-1/8 scale for each (a 12 MP photo: 45 + 5 ms), and the stored hashes
            # stay the ones `perceptual_hash` gives.
            return
        # Both start from the frame in RGB: converted once, not once each.
        shown = shown_frame(image, mime)
        self.thumbnail = thumbnail_of(shown, mime)
        self.phash = hash_image(shown)


def prepare(raw: Path, limits: ImageLimits) -> PreparedImage:
    """Blocking: probe, clean (no EXIF/GPS, no smuggled bytes), hash and thumbnail."""
    first = _FirstFrame()
    # Every limit is checked from the headers before any frame (and `first.take`) is decoded.
    probe = probe_image(raw, limits, first.take)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=raw.parent)
    os.close(fd)
    clean = Path(name)
    try:
        # The thumbnail and hash describe exactly the bytes that will be served: when
        # cleaning changes the file, `sanitize` probes the output again and `first.take`
        # replaces what it made from the upload; when it does not, they are the same bytes.
        cleaned = sanitize(raw, clean, probe, first.take)
        sha256, size = hashlib.sha256(cleaned).hexdigest(), len(cleaned)
        content = cleaned if size <= IN_MEMORY_MAX_BYTES else None
        del cleaned
        thumbnail = first.thumbnail if first.thumbnail is not None else make_thumbnail(clean)
        phash = first.phash if first.phash is not None else perceptual_hash(clean)
        return PreparedImage(clean, probe, sha256, size, thumbnail, phash, content)
    except BaseException:
        clean.unlink(missing_ok=True)
        raise


async def inspect(received: ReceivedUpload, settings: Settings) -> PreparedImage:
    if received.file_path is None:
        raise Unprocessable("The `file` field is required.")
    try:
        # Pillow decodes on the CPU for up to seconds on hostile files: never on the event loop.
        return await anyio.to_thread.run_sync(prepare, received.file_path, limits_from(settings))
    except UnsupportedImageType as exc:
        raise UnsupportedMedia(exc.message) from None
    except ImagingError as exc:
        raise Unprocessable(exc.message) from None
