"""Turn an accepted upload into what will be stored: probed, cleaned, hashed,
thumbnailed and fingerprinted. CPU-bound, so it runs in a worker thread."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio

from app.config import Settings
from app.errors import Unprocessable, UnsupportedMedia
from app.images.receive import TEMP_PREFIX, ReceivedUpload
from app.imaging.errors import ImagingError, UnsupportedImageType
from app.imaging.hashing import perceptual_hash
from app.imaging.probe import ImageLimits, ProbeResult, probe_image
from app.imaging.sanitize import sanitize
from app.imaging.thumbnails import make_thumbnail


def limits_from(settings: Settings) -> ImageLimits:
    return ImageLimits(
        max_pixels=settings.max_image_pixels,
        max_side=settings.max_image_side,
        max_frames=settings.max_image_frames,
        max_total_pixels=settings.max_image_total_pixels,
    )


@dataclass
class PreparedImage:
    """What will be stored: the cleaned file (a temp file), its facts, its thumbnail."""

    path: Path
    probe: ProbeResult
    sha256: str
    size: int
    thumbnail: bytes
    phash: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def prepare(raw: Path, limits: ImageLimits) -> PreparedImage:
    """Blocking: probe, clean (no EXIF/GPS, no smuggled bytes), hash and thumbnail."""
    probe = probe_image(raw, limits)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=raw.parent)
    os.close(fd)
    clean = Path(name)
    try:
        sanitize(raw, clean, probe)
        digest = hashlib.sha256()
        with clean.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        # The thumbnail is made from exactly the bytes that will be served.
        thumbnail = make_thumbnail(clean)
        phash = perceptual_hash(clean)
        return PreparedImage(
            clean, probe, digest.hexdigest(), clean.stat().st_size, thumbnail, phash
        )
    except BaseException:
        clean.unlink(missing_ok=True)
        raise


async def inspect(received: ReceivedUpload, settings: Settings) -> PreparedImage:
    assert received.file_path is not None
    try:
        # Pillow decodes on the CPU for up to seconds on hostile files: never on the event loop.
        return await anyio.to_thread.run_sync(prepare, received.file_path, limits_from(settings))
    except UnsupportedImageType as exc:
        raise UnsupportedMedia(exc.message) from None
    except ImagingError as exc:
        raise Unprocessable(exc.message) from None
