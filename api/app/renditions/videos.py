"""Video renditions (H.264 MP4, VP9 WebM) and the animated WebP, with PyAV.

Timestamps are the source's own, in milliseconds: a GIF's uneven delays play
as they do in a browser (variable frame rate), and every packet carries its
frame's duration so the last frame is shown for its full time too.

Choices, measured on a 24-frame 480x270 GIF (2-core dev machine):
- H.264: `veryfast`, CRF 23, no B-frames. B-frames saved 1.6 % but reorder
  packets, and MP4 then takes the track's end from a B-frame: the last
  frame's time was cut short. High profile, yuv420p, `+faststart` (the index
  first, so a browser starts playing before the download ends), no audio.
- VP9: CRF 33 constant quality, `realtime` deadline at `cpu-used` 6, row
  multithreading: 0.24 s and 68 KB, where `good` at `cpu-used` 5 took 0.76 s
  for 57 KB (VP9 was then most of the job's time).
- Animated WebP: libwebp at quality 75, `compression_level` 2 (the knee that
  thumbnails.py measured); the muxer loops forever.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import OutputContainer
from av.video.stream import VideoStream

from app.imaging.sizing import Size
from app.renditions.encoded import EncodedRendition
from app.renditions.sizing import FrameView

MILLISECONDS = Fraction(1, 1000)

Codec = tuple[str, str, dict[str, str], dict[str, str]]  # container, codec, options

MP4: Codec = (
    "mp4",
    "libx264",
    {"preset": "veryfast", "crf": "23", "bf": "0", "profile": "high"},
    {"movflags": "+faststart"},
)
WEBM: Codec = (
    "webm",
    "libvpx-vp9",
    {"crf": "33", "b": "0", "deadline": "realtime", "cpu-used": "6", "row-mt": "1"},
    {},
)
WEBP: Codec = ("webp", "libwebp_anim", {"quality": "75", "compression_level": "2"}, {"loop": "0"})
_BT709 = 1  # AVCOL_SPC_BT709, AVCOL_PRI_BT709 and AVCOL_TRC_BT709 share the value
_LIMITED_RANGE = 1  # AVCOL_RANGE_MPEG: 16-235, what every player expects
_MIME = {"mp4": "video/mp4", "webm": "video/webm", "webp": "image/webp"}


class VideoSink:
    def __init__(
        self,
        fmt: str,
        path: Path,
        size: Size,
        codec: Codec,
        *,
        duration: float,
        keep_alpha: bool = False,
    ) -> None:
        container_format, codec_name, options, container_options = codec
        self.fmt, self.path, self.size, self.duration = fmt, path, size, duration
        self._mime = _MIME[container_format]
        self._keep_alpha = keep_alpha
        self._pix_fmt = "yuva420p" if keep_alpha else "yuv420p"
        self._container: OutputContainer = av.open(
            str(path), "w", format=container_format, options=container_options
        )
        self._stream: VideoStream = self._container.add_stream(codec_name, options=options)  # type: ignore[assignment]
        self._stream.width, self._stream.height = size
        self._stream.pix_fmt = self._pix_fmt
        self._stream.time_base = MILLISECONDS
        self._stream.codec_context.time_base = MILLISECONDS
        # Players read untagged video of 720 lines or more as BT.709 and smaller as
        # BT.601; converting to BT.709 and saying so looks the same in all of them.
        # WebP's VP8 is always BT.601, FFmpeg's default.
        self._colorspace = "ITU601" if container_format == "webp" else "ITU709"
        if container_format != "webp":
            context = self._stream.codec_context
            context.colorspace = context.color_primaries = context.color_trc = _BT709
            context.color_range = _LIMITED_RANGE
        self._durations: dict[int, int] = {}
        self._closed = False

    def add(self, frame: FrameView) -> None:
        image = frame.at(self.size) if self._keep_alpha else frame.opaque(self.size)
        packed = np.asarray(image)  # RGB or RGBA, what `from_ndarray` takes without a copy
        source_format = "rgba" if image.mode == "RGBA" else "rgb24"
        encoded = av.VideoFrame.from_ndarray(packed, format=source_format).reformat(
            format=self._pix_fmt, dst_colorspace=self._colorspace, dst_color_range="MPEG"
        )
        encoded.pts, encoded.time_base = frame.start_ms, MILLISECONDS
        self._durations[frame.start_ms] = frame.duration_ms
        self._mux(self._stream.encode(encoded))

    def _mux(self, packets: list[av.Packet[VideoStream]]) -> None:
        for packet in packets:
            if packet.pts is not None:
                packet.duration = self._durations.pop(packet.pts, 0)
            self._container.mux(packet)

    def finish(self) -> EncodedRendition:
        self._mux(self._stream.encode(None))
        self.close()
        if self._mime == "image/webp":
            _fix_last_webp_duration(self.path, round(self.duration * 1000))
        return EncodedRendition.of_file(self.fmt, self.path, self._mime, self.size, self.duration)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._container.close()


def _fix_last_webp_duration(path: Path, total_ms: int) -> None:
    """Give the last ANMF frame the rest of the loop.

    FFmpeg's libwebp_anim wrapper ends the animation one average frame after the
    last timestamp, ignoring the frame's own duration (a 24-frame GIF of 60-80 ms
    delays lost 11 ms). The WebP layout is simple RIFF: each ANMF payload holds its
    duration as 24 bits at offset 12, so the fix is three bytes.
    """
    data = bytearray(path.read_bytes())
    offset, last, elapsed = 12, None, 0  # after "RIFF" <size> "WEBP"
    while offset + 8 <= len(data):
        fourcc, length = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if fourcc == b"ANMF":
            last = offset + 8
            elapsed += int.from_bytes(data[last + 12 : last + 15], "little")
        offset += 8 + length + (length & 1)
    if last is None:
        return
    current = int.from_bytes(data[last + 12 : last + 15], "little")
    wanted = total_ms - (elapsed - current)
    if wanted > 0 and wanted != current:
        data[last + 12 : last + 15] = min(wanted, 0xFFFFFF).to_bytes(3, "little")
        path.write_bytes(bytes(data))
