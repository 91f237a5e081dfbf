"""Read a stored original frame by frame, for the rendition encoders.

Pure and synchronous (run it in a worker thread). Frames are decoded one at a
time and never collected: a 1,000-frame animation costs one frame of memory,
plus the small tiles `analyse` keeps to choose a GIF palette.

The original was probed and cleaned at upload, so it is opened through the
same allow-list (`probe.open_image`: one Pillow parser per magic number) and
its limits are not re-checked here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile

from app.imaging.errors import InvalidImage
from app.imaging.orientation import jpeg_orientation, upright
from app.imaging.probe import open_image

# Browsers play a frame declared at <= 10 ms for 100 ms (see imaging/probe.py);
# renditions keep the timing a viewer of the original sees.
_FASTEST_FRAME_MS = 10
_CLAMPED_FRAME_MS = 100
# Frames sampled to choose one palette for a whole GIF rendition, and the
# size each is reduced to: enough to see every scene, a few hundred KB at most.
_PALETTE_SAMPLES = 32
_PALETTE_TILE = (96, 96)


@dataclass(frozen=True)
class Frame:
    image: Image.Image  # RGB, or RGBA when the source has transparency
    start_ms: int
    duration_ms: int  # 0 for a still


@dataclass(frozen=True)
class SourceInfo:
    mime_type: str
    width: int
    height: int
    frame_count: int
    duration_ms: int  # one loop; 0 for a still
    has_alpha: bool
    # A montage of sampled frames, reduced: what a GIF palette is chosen from.
    sample: Image.Image
    # A still's only frame, kept so it is decoded once (a 12 MP JPEG takes ~80 ms).
    still: Image.Image | None = None

    @property
    def animated(self) -> bool:
        return self.frame_count > 1


def _shown(image: ImageFile.ImageFile, mime: str) -> range:
    """The indexes of the frames a browser shows (as imaging/probe.py counts them)."""
    if mime == "image/jpeg":
        return range(1)  # an MPO's extra pictures (stereo pairs, depth maps) are not shown
    frames = getattr(image, "n_frames", 1)
    # An APNG's IDAT image may be a fallback that browsers never show.
    return range(1 if image.info.get("default_image") and frames > 1 else 0, frames)


def _shown_duration(declared: float, animated: bool) -> int:
    if not animated:
        return 0
    return _CLAMPED_FRAME_MS if declared <= _FASTEST_FRAME_MS else round(declared)


def _normalised(image: Image.Image) -> Image.Image:
    """RGBA, whatever the frame's mode (palette, grey, 16-bit, CMYK...)."""
    if image.mode.startswith("I"):
        # 16-bit grey: Pillow's I;16 -> L conversion clips every value above 255 to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image if image.mode == "RGBA" else image.convert("RGBA")


def _raw_frames(path: Path) -> Iterator[tuple[Image.Image, int, str]]:
    """(RGBA frame as displayed, declared duration in ms, mime type) for every shown frame."""
    with open_image(path) as (image, mime):
        orientation = jpeg_orientation(image, mime)
        for index in _shown(image, mime):
            image.seek(index)
            image.load()  # WebP sets the frame's duration only once it is loaded
            duration = float(image.info.get("duration") or 0)
            yield _normalised(upright(image, orientation)), round(duration), mime


def _montage(tiles: list[Image.Image]) -> Image.Image:
    width = max(tile.width for tile in tiles)
    montage = Image.new("RGB", (width, sum(tile.height for tile in tiles)))
    top = 0
    for tile in tiles:
        montage.paste(tile.convert("RGB"), (0, top))
        top += tile.height
    return montage


def analyse(path: Path) -> SourceInfo:
    """One pass over the frames: count, timing, transparency and a palette sample."""
    with open_image(path) as (image, mime):
        total = len(_shown(image, mime))
    step = max(1, -(-total // _PALETTE_SAMPLES))
    tiles: list[Image.Image] = []
    count = duration = 0
    has_alpha = False
    last: Image.Image | None = None
    size = (0, 0)
    for index, (frame, declared, _mime) in enumerate(_raw_frames(path)):
        last = frame
        size = size if index else frame.size
        count += 1
        duration += _shown_duration(declared, total > 1)
        lowest_alpha = frame.getchannel("A").getextrema()[0]
        has_alpha = has_alpha or (isinstance(lowest_alpha, int | float) and lowest_alpha < 255)
        if index % step == 0:
            tile = frame.copy()
            tile.thumbnail(_PALETTE_TILE, Image.Resampling.BOX)
            tiles.append(tile)
    if last is None:
        raise InvalidImage("The image has no frames.")
    still = last if count == 1 else None
    return SourceInfo(
        mime_type=mime,
        width=size[0],
        height=size[1],
        frame_count=count,
        duration_ms=duration if count > 1 else 0,
        has_alpha=has_alpha,
        sample=_montage(tiles),
        still=None if still is None else (still if has_alpha else still.convert("RGB")),
    )


def frames(path: Path, info: SourceInfo) -> Iterator[Frame]:
    """The shown frames in order, each with its start time, as browsers time them."""
    if info.still is not None:
        yield Frame(info.still, 0, 0)
        return
    start = 0
    for frame, declared, _mime in _raw_frames(path):
        duration = _shown_duration(declared, info.animated)
        if frame.size != (info.width, info.height):
            # Pillow grows a GIF's canvas for a frame drawn past its edge; encoders need one size.
            frame = frame.crop((0, 0, info.width, info.height))
        yield Frame(frame if info.has_alpha else frame.convert("RGB"), start, duration)
        start += duration
