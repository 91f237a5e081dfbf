"""Still renditions, written with Pillow from the first frame.

`preview` is JPEG when the frame is opaque and PNG when it has transparency:
every client that shows an image can show those two (some native pickers and
link unfurlers still cannot show WebP), a JPEG of a photo-like frame is several
times smaller than its PNG, and only PNG keeps a sticker's transparency.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from app.imaging.sizing import Size
from app.renditions.encoded import EncodedRendition
from app.renditions.sizing import FrameView

JPEG_QUALITY = 85
WEBP_QUALITY = 80
WEBP_METHOD = 2  # the knee measured for thumbnails (imaging/thumbnails.py)


class StillSink:
    """Keeps the first frame only; `webp` writes a still WebP, otherwise the preview."""

    def __init__(self, fmt: str, path: Path, size: Size, *, webp: bool = False) -> None:
        self.fmt, self.size = fmt, size
        self._webp = webp
        self._path = path
        self._image: Image.Image | None = None

    def add(self, frame: FrameView) -> None:
        if self._image is None:
            self._image = frame.at(self.size)

    def finish(self) -> EncodedRendition:
        image = self._image
        if image is None:
            raise ValueError("no frame was given")
        self._image = None
        if self._webp:
            path, mime = self._path.with_suffix(".webp"), "image/webp"
            image.save(path, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        elif image.mode == "RGBA":
            path, mime = self._path.with_suffix(".png"), "image/png"
            image.save(path, "PNG")
        else:
            path, mime = self._path.with_suffix(".jpg"), "image/jpeg"
            image.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
        return EncodedRendition.of_file(self.fmt, path, mime, image.size, 0.0)

    def close(self) -> None:
        self._image = None
