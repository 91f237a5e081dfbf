"""The rendition encoders on generated GIF, PNG, JPEG and WebP files (no services)."""

from __future__ import annotations

import gc
import random
import weakref
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PIL import Image

from app.imaging.probe import probe_image
from app.imaging.sizing import fit
from app.renditions import encode as encode_module
from app.renditions.encode import make_renditions
from app.renditions.encoded import EncodedRendition, RenditionError
from app.renditions.formats import EXTENSIONS, FORMATS, STILL_FORMATS
from app.renditions.sizing import fit_even
from app.renditions.source import Frame, SourceInfo

# Declared delays: 0 ms plays as 100 ms in browsers, as in the original.
DELAYS = (100, 40, 0, 250, 60)
SHOWN_MS = 100 + 40 + 100 + 250 + 60


def _frames(size: tuple[int, int], count: int, mode: str = "RGB") -> list[Image.Image]:
    rng = random.Random(size[0] * 31 + count)
    frames = []
    for index in range(count):
        background = (255, 255, 255, 0) if mode == "RGBA" else (20, 60, 120)
        frame = Image.new(mode, size, background)
        # Noise in a band, and a square that moves: frames differ, colours are many.
        band = Image.frombytes(
            "RGB", (size[0], size[1] // 3), rng.randbytes(size[0] * (size[1] // 3) * 3)
        )
        frame.paste(band.convert(mode), (0, size[1] // 3))
        frame.paste(
            (250, 200, 20) + ((255,) if mode == "RGBA" else ()), (index * 7, 4, index * 7 + 16, 20)
        )
        frames.append(frame)
    return frames


def _write(
    tmp_path: Path, name: str, frames: list[Image.Image], fmt: str, **params: object
) -> Path:
    path = tmp_path / name
    if len(frames) > 1:
        params = {"save_all": True, "append_images": frames[1:], "loop": 0, **params}
    frames[0].save(path, fmt, **params)
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def _by_format(results: list[EncodedRendition]) -> dict[str, EncodedRendition]:
    return {result.format: result for result in results}


def _gif_delays(path: Path) -> list[int]:
    with Image.open(path) as image:
        delays = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            delays.append(int(image.info.get("duration", 0)))
        return delays


def _webp_frames(path: Path) -> tuple[int, int, int | None]:
    """(frames, total duration in ms, loop count)."""
    with Image.open(path) as image:
        total = 0
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
            total += int(image.info.get("duration", 0))
        return getattr(image, "n_frames", 1), total, image.info.get("loop")


def _video(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [frame.pts for frame in container.decode(stream)]
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "frames": len(pts),
            "pts_ms": [round(float(p * stream.time_base) * 1000) for p in pts if p is not None],
            "duration": (container.duration or 0) / 1_000_000,
            "audio": len(container.streams.audio),
        }


def test_an_animated_gif_gets_every_format_with_its_timing(tmp_path: Path, workdir: Path) -> None:
    source = _write(tmp_path, "a.gif", _frames((301, 201), 5), "GIF", duration=list(DELAYS))
    results = make_renditions(source, workdir)
    assert [result.format for result in results] == list(FORMATS)
    made = _by_format(results)
    for result in results:
        assert result.path.stat().st_size == result.size_bytes > 0
        assert result.path.suffix == "." + EXTENSIONS[result.mime_type]
        expected = 0 if result.format == "preview" else SHOWN_MS / 1000
        assert result.duration == pytest.approx(expected), result.format
    assert made["gif"].path == source  # the original itself
    assert (made["mediumgif"].width, made["mediumgif"].height) == (301, 201)
    assert made["mediumgif"].size_bytes < made["gif"].size_bytes
    assert made["tinygif"].width == 220
    assert made["nanogif"].height == 90
    for fmt in ("tinygif", "nanogif"):
        assert sum(_gif_delays(made[fmt].path)) == SHOWN_MS
        assert _gif_delays(made[fmt].path) == [100, 40, 100, 250, 60]
    assert sum(_gif_delays(made["mediumgif"].path)) == SHOWN_MS
    assert _webp_frames(made["webp"].path) == (5, SHOWN_MS, 0)
    with Image.open(made["preview"].path) as preview:
        assert (preview.format, preview.size) == ("JPEG", (301, 201))


def test_videos_are_h264_and_vp9_yuv420p_even_silent_and_timed(
    tmp_path: Path, workdir: Path
) -> None:
    source = _write(tmp_path, "a.gif", _frames((301, 201), 5), "GIF", duration=list(DELAYS))
    made = _by_format(make_renditions(source, workdir))
    expected = {
        "mp4": ("h264", (300, 200)),
        "tinymp4": ("h264", (300, 200)),  # already fits 320 x 320
        "nanomp4": ("h264", (150, 100)),
        "webm": ("vp9", (300, 200)),
        "tinywebm": ("vp9", (300, 200)),
    }
    for fmt, (codec, size) in expected.items():
        video = _video(made[fmt].path)
        assert video["codec"] == codec, fmt
        assert video["pix_fmt"] == "yuv420p", fmt
        assert video["size"] == size == (made[fmt].width, made[fmt].height), fmt
        assert video["audio"] == 0
        assert video["frames"] == 5, fmt
        assert video["pts_ms"] == [0, 100, 140, 240, 490], fmt  # the GIF's own timing
        assert video["duration"] == pytest.approx(SHOWN_MS / 1000, abs=0.011), fmt
    mp4 = made["mp4"].path.read_bytes()
    assert mp4.index(b"moov") < mp4.index(b"mdat")  # faststart: playable while downloading


@pytest.mark.parametrize(
    ("name", "fmt", "mode", "preview"),
    [
        ("still.png", "PNG", "RGB", "JPEG"),
        ("still.jpg", "JPEG", "RGB", "JPEG"),
        ("sticker.png", "PNG", "RGBA", "PNG"),
        ("still.webp", "WEBP", "RGB", "JPEG"),
    ],
)
def test_a_still_gets_still_formats_only(
    tmp_path: Path, workdir: Path, name: str, fmt: str, mode: str, preview: str
) -> None:
    source = _write(tmp_path, name, _frames((1000, 500), 1, mode), fmt)
    results = make_renditions(source, workdir)
    assert [result.format for result in results] == list(STILL_FORMATS)
    made = _by_format(results)
    assert all(result.duration == 0 for result in results)
    assert (made["gif"].width, made["gif"].height) == (640, 320)
    assert (made["tinygif"].width, made["tinygif"].height) == (220, 110)
    assert (made["nanogif"].width, made["nanogif"].height) == (180, 90)
    for gif in ("gif", "mediumgif", "tinygif", "nanogif"):
        with Image.open(made[gif].path) as image:
            assert image.format == "GIF"
            assert getattr(image, "n_frames", 1) == 1
    with Image.open(made["webp"].path) as webp:
        assert webp.format == "WEBP"
        assert not getattr(webp, "is_animated", False)
    with Image.open(made["preview"].path) as still:
        assert still.format == preview
        assert still.size == (1000, 500)
    if fmt == "WEBP":
        assert made["webp"].path == source


def test_transparency_survives_in_gif_webp_and_png_preview(tmp_path: Path, workdir: Path) -> None:
    frames = _frames((120, 90), 3, "RGBA")
    source = _write(tmp_path, "sticker.webp", frames, "WEBP", duration=80, lossless=True)
    made = _by_format(make_renditions(source, workdir))
    assert made["webp"].path == source
    with Image.open(made["gif"].path) as gif:
        assert gif.convert("RGBA").getpixel((60, 5))[3] == 0  # type: ignore[index]
    with Image.open(made["preview"].path) as preview:
        assert preview.format == "PNG"
        assert preview.getpixel((60, 5))[3] == 0  # type: ignore[index]
    # Video has no alpha: the transparent background is laid on white.
    with av.open(str(made["mp4"].path)) as container:
        first = next(container.decode(video=0)).to_image()
    assert min(first.getpixel((60, 5))) > 230  # type: ignore[arg-type]


def test_an_animated_png_and_webp_get_gif_renditions(tmp_path: Path, workdir: Path) -> None:
    frames = _frames((200, 100), 4)
    for name, fmt in (("a.png", "PNG"), ("a.webp", "WEBP")):
        source = _write(tmp_path, name, frames, fmt, duration=[50, 50, 200, 100])
        made = _by_format(make_renditions(source, workdir))
        assert _gif_delays(made["gif"].path) == [50, 50, 200, 100]
        assert made["gif"].path != source
        assert (made["gif"].width, made["gif"].height) == (200, 100)
        assert made["mediumgif"].size_bytes < made["gif"].size_bytes


def test_a_huge_side_is_bounded(tmp_path: Path, workdir: Path) -> None:
    source = _write(tmp_path, "wide.gif", _frames((3000, 60), 2), "GIF", duration=100)
    made = _by_format(make_renditions(source, workdir))
    assert (made["mp4"].width, made["mp4"].height) == (1280, 26)
    assert (made["nanomp4"].width, made["nanomp4"].height) == (150, 2)
    assert (made["webp"].width, made["webp"].height) == (1280, 26)
    assert made["preview"].width == 1280


@pytest.mark.parametrize(
    "data",
    [b"GIF89a" + b"\x00garbage" * 20, b"not an image at all", b""],
)
def test_a_corrupt_source_raises_a_rendition_error(
    tmp_path: Path, workdir: Path, data: bytes
) -> None:
    source = tmp_path / "broken.gif"
    source.write_bytes(data)
    with pytest.raises(RenditionError):
        make_renditions(source, workdir)


@pytest.mark.parametrize(
    ("size", "box", "fitted", "even"),
    [
        ((301, 201), (320, 320), (301, 201), (300, 200)),
        ((1000, 500), (150, 150), (150, 75), (150, 74)),
        ((1, 30000), (1280, 1280), (1, 1280), (2, 1280)),
        ((50, 40), (1280, 1280), (50, 40), (50, 40)),  # never upscaled
    ],
)
def test_fit(
    size: tuple[int, int], box: tuple[int, int], fitted: tuple[int, int], even: tuple[int, int]
) -> None:
    assert fit(size, box) == fitted
    assert fit_even(size, box) == even


def test_the_timing_clock_names_every_format(tmp_path: Path, workdir: Path) -> None:
    source = _write(tmp_path, "a.gif", _frames((64, 48), 3), "GIF", duration=100)
    timings: dict[str, float] = {}
    make_renditions(source, workdir, timings)
    assert set(timings) == {"decode", *FORMATS} - {"gif"}  # gif is the original: no work


def test_encoders_do_not_keep_decoded_frames(
    tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames are streamed: each is released once every encoder has had it."""
    source = _write(tmp_path, "a.gif", _frames((96, 64), 6), "GIF", duration=100)
    seen: list[weakref.ref[Image.Image]] = []
    decode = encode_module.frames

    def watched(path: Path, info: SourceInfo) -> Iterator[Frame]:
        for frame in decode(path, info):
            seen.append(weakref.ref(frame.image))
            yield frame

    monkeypatch.setattr(encode_module, "frames", watched)
    make_renditions(source, workdir)
    gc.collect()
    assert len(seen) == 6
    assert [ref() for ref in seen] == [None] * 6


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize(
    "name",
    sorted(
        path.name for path in SAMPLES.iterdir() if path.suffix in {".gif", ".png", ".jpg", ".webp"}
    ),
)
# Pillow warns about corrupt_exif.jpg's EXIF and carries on, as it does in production.
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
def test_every_sample_agrees_with_the_upload_probe(name: str, workdir: Path) -> None:
    """Still or animated, size and duration: as the upload recorded them (imaging/probe.py)."""
    probe = probe_image(SAMPLES / name)
    made = _by_format(make_renditions(SAMPLES / name, workdir))
    expected = FORMATS if probe.frame_count > 1 else STILL_FORMATS
    assert list(made) == list(expected)
    assert (made["preview"].width, made["preview"].height) == fit(
        (probe.width, probe.height), (1280, 1280)
    )
    assert made["mediumgif"].duration == pytest.approx(probe.duration_ms / 1000)
