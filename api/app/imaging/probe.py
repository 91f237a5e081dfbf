"""Identify an upload from its bytes, and prove it decodes within limits.

Why it is shaped this way:

- The type comes from the magic bytes only, never the file name, and only the
  Pillow parser for that type may run (`Image.open(..., formats=[one])`): a
  file that starts with `GIF89a` never reaches the TIFF, EPS or PSD parsers,
  which have a longer history of vulnerabilities.
- Width, height, frame count and the width x height x frames budget are checked
  from the headers before any pixel is decoded, so a 20,000 x 20,000 PNG of a
  few bytes costs microseconds, not 1.6 GB.
- Pillow's own bomb guard is kept: while `Image.open` reads the headers, its
  `DecompressionBombWarning` is escalated to an error. `catch_warnings` swaps
  process-global state on Python 3.11, so concurrent worker threads restore
  each other's filters (measured: 8 threads left the filter installed for
  good); a lock serialises just that header read (0.02-0.04 ms for GIF, PNG
  and JPEG; 1.6 ms for a 5 MB animated WebP, which Pillow reads whole). Canvas
  growth while seeking GIF frames is checked explicitly instead, against
  `Image.MAX_IMAGE_PIXELS` as well as our limits. Pillow's global is never
  modified, so the effective per-frame cap is min(`ImageLimits.max_pixels`,
  `Image.MAX_IMAGE_PIXELS` = 89,478,485).
- Every frame is decoded once: a truncated or corrupt file is refused at
  upload rather than discovered later by a viewer. `LOAD_TRUNCATED_IMAGES` is
  never enabled. The first shown frame can be handed to a callback while it is
  decoded (`on_first_frame`), so the upload path makes its thumbnail and
  perceptual hash without decoding it a second time; the callback only ever
  runs after every header limit above has been checked.
- A GIF's frames are found and decoded by `gif`: Pillow's own block parsing
  and LZW decoder, without compositing each frame onto an RGB canvas (a third
  of the CPU of a 1 MB GIF) and without reading its data a sub-block per
  Python call. A GIF `gif` leaves to Pillow (a frame off the canvas, broken
  framing) is seeked and loaded frame by frame as before; its `n_frames` scans
  every block header without decoding pixels: measured ~2 us a frame, so a
  20.7 MB file of 900,000 one-pixel frames is refused (too many frames) after
  1.8 s. The upload size cap is what bounds this.
- Typical cost (2-core dev machine): 30-frame 480x270 GIF 30 ms (before the
  `gif` fast path; the bench's 13-frame 1 MB GIF went from 27 to 11-16 ms),
  12 MP JPEG 70 ms, 100-frame 480x270 WebP 360 ms.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile

from app.imaging import gif
from app.imaging.errors import (
    DECODE_FAILURES,
    ImageTooComplex,
    ImagingError,
    InvalidImage,
    UnsupportedImageType,
)
from app.imaging.orientation import jpeg_orientation, swaps_sides

# mime type -> (the only Pillow parser allowed to read it, extension we serve it under)
_FORMATS: dict[str, tuple[str, str]] = {
    "image/gif": ("GIF", "gif"),
    "image/png": ("PNG", "png"),
    "image/jpeg": ("JPEG", "jpg"),
    "image/webp": ("WEBP", "webp"),
}
SNIFF_BYTES = 16

# Chromium and Firefox play any frame declared at <= 10 ms for 100 ms (ads used
# 0 ms to flash); GIFs made for them rely on it, so durations count what a viewer sees.
_FASTEST_FRAME_MS = 10
_CLAMPED_FRAME_MS = 100


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int = 40_000_000  # per frame (width * height)
    max_side: int = 30_000  # a 1 x 30,000 strip must still be accepted
    max_frames: int = 1_000
    max_total_pixels: int = 2_000_000_000  # width * height * frames budget


@dataclass(frozen=True)
class ProbeResult:
    mime_type: str  # "image/gif" | "image/png" | "image/jpeg" | "image/webp" (APNG is image/png)
    extension: str  # "gif" | "png" | "jpg" | "webp"
    width: int  # as displayed: a JPEG's EXIF orientation is applied
    height: int
    frame_count: int  # 1 for stills
    duration_ms: int  # 0 for stills; one loop of the animation as browsers play it


def sniff_mime(head: bytes) -> str | None:
    """The allow-listed mime type announced by the magic bytes, or None."""
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _sniff_path(path: Path) -> str:
    with path.open("rb") as fp:
        head = fp.read(SNIFF_BYTES)
    if not head:
        # Refused as invalid rather than unsupported: the user picked the right
        # kind of file, it just has nothing in it (an interrupted save or copy).
        raise InvalidImage("The file is empty.")
    mime = sniff_mime(head)
    if mime is None:
        raise UnsupportedImageType("Only GIF, PNG, JPEG and WebP images are accepted.")
    return mime


def _check_pillow_cap(size: tuple[int, int]) -> None:
    # Pillow's own threshold, checked without depending on warning filters (see module doc).
    cap = Image.MAX_IMAGE_PIXELS
    if cap is not None and size[0] * size[1] > cap:
        raise ImageTooComplex(
            f"The image is {size[0]:,} x {size[1]:,} pixels, "
            f"more than the {cap:,} pixels that can be processed safely."
        )


_OPEN_LOCK = threading.Lock()


def _open_allowlisted(fp: BinaryIO, pillow_format: str) -> ImageFile.ImageFile:
    # The lock keeps our worker threads from undoing each other's warning filters (see above).
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(fp, formats=[pillow_format])


@contextmanager
def open_image(path: Path) -> Iterator[tuple[ImageFile.ImageFile, str]]:
    """Open `path` with the one Pillow parser its magic bytes allow; yield (image, mime type).

    Inside the block too, Pillow failures become `InvalidImage` and bomb
    signals `ImageTooComplex`; `ImagingError`s raised by the caller pass through.
    """
    mime = _sniff_path(path)
    pillow_format, _ = _FORMATS[mime]
    try:
        with path.open("rb") as fp, _open_allowlisted(fp, pillow_format) as image:
            _check_pillow_cap(image.size)
            yield image, mime
    except ImagingError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooComplex(
            "The image declares more pixels than can be processed safely."
        ) from exc
    except DECODE_FAILURES as exc:
        kind = pillow_format if pillow_format != "WEBP" else "WebP"
        raise InvalidImage(f"The file is not a valid {kind} image (corrupt or truncated).") from exc


def _check_frame_size(size: tuple[int, int], limits: ImageLimits) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise InvalidImage("The image has no pixels.")
    if max(width, height) > limits.max_side:
        raise ImageTooComplex(
            f"The image is {width:,} x {height:,} pixels; "
            f"neither side may be longer than {limits.max_side:,}."
        )
    if width * height > limits.max_pixels:
        raise ImageTooComplex(
            f"The image is {width:,} x {height:,} pixels, "
            f"more than the limit of {limits.max_pixels:,} pixels."
        )
    _check_pillow_cap(size)


def _declared_frames(image: ImageFile.ImageFile, mime: str) -> tuple[int, int]:
    """(frames Pillow will decode, frames a browser shows)."""
    if mime == "image/jpeg":
        # MPO extras (stereo pairs, depth maps) are not shown by browsers: one frame.
        return 1, 1
    frames = getattr(image, "n_frames", 1)
    if not isinstance(frames, int) or frames < 1:
        raise InvalidImage("The image has no frames.")
    # An APNG's IDAT image may be only a fallback for old viewers; browsers skip it.
    fallback = 1 if image.info.get("default_image") and frames > 1 else 0
    return frames, frames - fallback


def _check_frame_budget(
    size: tuple[int, int], frames: tuple[int, int], limits: ImageLimits
) -> None:
    decoded, shown = frames
    if shown > limits.max_frames:
        raise ImageTooComplex(
            f"The animation has {shown:,} frames, more than the limit of {limits.max_frames:,}."
        )
    if size[0] * size[1] * decoded > limits.max_total_pixels:
        raise ImageTooComplex(
            f"The animation has {decoded:,} frames of {size[0]:,} x {size[1]:,} pixels, "
            f"more than the limit of {limits.max_total_pixels:,} pixels in all."
        )


FirstFrameCallback = Callable[[ImageFile.ImageFile, str], None]
"""Called with the decoded first shown frame and the mime type; must not modify the image."""


def _decode_frames(
    image: ImageFile.ImageFile,
    frames: tuple[int, int],
    limits: ImageLimits,
    mime: str,
    on_first_frame: FirstFrameCallback | None,
) -> list[float]:
    """Decode every frame; return each one's declared duration in ms."""
    # An APNG's IDAT fallback is decoded (it must be valid too) but browsers start after it.
    first_shown = frames[0] - frames[1]
    durations: list[float] = []
    decoded_pixels = 0
    for index in range(frames[0]):
        image.seek(index)
        # A GIF frame may extend past the logical screen, and Pillow grows the canvas.
        _check_frame_size(image.size, limits)
        decoded_pixels += image.size[0] * image.size[1]
        if decoded_pixels > limits.max_total_pixels:
            raise ImageTooComplex(
                f"The animation has more than {limits.max_total_pixels:,} pixels in all."
            )
        image.load()  # raises on truncated or corrupt data
        durations.append(float(image.info.get("duration") or 0))
        if index == first_shown and on_first_frame is not None:
            on_first_frame(image, mime)
    return durations


