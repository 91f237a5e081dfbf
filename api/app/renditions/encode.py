"""Make every rendition of one original: pure and synchronous (run it in a thread).

    results = make_renditions(Path("original.gif"), workdir)
    [(r.format, r.mime_type, r.width, r.height, r.size_bytes) for r in results]

The source is decoded twice: once to count frames, time them, see whether any
pixel is transparent and sample a GIF palette (`source.analyse`), then once
more while every encoder is fed each frame in turn. Frames are never
collected, so memory stays at a frame or two plus what the encoders buffer,
whatever the animation's length; the outputs are files in `workdir`.

Sizes (never upscaled; the aspect is kept):

    preview, webp, mp4, webm   fit 1280 x 1280 (videos: even sides)
    gif, mediumgif             the original when it is a GIF (mediumgif: same
                               size), else fit 640 x 640
    tinygif  at most 220 wide        nanogif  at most 90 tall
    tinymp4, tinywebm  fit 320 x 320 nanomp4  fits 150 x 150

A still gets the still formats only (`STILL_FORMATS`): no video, and its GIF
and WebP renditions are one frame. When the source is a GIF, `gif` is the
original file; when it is a WebP, so is `webp`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import av
from PIL import Image

from app.imaging.errors import ImagingError
from app.imaging.sizing import Size, fit
from app.renditions.encoded import EncodedRendition, RenditionError, Sink
from app.renditions.formats import FORMATS, STILL_FORMATS
from app.renditions.gifs import GifSink, make_palette
from app.renditions.sizing import FrameView, fit_even
from app.renditions.source import Frame, SourceInfo, analyse, frames
from app.renditions.stills import StillSink
from app.renditions.videos import MP4, WEBM, WEBP, VideoSink

FULL_BOX: Size = (1280, 1280)
GIF_BOX: Size = (640, 640)
TINYGIF_BOX: Size = (220, 1280)
NANOGIF_BOX: Size = (1280, 90)
TINY_VIDEO_BOX: Size = (320, 320)
NANO_VIDEO_BOX: Size = (150, 150)
# mediumgif: a quarter of the colours, no dithering (dither noise defeats LZW and
# the frame-difference cropping) and at most ~14 frames a second. Measured on a
# noisy 24-frame 480x270 GIF: 880 KB for the full-palette GIF, 470 KB.
MEDIUM_COLOURS = 64
MEDIUM_MIN_INTERVAL_CS = 7
FULL_MIN_INTERVAL_CS = 2  # 10 ms or less plays as 100 ms in browsers


def make_renditions(
    source: Path, workdir: Path, timings: dict[str, float] | None = None
) -> list[EncodedRendition]:
    """Every rendition of `source`, as files in `workdir`, in `FORMATS` order.

    `timings`, when given, is filled with seconds spent per format ("decode":
    reading the source twice and resizing). Raises `RenditionError`; other
    exceptions (a full disk) are the caller's.
    """
    clock = timings if timings is not None else {}
    try:
        started = time.perf_counter()
        info = analyse(source)
        clock["decode"] = clock.get("decode", 0.0) + time.perf_counter() - started
        return _encode(source, info, workdir, clock)
    except ImagingError as exc:
        raise RenditionError(exc.message) from exc
    except (av.FFmpegError, ValueError) as exc:
        raise RenditionError(f"An encoder failed: {exc}") from exc


def _copy(fmt: str, source: Path, info: SourceInfo) -> EncodedRendition:
    size = (info.width, info.height)
    return EncodedRendition.of_file(fmt, source, info.mime_type, size, info.duration_ms / 1000)


def _gif_sinks(sinks: dict[str, Sink], info: SourceInfo, workdir: Path, skip: set[str]) -> None:
    size = (info.width, info.height)
    gif_size = size if info.mime_type == "image/gif" else fit(size, GIF_BOX)
    full = make_palette(info.sample, 256, info.has_alpha)
    medium = make_palette(info.sample, MEDIUM_COLOURS, info.has_alpha)

    def sink(fmt: str, box_size: Size, palette: Image.Image, dither: bool, gap: int) -> GifSink:
        return GifSink(
            fmt,
            workdir / f"{fmt}.gif",
            box_size,
            palette,
            has_alpha=info.has_alpha,
            animated=info.animated,
            dither=dither,
            min_interval_cs=gap,
            duration=info.duration_ms / 1000,
        )

    if "gif" not in skip:
        sinks["gif"] = sink("gif", gif_size, full, True, FULL_MIN_INTERVAL_CS)
    sinks["mediumgif"] = sink("mediumgif", gif_size, medium, False, MEDIUM_MIN_INTERVAL_CS)
    sinks["tinygif"] = sink("tinygif", fit(size, TINYGIF_BOX), full, False, FULL_MIN_INTERVAL_CS)
    sinks["nanogif"] = sink("nanogif", fit(size, NANOGIF_BOX), full, False, FULL_MIN_INTERVAL_CS)


def _video_sinks(sinks: dict[str, Sink], info: SourceInfo, workdir: Path, skip: set[str]) -> None:
    size, duration = (info.width, info.height), info.duration_ms / 1000
    if "webp" not in skip:
        path = workdir / "webp.webp"
        webp_size = fit(size, FULL_BOX)
        sinks["webp"] = VideoSink(
            "webp", path, webp_size, WEBP, duration=duration, keep_alpha=info.has_alpha
        )
    for fmt, box, codec in (
        ("mp4", FULL_BOX, MP4),
        ("tinymp4", TINY_VIDEO_BOX, MP4),
        ("nanomp4", NANO_VIDEO_BOX, MP4),
        ("webm", FULL_BOX, WEBM),
        ("tinywebm", TINY_VIDEO_BOX, WEBM),
    ):
        path = workdir / f"{fmt}.{codec[0]}"
        sinks[fmt] = VideoSink(fmt, path, fit_even(size, box), codec, duration=duration)


def _encode(
    source: Path, info: SourceInfo, workdir: Path, clock: dict[str, float]
) -> list[EncodedRendition]:
    copies: dict[str, EncodedRendition] = {}
    if info.mime_type == "image/gif":
        copies["gif"] = _copy("gif", source, info)
    if info.mime_type == "image/webp":
        copies["webp"] = _copy("webp", source, info)
    sinks: dict[str, Sink] = {}
    with ExitStack() as cleanup:
        cleanup.callback(_close_all, sinks)  # every encoder opened so far, on any failure
        _open_sinks(sinks, info, workdir, skip=set(copies))
        _feed(frames(source, info), sinks, clock)
        made = {}
        for fmt, sink in sinks.items():
            started = time.perf_counter()
            made[fmt] = sink.finish()
            clock[fmt] += time.perf_counter() - started
    made.update(copies)
    made["mediumgif"] = _no_bigger(made["mediumgif"], made["gif"])
    wanted = FORMATS if info.animated else STILL_FORMATS
    return [made[fmt] for fmt in wanted]


def _open_sinks(sinks: dict[str, Sink], info: SourceInfo, workdir: Path, skip: set[str]) -> None:
    full = fit((info.width, info.height), FULL_BOX)
    sinks["preview"] = StillSink("preview", workdir / "preview", full)
    _gif_sinks(sinks, info, workdir, skip)
    if info.animated:
        _video_sinks(sinks, info, workdir, skip)
    elif "webp" not in skip:
        sinks["webp"] = StillSink("webp", workdir / "webp", full, webp=True)


def _feed(decoding: Iterator[Frame], sinks: dict[str, Sink], clock: dict[str, float]) -> None:
    """Hand each frame to every encoder, then let it go (and time who spent what)."""
    for fmt in sinks:
        clock.setdefault(fmt, 0.0)
    while True:
        started = time.perf_counter()
        frame = next(decoding, None)
        clock["decode"] += time.perf_counter() - started
        if frame is None:
            return
        view = FrameView(frame)
        for fmt, sink in sinks.items():
            started = time.perf_counter()
            sink.add(view)
            clock[fmt] += time.perf_counter() - started


def _close_all(sinks: dict[str, Sink]) -> None:
    for sink in sinks.values():
        sink.close()


def _no_bigger(medium: EncodedRendition, gif: EncodedRendition) -> EncodedRendition:
    """A well-optimised GIF can beat our re-encoding: then mediumgif is the gif itself."""
    same_size = (medium.width, medium.height) == (gif.width, gif.height)
    if same_size and medium.size_bytes >= gif.size_bytes:
        return dataclasses.replace(gif, format="mediumgif")
    return medium
