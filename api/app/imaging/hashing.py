"""A 64-bit perceptual hash, so re-encoded, resized or recoloured copies can be found.

`perceptual_hash` is pHash: the picture in grey, shrunk to 32 x 32 (Lanczos),
a 2-D DCT-II, and one bit per coefficient of the 8 x 8 lowest frequencies:
set when the coefficient is above their median. Those frequencies are the
coarse layout of light and dark, which JPEG quality, scaling, GIF palettes and
a brightness shift hardly move; different pictures disagree on about half of
the 64 bits. `hamming` counts the bits two hashes disagree on.

Why numpy rather than the `imagehash` package: the algorithm above is the
whole of `imagehash.phash` (the DCT is one 32 x 32 matrix product each way).
On 2,000 generated images under 256 px (noise, shapes, gradients, flat
colours, every mode the upload path accepts) every hash equalled
`imagehash.phash`'s bits exactly. Bigger pictures are box-reduced to >= 128 px
first, as libjpeg's `draft` already does for JPEG: a 12 MP PNG drops from
170 ms to 85 ms (grey conversion and Lanczos at full size cost 150 ms), and
those hashes differ from imagehash's full-size ones by 0-6 bits (median 2) on
shapes and gradients. What `imagehash` would add is scipy and PyWavelets:
~150 MB installed, plus 0.16 s and ~33 MB RSS for scipy.fftpack's import in
every process that hashes, for what numpy does in a fraction of a millisecond.
numpy is already required by the OCR engine.

The frame hashed is the one a viewer sees first, upright exactly as
`thumbnails` renders it (APNG fallback skipped, a JPEG's EXIF orientation
applied), with transparency flattened onto white, so a GIF and a PNG of the
same picture agree.

Near-duplicates: two images are near-duplicates when `hamming(a, b) <=
NEAR_DUPLICATE_DISTANCE` (6). Measured on the test pictures
(tests/unit/test_imaging_hashing.py: 13 pictures of shapes, noise, memes):
JPEG q=60 re-encodes, 50% downscales, +10% brightness and GIF copies were
0-4 bits from the original (35 of 52 at 0, 3 at 4); the 105 pairs of
different pictures were 22-42 bits apart (median 32). 6 leaves margin on both
sides. Two limits of a 64-bit pHash: the same meme template with different
captions is 0-8 bits apart (the caption is a small part of the layout), so
it is usually reported as a near-duplicate; and flat pictures have no
structure to hash (every single-colour image gets the same hash, and a 48 x
32 nearly flat sample moved 8-10 bits under JPEG q=60).

Cost (2-core dev machine, Pillow 13, whole call from the path): 1-1.5 ms for a
480 x 270 PNG or the first frame of a 30-frame GIF, 5-6 ms for a 12 MP JPEG
(decoded at 1/8 scale), 85-110 ms for a 12 MP PNG (zlib decoding). Pure and
synchronous like the rest of `app.imaging`: call it from a worker thread,
never on the event loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from app.imaging.orientation import jpeg_orientation, upright
from app.imaging.probe import open_image
from app.imaging.thumbnails import _seek_first_shown_frame, _to_rgb

NEAR_DUPLICATE_DISTANCE = 6
HASH_BITS = 64

_HASH_SIDE = 8  # 8 x 8 low frequencies -> 64 bits
_SAMPLE_SIDE = 32  # pHash's 4x oversampling: the DCT sees 32 x 32 pixels
_REDUCED_SIDE = 4 * _SAMPLE_SIDE  # what the Lanczos step starts from, at least
_MASK = (1 << HASH_BITS) - 1
_ZERO = 1e-6  # coefficients of 0-255 pixels are 0 or far above this


def _dct_matrix(n: int) -> np.ndarray:
    """Unnormalised DCT-II as a matrix, as scipy.fftpack.dct computes it (2 * sum x cos(...)).

    The scale never matters (bits compare against a median), but matching
    scipy keeps the hashes identical to `imagehash.phash`.
    """
    k = np.arange(n).reshape(-1, 1)
    i = np.arange(n).reshape(1, -1)
    return 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


_DCT = _dct_matrix(_SAMPLE_SIDE)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB: transparent pixels count as white, whatever colour their RGB values hold."""
    image = _to_rgb(image)
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def hash_image(image: Image.Image) -> int:
    """pHash of an already decoded picture, as a signed 64-bit integer (see module doc)."""
    image = _flatten(image)
    # Box-average big pictures down to >= 128 px first, as libjpeg's draft does for JPEG:
    # a 12 MP PNG's grey conversion and Lanczos resize drop from 150 ms to ~10 ms.
    factor = min(image.size) // _REDUCED_SIDE
    if factor >= 2:
        image = image.reduce(factor)
    grey = image.convert("L")
    small = grey.resize((_SAMPLE_SIDE, _SAMPLE_SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    low = (_DCT @ pixels @ _DCT.T)[:_HASH_SIDE, :_HASH_SIDE]  # rows, then columns: 2-D DCT-II
    # A coefficient that symmetry makes exactly 0 (flat areas, straight gradients) comes
    # out of the products as rounding noise (~1e-10) whose sign would set random bits.
    low[np.abs(low) < _ZERO] = 0.0
    bits = (low > np.median(low)).ravel()
    value = 0
    for bit in bits:  # row-major, first coefficient in the most significant bit (as imagehash)
        value = (value << 1) | int(bit)
    return to_signed(value)


def perceptual_hash(path: Path) -> int:
    """pHash of the first shown frame of `path`, upright; a signed 64-bit int (PostgreSQL bigint).

    Raises `UnsupportedImageType`, `InvalidImage` or `ImageTooComplex`.
    """
    with open_image(path) as (image, mime):
        _seek_first_shown_frame(image)
        # JPEG only: decode at 1/2 to 1/8 scale; the hash only ever sees 32 x 32 pixels.
        image.draft(None, (_REDUCED_SIDE, _REDUCED_SIDE))
        image.load()
        return hash_frame(image, mime)


def hash_frame(image: Image.Image, mime: str) -> int:
    """`perceptual_hash` of a first frame already decoded; `image` is not modified.

    For GIF, PNG and WebP this is exactly `perceptual_hash` of the file. A JPEG
    decoded at full size hashes within a few bits of its draft-scaled hash, so
    the upload path hashes JPEGs from the file instead (see `preparation`).
    """
    return hash_image(upright(image, jpeg_orientation(image, mime)))


def to_signed(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer PostgreSQL's bigint stores (same bits)."""
    value &= _MASK
    return value - (1 << HASH_BITS) if value >> (HASH_BITS - 1) else value


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ; signed or unsigned inputs alike."""
    return ((a ^ b) & _MASK).bit_count()
