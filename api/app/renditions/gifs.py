"""GIF renditions, encoded frame by frame with FFmpeg's GIF encoder (PyAV).

One palette for the whole animation, chosen from frames sampled across it
(`SourceInfo.sample`), and every frame mapped to it with Pillow. A per-frame
palette would look better on a scene change, but FFmpeg crops a frame to the
area that changed only when it shares the global palette; with one palette the
frames stay small, and the file is written as it goes (nothing is buffered).

Timing: GIF counts in centiseconds, and browsers play a delay of 10 ms or less
as 100 ms; frames closer than `min_interval_cs` are dropped (their time goes to
the frame shown before them), so no rendition ever declares such a delay.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import OutputContainer
from av.video.stream import VideoStream
from PIL import Image

from app.imaging.sizing import Size
from app.renditions.encoded import EncodedRendition
from app.renditions.sizing import FrameView

CENTISECONDS = Fraction(1, 100)
_TRANSPARENT = 255  # the palette slot kept for transparent pixels
_OPAQUE_ALPHA = 128  # alpha below this is transparent: GIF has one bit of alpha


def make_palette(sample: Image.Image, colours: int, has_alpha: bool) -> Image.Image:
    """A palette image (mode P) of at most `colours`, one slot fewer when a slot is transparent."""
    colours = min(colours, _TRANSPARENT) if has_alpha else colours
    return sample.convert("RGB").quantize(colours, method=Image.Quantize.MEDIANCUT)


def _argb(palette: Image.Image, has_alpha: bool) -> np.ndarray:
    """PyAV's pal8 palette: 256 x ARGB."""
    rgb = np.frombuffer(bytes(palette.getpalette("RGB") or []), np.uint8).reshape(-1, 3)
    table = np.zeros((256, 4), np.uint8)
    table[:, 0] = 255
    table[: len(rgb), 1:] = rgb[:256]
    if has_alpha:
        table[_TRANSPARENT] = 0
    return table


class GifSink:
    def __init__(
        self,
        fmt: str,
        path: Path,
        size: Size,
        palette: Image.Image,
        *,
        has_alpha: bool,
        animated: bool,
        dither: bool,
        min_interval_cs: int,
        duration: float,
    ) -> None:
        self.fmt, self.path, self.size, self.duration = fmt, path, size, duration
        self._palette, self._has_alpha = palette, has_alpha
        self._table = _argb(palette, has_alpha)
        self._dither = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
        self._min_interval = min_interval_cs
        # loop=0: forever, as chat apps expect; -1: no loop block for a still.
        self._container: OutputContainer = av.open(
            str(path), "w", format="gif", options={"loop": "0" if animated else "-1"}
        )
        self._stream: VideoStream = self._container.add_stream("gif")
        self._stream.width, self._stream.height = size
        self._stream.pix_fmt = "pal8"
        self._stream.time_base = CENTISECONDS
        self._stream.codec_context.time_base = CENTISECONDS
        self._pending: av.VideoFrame | None = None
        self._end = 0
        self._closed = False

    def _indices(self, image: Image.Image) -> np.ndarray:
        mapped = image.convert("RGB").quantize(palette=self._palette, dither=self._dither)
        indices = np.array(mapped, dtype=np.uint8)
        if self._has_alpha and image.mode == "RGBA":
            indices[np.asarray(image.getchannel("A")) < _OPAQUE_ALPHA] = _TRANSPARENT
        return indices

    def add(self, frame: FrameView) -> None:
        start = round(frame.start_ms / 10)
        self._end = round((frame.start_ms + frame.duration_ms) / 10)
        if self._pending is not None and start - (self._pending.pts or 0) < self._min_interval:
            return
        pal8 = (self._indices(frame.at(self.size)), self._table)
        encoded = av.VideoFrame.from_ndarray(pal8, format="pal8")  # type: ignore[arg-type]
        encoded.pts, encoded.time_base = start, CENTISECONDS
        if self._pending is not None:
            self._write(self._pending, until=start)
        self._pending = encoded

    def _write(self, frame: av.VideoFrame | None, until: int = 0) -> None:
        for packet in self._stream.encode(frame):
            if frame is not None and frame.pts is not None:
                # The muxer takes a frame's delay from its packet's duration (the last one too).
                packet.duration = max(until - frame.pts, 0)
            self._container.mux(packet)

    def finish(self) -> EncodedRendition:
        if self._pending is not None:
            self._write(self._pending, until=self._end)
        self._write(None)
        self.close()
        return EncodedRendition.of_file(self.fmt, self.path, "image/gif", self.size, self.duration)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._container.close()
