"""Rendition dimensions, and each decoded frame resized once per size.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from app.imaging.sizing import Size, fit
from app.renditions.source import Frame

_WHITE = (255, 255, 255, 255)


def fit_even(size: Size, box: Size) -> Size:
    """Like `fit`, rounded down to even sides: yuv420p (H.264, VP9) samples colour per 2 x 2."""
    width, height = fit(size, box)
    return max(2, width - width % 2), max(2, height - height % 2)


@dataclass
class FrameView:
    """One decoded frame, resized on demand and remembered, so encoders of the same
    size (gif and mediumgif, mp4 and webm) share one resize."""

    frame: Frame
    _sized: dict[Size, Image.Image] = field(default_factory=dict)
    _opaque: dict[Size, Image.Image] = field(default_factory=dict)

    @property
    def start_ms(self) -> int:
        return self.frame.start_ms

    @property
    def duration_ms(self) -> int:
        return self.frame.duration_ms

    def at(self, size: Size) -> Image.Image:
        """RGB or RGBA (as the source), `size` pixels."""
        image = self._sized.get(size)
        if image is None:
            source = self.frame.image
            if source.size == size:
                image = source
            elif source.mode == "RGBA":
                # Premultiplied, so transparent pixels' hidden colour does not bleed into edges.
                image = source.convert("RGBa").resize(size, Image.Resampling.LANCZOS)
                image = image.convert("RGBA")
            else:
                image = source.resize(size, Image.Resampling.LANCZOS)
            self._sized[size] = image
        return image

    def opaque(self, size: Size) -> Image.Image:
        """RGB at `size`, transparency laid on white (video has no alpha)."""
        image = self._opaque.get(size)
        if image is None:
            image = self.at(size)
            if image.mode == "RGBA":
                image = Image.alpha_composite(Image.new("RGBA", size, _WHITE), image)
            image = image.convert("RGB")
            self._opaque[size] = image
        return image
