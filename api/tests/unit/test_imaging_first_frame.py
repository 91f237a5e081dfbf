"""The upload path makes the thumbnail and perceptual hash from the frame the probe
decodes (`on_first_frame`): they must be exactly what the file-based functions give
for the stored (cleaned) file, and nothing is decoded for a file refused by a limit."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from app.images.preparation import prepare
from app.imaging.errors import ImageTooComplex
from app.imaging.hashing import perceptual_hash
from app.imaging.probe import ImageLimits, probe_image
from app.imaging.thumbnails import make_thumbnail

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
HOSTILE = SAMPLES / "hostile"

# Every accepted kind: GIF (still, animated, with metadata that cleaning drops), PNG
# (APNG with a fallback frame browsers skip, 16-bit grey, palette with transparency),
# WebP (animated, with EXIF), JPEG (EXIF orientation: re-encoded upright).
ACCEPTED = [
    "still.gif",
    "animated.gif",
    "metadata.gif",
    "noise.gif",
    "still.png",
    "animated.png",
    "apng_fallback.png",
    "gray16.png",
    "palette_transparent.png",
    "metadata.png",
    "rgba.png",
    "animated.webp",
    "still_metadata.webp",
    "metadata.webp",
    "noise.jpg",
    "orientation6_gps.jpg",
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_prepared_thumbnail_and_hash_are_those_of_the_stored_file(
    name: str, tmp_path: Path
) -> None:
    raw = tmp_path / name
    shutil.copyfile(SAMPLES / name, raw)
    prepared = prepare(raw, ImageLimits())
    try:
        stored = prepared.path.read_bytes()
        assert prepared.sha256 == hashlib.sha256(stored).hexdigest()
        assert prepared.size == len(stored)
        assert prepared.thumbnail == make_thumbnail(prepared.path)
        assert prepared.phash == perceptual_hash(prepared.path)
    finally:
        prepared.discard()


def test_the_callback_sees_the_first_shown_frame_once() -> None:
    seen: list[tuple[int, str, tuple[int, int]]] = []

    def take(image: ImageFile.ImageFile, mime: str) -> None:
        seen.append((image.tell(), mime, image.size))

    probe_image(SAMPLES / "apng_fallback.png", on_first_frame=take)
    probe_image(SAMPLES / "animated.gif", on_first_frame=take)
    # The APNG's IDAT fallback (frame 0) is skipped, as browsers and thumbnails do.
    with Image.open(SAMPLES / "apng_fallback.png") as apng:
        apng_size = apng.size
    with Image.open(SAMPLES / "animated.gif") as gif:
        gif_size = gif.size
    assert seen == [(1, "image/png", apng_size), (0, "image/gif", gif_size)]


@pytest.mark.parametrize(
    "name", ["declares_20000x20000.png", "declares_1000000_frames.png", "frames_1500.gif"]
)
def test_no_frame_reaches_the_callback_when_a_limit_refuses_the_file(name: str) -> None:
    seen: list[str] = []
    with pytest.raises(ImageTooComplex):
        probe_image(HOSTILE / name, on_first_frame=lambda image, mime: seen.append(mime))
    assert seen == []
