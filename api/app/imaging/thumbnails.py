"""The WebP preview: first shown frame, upright, longest side <= 320 px, no metadata.

"Upright" follows `orientation`: a JPEG's EXIF orientation is applied, exactly
as browsers do and as `sanitize` bakes into the served file.

Opened through `probe.open_image`, so the same magic-byte allow-list, the
single-parser rule and Pillow's bomb guard apply. `ImageLimits` are not
re-checked: the upload path probes first, and `reactbin check` rebuilds
thumbnails only for originals that were probed on upload.

Measured on the dev machine (2 cores, Pillow 13.0.0, libwebp 1.6.0), the whole
call for a 480x270 GIF: WebP `method=0` 3.3 ms, `method=2` 3.8 ms, the default
`method=4` 6.7 ms, `method=6` 8.5 ms; output 6.6 / 5.8 / 5.5 / 5.0 KB for a
noisy frame. `method=2` is the knee, far under the 15 ms budget. A 12 MP JPEG
takes ~45 ms (libjpeg's DCT scaling halves the decode: 86 -> 40 ms).

Re-measured for the upload path (2026-12, the bench's noisy 480x270 GIF frame,
encoding the 320x180 thumbnail alone, best of 20): `method=0` 1.7 ms 16.9 KB,
`method=1` 2.3 ms 16.6 KB, `method=2` 3.2 ms 16.7 KB; on the small test
samples 1.9 / 1.7 / 1.6 KB. Encoding was the largest single item of a 200 KB
GIF upload's CPU, so `method=1`: a third cheaper, same quality setting, sizes
within a few percent of `method=2`.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageFile

from app.imaging.orientation import jpeg_orientation, upright
from app.imaging.probe import open_image
from app.imaging.sizing import fit

THUMBNAIL_MAX_SIDE = 320
WEBP_QUALITY = 80
WEBP_METHOD = 1
_WEBP_MAX_SIDE = 16_383  # the format cannot hold more


def _seek_first_shown_frame(image: ImageFile.ImageFile) -> None:
    # An APNG's IDAT image may be a fallback that browsers never show; they start at frame 1.
    if image.info.get("default_image") and getattr(image, "n_frames", 1) > 1:
        image.seek(1)


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB or RGBA, which is what WebP stores (and what resamples smoothly: P and 1 do not)."""
    if image.mode.startswith("I"):
        # 16-bit grey: Pillow's I;16 -> L conversion clips every value above 255 to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _encode_webp(image: Image.Image) -> bytes:
    image.info.clear()  # belt and braces: the WebP writer only copies metadata it is given
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return buffer.getvalue()


def make_thumbnail(path: Path, max_side: int = THUMBNAIL_MAX_SIDE) -> bytes:
    """WebP bytes of the first frame, upright, longest side at most `max_side` (never upscaled).

    Raises `UnsupportedImageType`, `InvalidImage` or `ImageTooComplex`.
    """
    _check_max_side(max_side)
    with open_image(path) as (image, mime):
        _seek_first_shown_frame(image)
        # JPEG only: libjpeg decodes at 1/2, 1/4 or 1/8 scale (noisy 12 MP photo: 86 -> 40 ms).
        # The square box keeps the scale right whichever way EXIF turns the picture.
        image.draft(None, (2 * max_side, 2 * max_side))
        image.load()
        return thumbnail_of(image, mime, max_side)


def thumbnail_of(image: Image.Image, mime: str, max_side: int = THUMBNAIL_MAX_SIDE) -> bytes:
    """`make_thumbnail` of a frame already decoded (by `probe_image`'s `on_first_frame`).

    `image` is left as it was: the probe goes on seeking frames of it.
    """
    _check_max_side(max_side)
    frame = _to_rgb(upright(image, jpeg_orientation(image, mime)))
    size = fit(frame.size, (max_side, max_side))
    if size != frame.size:
        # What `Image.thumbnail` does, minus its resizing in place (`frame` may be `image`).
        frame = frame.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    elif frame is image:
        frame = image.copy()  # `_encode_webp` clears `info`
    return _encode_webp(frame)


def shown_frame(image: Image.Image, mime: str) -> Image.Image:
    """The decoded frame upright and in RGB(A), as `thumbnail_of` and `hashing.hash_image`
    start from (either gives the same result from it as from `image`)."""
    return _to_rgb(upright(image, jpeg_orientation(image, mime)))


def thumbnail_size(width: int, height: int, max_side: int = THUMBNAIL_MAX_SIDE) -> tuple[int, int]:
    """The size of the thumbnail of a `width` x `height` image, without making it
    (the Tenor API and the web pages state it; the database does not store it)."""
    return fit((width, height), (max_side, max_side))


def _check_max_side(max_side: int) -> None:
    if not 1 <= max_side <= _WEBP_MAX_SIDE:
        raise ValueError(f"max_side must be between 1 and {_WEBP_MAX_SIDE}, not {max_side}")
