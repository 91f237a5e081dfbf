"""EXIF orientation, honoured for JPEG only.

JPEG is the one format where every browser applies the EXIF Orientation tag
(and the one cameras write it in). For PNG `eXIf` and WebP `EXIF` browsers
disagree, and `sanitize` drops those blocks anyway, so those images are shown,
measured and thumbnailed as stored. Probe, thumbnail and sanitize all call
`jpeg_orientation`, so the dimensions in the database, the preview and the
served file always agree.

Only the EXIF block is read: Pillow's `getexif()` would also take an
orientation from XMP, which browsers ignore.
"""

from __future__ import annotations

from PIL import ExifTags, Image

from app.imaging.errors import DECODE_FAILURES

_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def exif_orientation(exif: bytes | None) -> int:
    """The Orientation tag (1-8) of an EXIF block (with or without its `Exif\\0\\0` prefix).

    1 when absent, out of range or unreadable: a corrupt EXIF block is ignored, as browsers do.
    """
    if not exif:
        return 1
    parsed = Image.Exif()
    try:
        parsed.load(exif)
        value = parsed.get(ExifTags.Base.Orientation, 1)
    except DECODE_FAILURES:
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def jpeg_orientation(image: Image.Image, mime: str) -> int:
    """The orientation a browser applies to `image`: from the first EXIF APP1 of a JPEG, else 1."""
    if mime != "image/jpeg":
        return 1
    exif = image.info.get("exif")
    return exif_orientation(exif if isinstance(exif, bytes) else None)


def swaps_sides(orientation: int) -> bool:
    """Orientations 5-8 turn the picture a quarter: width and height trade places."""
    return orientation in (5, 6, 7, 8)


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """`image` as a browser shows it; the same object when there is nothing to do."""
    method = _TRANSPOSE.get(orientation)
    return image if method is None else image.transpose(method)