def _decode_gif(
    data: bytes,
    image: ImageFile.ImageFile,
    frames: list[gif.GifFrame],
    on_first_frame: FirstFrameCallback | None,
) -> list[float]:
    """`_decode_frames` for a GIF whose frames all lie on its canvas (see `gif`).

    The canvas never grows, so the per-frame size checks of `_decode_frames`
    are the ones `probe_image` made before; the first frame is still loaded by
    Pillow, composited as viewers show it, for `on_first_frame`.
    """
    image.load()  # raises on truncated or corrupt data
    if on_first_frame is not None:
        on_first_frame(image, "image/gif")
    if len(frames) > 1:
        canvas = gif.new_canvas(image.size)
        for frame in frames[1:]:
            gif.decode(data, frame, canvas)
    return [float(frame.duration_ms) for frame in frames]


def _shown_duration_ms(durations: list[float]) -> int:
    if len(durations) < 2:
        return 0
    shown = (_CLAMPED_FRAME_MS if ms <= _FASTEST_FRAME_MS else ms for ms in durations)
    return round(sum(shown))


def probe_image(
    path: Path,
    limits: ImageLimits = ImageLimits(),
    on_first_frame: FirstFrameCallback | None = None,
) -> ProbeResult:
    """Identify `path` from its bytes and decode it fully, within `limits`.

    `on_first_frame`, if given, is called once with the first shown frame as it
    is decoded (see module doc); its `ImagingError`s propagate, Pillow failures
    inside it become `InvalidImage`.

    Raises `UnsupportedImageType`, `InvalidImage` or `ImageTooComplex`.
    """
    with open_image(path) as (image, mime):
        size = image.size
        _check_frame_size(size, limits)
        data = path.read_bytes() if mime == "image/gif" else b""
        gif_frames = gif.frames(data, image) if data else None
        if gif_frames is not None:
            frames = (len(gif_frames), len(gif_frames))
            _check_frame_budget(size, frames, limits)
            durations = _decode_gif(data, image, gif_frames, on_first_frame)
        else:
            frames = _declared_frames(image, mime)
            _check_frame_budget(size, frames, limits)
            durations = _decode_frames(image, frames, limits, mime, on_first_frame)
        if swaps_sides(jpeg_orientation(image, mime)):
            size = (size[1], size[0])
    shown = durations[len(durations) - frames[1] :]
    return ProbeResult(
        mime_type=mime,
        extension=_FORMATS[mime][1],
        width=size[0],
        height=size[1],
        frame_count=len(shown),
        duration_ms=_shown_duration_ms(shown),
    )
