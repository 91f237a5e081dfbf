from __future__ import annotations

import shutil
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image

from app.imaging.errors import ImageTooComplex, ImagingError, InvalidImage, UnsupportedImageType
from app.imaging.probe import ImageLimits, ProbeResult, probe_image, sniff_mime
from app.imaging.thumbnails import make_thumbnail

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
HOSTILE = SAMPLES / "hostile"


def _png(width: int, height: int) -> bytes:
    """A PNG header declaring width x height, with a token IDAT: a bomb's first bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("still.gif", ProbeResult("image/gif", "gif", 48, 32, 1, 0)),
        # Declared 100, 20, 10, 0 (no delay) and 250 ms: browsers play 10 ms and 0 ms as 100.
        ("animated.gif", ProbeResult("image/gif", "gif", 48, 32, 5, 570)),
        ("still.png", ProbeResult("image/png", "png", 40, 30, 1, 0)),
        ("animated.png", ProbeResult("image/png", "png", 40, 30, 3, 300)),
        # The IDAT fallback image is not part of the animation browsers play.
        ("apng_fallback.png", ProbeResult("image/png", "png", 40, 30, 2, 200)),
        # Stored 40 x 20; EXIF orientation 6 shows it 20 x 40, and that is what is reported.
        ("orientation6_gps.jpg", ProbeResult("image/jpeg", "jpg", 20, 40, 1, 0)),
        ("cmyk.jpg", ProbeResult("image/jpeg", "jpg", 40, 30, 1, 0)),
        ("still.webp", ProbeResult("image/webp", "webp", 40, 30, 1, 0)),
        ("animated.webp", ProbeResult("image/webp", "webp", 40, 30, 3, 600)),
        ("rgba.png", ProbeResult("image/png", "png", 40, 30, 1, 0)),
        ("palette_transparent.png", ProbeResult("image/png", "png", 40, 30, 1, 0)),
        ("gray16.png", ProbeResult("image/png", "png", 64, 8, 1, 0)),
        ("la.png", ProbeResult("image/png", "png", 40, 30, 1, 0)),
        ("bilevel.png", ProbeResult("image/png", "png", 40, 30, 1, 0)),
        ("strip_1x30000.png", ProbeResult("image/png", "png", 1, 30_000, 1, 0)),
    ],
)
def test_probe_reports_type_size_frames_and_duration(name: str, expected: ProbeResult) -> None:
    assert probe_image(SAMPLES / name) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
        (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\0\0\0WAVEfmt ", None),
        (b"GIF90a", None),
        (b"\x89PNG\r\n", None),
        (b"\xff\xd8", None),
        (b"<svg xmlns=", None),
        (b"BM6\0\0\0", None),
        (b"", None),
    ],
)
def test_sniff_mime_reads_magic_bytes_only(head: bytes, expected: str | None) -> None:
    assert sniff_mime(head) == expected


def test_type_comes_from_bytes_not_the_file_name(tmp_path: Path) -> None:
    jpeg_named_png = tmp_path / "funny.png"
    shutil.copy(SAMPLES / "orientation6_gps.jpg", jpeg_named_png)
    assert probe_image(jpeg_named_png).mime_type == "image/jpeg"
    assert probe_image(jpeg_named_png).extension == "jpg"

    svg_named_gif = tmp_path / "funny.gif"
    shutil.copy(HOSTILE / "image.svg", svg_named_gif)
    with pytest.raises(UnsupportedImageType):
        probe_image(svg_named_gif)


@pytest.mark.parametrize(
    "name",
    [
        "image.svg",
        "page.html",
        "document.pdf",
        "image.bmp",
        "image.tiff",
        "icon.ico",
        "archive.zip",
        "random.bin",
    ],
)
def test_other_file_types_are_unsupported(name: str) -> None:
    with pytest.raises(UnsupportedImageType) as caught:
        probe_image(HOSTILE / name)
    assert caught.value.message == "Only GIF, PNG, JPEG and WebP images are accepted."


def test_empty_file_is_invalid() -> None:
    with pytest.raises(InvalidImage) as caught:
        probe_image(HOSTILE / "empty.gif")
    assert caught.value.message == "The file is empty."


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("truncated.png", "PNG"),
        ("truncated.jpg", "JPEG"),
        ("truncated.gif", "GIF"),
        ("corrupt_header.png", "PNG"),
    ],
)
def test_corrupt_or_truncated_images_are_invalid(name: str, kind: str) -> None:
    with pytest.raises(InvalidImage) as caught:
        probe_image(HOSTILE / name)
    assert caught.value.message == f"The file is not a valid {kind} image (corrupt or truncated)."


def test_magic_bytes_followed_by_garbage_are_invalid(tmp_path: Path) -> None:
    for head in (b"GIF89a", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBP"):
        path = tmp_path / "fake"
        path.write_bytes(head + b"<html><script>alert(1)</script></html>" * 4)
        with pytest.raises(InvalidImage):
            probe_image(path)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
def test_broken_exif_does_not_stop_an_upload() -> None:
    # As in production, where Pillow's metadata warnings are printed, not raised.
    # Pillow reads the entries it can (orientation 6 comes first) and warns about the rest.
    result = probe_image(SAMPLES / "corrupt_exif.jpg")
    assert (result.mime_type, result.width, result.height) == ("image/jpeg", 20, 40)


def test_pillow_warnings_escalated_to_errors_become_invalid_image() -> None:
    # Under `-W error` (and pytest's filterwarnings = error) nothing escapes as a raw warning.
    with pytest.raises(InvalidImage):
        probe_image(SAMPLES / "corrupt_exif.jpg")


def _damage_last_frame(name: str, data: bytes) -> bytes:
    if name.endswith(".webp"):
        # libwebp refuses a truncated RIFF outright, so flip a byte of the last frame's bitstream.
        damaged = bytearray(data)
        damaged[data.rfind(b"VP8L") + 13] ^= 0xFF
        return bytes(damaged)
    return data[: len(data) - 24]  # inside the last frame's pixel data


@pytest.mark.parametrize("name", ["animated.gif", "animated.png", "animated.webp"])
def test_a_broken_last_frame_is_caught(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(_damage_last_frame(name, (SAMPLES / name).read_bytes()))
    make_thumbnail(path)  # the first frame is intact: only decoding every frame notices
    with pytest.raises(InvalidImage):
        probe_image(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "declares_20000x20000.png",
            "The image declares more pixels than can be processed safely.",
        ),
        (
            "declares_65535x65535.gif",
            "The image declares more pixels than can be processed safely.",
        ),
        (
            "declares_8000x6000.png",
            "The image is 8,000 x 6,000 pixels, more than the limit of 40,000,000 pixels.",
        ),
        ("frames_1500.gif", "The animation has 1,500 frames, more than the limit of 1,000."),
        (
            "declares_1000000_frames.png",
            "The animation has 1,000,000 frames, more than the limit of 1,000.",
        ),
    ],
)
def test_decompression_bombs_are_too_complex(name: str, message: str) -> None:
    with pytest.raises(ImageTooComplex) as caught:
        probe_image(HOSTILE / name)
    assert caught.value.message == message


def test_a_side_over_30000_pixels_is_too_complex(tmp_path: Path) -> None:
    path = tmp_path / "strip.png"
    Image.new("L", (1, 30_001)).save(path)
    with pytest.raises(ImageTooComplex) as caught:
        probe_image(path)
    assert "neither side may be longer than 30,000" in caught.value.message


def test_limits_are_configurable() -> None:
    animated = SAMPLES / "animated.gif"  # 5 frames of 48 x 32
    with pytest.raises(ImageTooComplex, match="5 frames, more than the limit of 4"):
        probe_image(animated, ImageLimits(max_frames=4))
    with pytest.raises(ImageTooComplex, match="more than the limit of 7,679 pixels in all"):
        probe_image(animated, ImageLimits(max_total_pixels=48 * 32 * 5 - 1))
    with pytest.raises(ImageTooComplex, match="more than the limit of 1,535 pixels"):
        probe_image(animated, ImageLimits(max_pixels=48 * 32 - 1))
    with pytest.raises(ImageTooComplex, match="longer than 47"):
        probe_image(animated, ImageLimits(max_side=47))
    assert probe_image(animated, ImageLimits(max_frames=5, max_total_pixels=48 * 32 * 5))
    # The frame limit counts frames a browser plays, not an APNG's fallback image.
    assert probe_image(SAMPLES / "apng_fallback.png", ImageLimits(max_frames=2)).frame_count == 2


def test_gif_frame_stretching_the_canvas_past_the_limits_is_too_complex(tmp_path: Path) -> None:
    # 100 x 100 screen; the second frame's descriptor places a 30,001-pixel-wide image.
    screen = b"GIF89a" + struct.pack("<HHBBB", 100, 100, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    small = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    wide = b"," + struct.pack("<HHHHB", 0, 0, 30_001, 1, 0) + b"\x02\x02\x44\x01\x00"
    path = tmp_path / "stretch.gif"
    path.write_bytes(screen + small + wide + b";")
    with pytest.raises(ImageTooComplex, match="30,001 x 100 pixels"):
        probe_image(path)


def test_pillow_bomb_limit_applies_even_when_ours_is_higher(tmp_path: Path) -> None:
    # 10,000 x 9,000 is over Pillow's 89,478,485-pixel warning threshold: refused, not warned.
    path = tmp_path / "big.png"
    path.write_bytes(_png(10_000, 9_000))
    with pytest.raises(ImageTooComplex):
        probe_image(path, ImageLimits(max_pixels=100_000_000))


def test_probing_a_bomb_leaves_global_state_alone() -> None:
    filters_before = list(warnings.filters)
    pixels_before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageTooComplex):
        probe_image(HOSTILE / "declares_20000x20000.png")
    assert warnings.filters == filters_before
    assert pixels_before == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    "path",
    sorted(HOSTILE.iterdir()),
    ids=lambda p: p.name,
)
def test_every_hostile_sample_is_refused_with_a_readable_sentence(path: Path) -> None:
    with pytest.raises(ImagingError) as caught:
        probe_image(path)
    message = caught.value.message
    assert message.endswith(".")
    assert message[0].isupper()
    assert str(SAMPLES) not in message  # no paths or Pillow internals leak to the user
