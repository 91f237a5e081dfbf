from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from app.imaging.errors import ImageTooComplex, InvalidImage, UnsupportedImageType
from app.imaging.probe import probe_image
from app.imaging.sizing import fit
from app.imaging.thumbnails import make_thumbnail

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
HOSTILE = SAMPLES / "hostile"

RED = (220, 20, 30)
BLUE = (30, 40, 200)


def _open_webp(data: bytes) -> Image.Image:
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    im = Image.open(io.BytesIO(data), formats=["WEBP"])
    im.load()
    return im


def _thumb(name: str, max_side: int = 320) -> Image.Image:
    return _open_webp(make_thumbnail(SAMPLES / name, max_side))


def _pixel(im: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = im.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def _grey(im: Image.Image, xy: tuple[int, int]) -> int:
    value = im.convert("L").getpixel(xy)
    assert isinstance(value, int)
    return value


def _near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    # Lossy WebP shifts colours a little; the samples' colours are far apart.
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("still.gif", (48, 32)),
        ("animated.gif", (48, 32)),
        ("still.png", (40, 30)),
        ("animated.png", (40, 30)),
        ("apng_fallback.png", (40, 30)),
        ("still.webp", (40, 30)),
        ("animated.webp", (40, 30)),
        ("cmyk.jpg", (40, 30)),
        ("rgba.png", (40, 30)),
        ("palette_transparent.png", (40, 30)),
        ("gray16.png", (64, 8)),
        ("la.png", (40, 30)),
        ("bilevel.png", (40, 30)),
        ("noise.jpg", (64, 64)),
        ("strip_1x30000.png", (1, 320)),
        ("orientation6_gps.jpg", (20, 40)),
    ],
)
def test_thumbnail_is_webp_and_small_images_are_never_upscaled(
    name: str, size: tuple[int, int]
) -> None:
    assert _thumb(name).size == size


def test_large_images_shrink_to_320_keeping_the_aspect(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (1000, 500), RED).save(path)
    assert _open_webp(make_thumbnail(path)).size == (320, 160)
    assert _open_webp(make_thumbnail(path, max_side=64)).size == (64, 32)


def test_large_jpeg_shrinks_with_orientation_applied(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise to display
    Image.new("RGB", (4000, 3000), BLUE).save(path, exif=exif)
    assert _open_webp(make_thumbnail(path)).size == (240, 320)


def test_exif_orientation_is_applied() -> None:
    # Stored 40 x 20 with red on the left; orientation 6 shows it 20 x 40 with red on top.
    thumb = _thumb("orientation6_gps.jpg").convert("RGB")
    assert thumb.size == (20, 40)
    assert _near(_pixel(thumb, (10, 5)), RED)
    assert _near(_pixel(thumb, (10, 34)), BLUE)


def test_orientation_is_honoured_for_jpeg_exif_only(tmp_path: Path) -> None:
    # Browsers agree only on JPEG EXIF; sanitize drops PNG eXIf, and nobody reads XMP's.
    exif = Image.Exif()
    exif[0x0112] = 6
    png = tmp_path / "exif.png"
    Image.new("RGB", (40, 20), RED).save(png, exif=exif)
    xmp = tmp_path / "xmp.jpg"
    Image.new("RGB", (40, 20), RED).save(
        xmp, xmp=b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    )
    for path in (png, xmp):
        assert probe_image(path).width == 40
        assert _open_webp(make_thumbnail(path)).size == (40, 20)


@pytest.mark.parametrize("name", ["animated.gif", "animated.png", "animated.webp"])
def test_animation_thumbnail_shows_the_first_frame(name: str) -> None:
    thumb = _thumb(name).convert("RGB")
    assert _near(_pixel(thumb, (thumb.width // 2, thumb.height - 4)), RED)


def test_apng_thumbnail_skips_the_fallback_image_browsers_never_show() -> None:
    thumb = _thumb("apng_fallback.png").convert("RGB")  # fallback grey, then red, then blue
    assert _near(_pixel(thumb, (20, 25)), RED)


def test_thumbnail_carries_no_metadata() -> None:
    data = make_thumbnail(SAMPLES / "orientation6_gps.jpg")
    for chunk in (b"EXIF", b"XMP ", b"ICCP"):
        assert chunk not in data
    assert b"ReactbinCam" not in data
    thumb = _open_webp(data)
    assert not thumb.getexif()
    assert "exif" not in thumb.info
    assert "icc_profile" not in thumb.info


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
def test_broken_exif_still_gets_an_upright_thumbnail() -> None:
    # Pillow reads the entries it can (orientation 6 comes first) and warns about the rest.
    assert _thumb("corrupt_exif.jpg").size == (20, 40)


def test_transparency_is_kept() -> None:
    thumb = _thumb("palette_transparent.png")
    assert thumb.mode == "RGBA"
    assert _pixel(thumb, (2, 2))[3] == 0
    assert _pixel(thumb, (20, 15))[3] == 255
    assert _near(_pixel(thumb, (20, 15))[:3], RED)


def test_16_bit_grey_keeps_its_tones() -> None:
    # Pillow's own I;16 -> 8-bit conversion would turn everything above 255/65535 white.
    thumb = _thumb("gray16.png")
    left, middle, right = (_grey(thumb, (x, 4)) for x in (1, 32, 62))
    assert left < 30
    assert 100 < middle < 160
    assert right > 220


def test_cmyk_and_bilevel_render_in_colour_space_browsers_show() -> None:
    assert _near(_pixel(_thumb("cmyk.jpg").convert("RGB"), (20, 25)), RED)
    bilevel = _thumb("bilevel.png")
    assert _grey(bilevel, (5, 15)) > 220
    assert _grey(bilevel, (35, 15)) < 35


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("image.svg", UnsupportedImageType),
        ("page.html", UnsupportedImageType),
        ("empty.gif", InvalidImage),
        ("truncated.png", InvalidImage),
        ("truncated.jpg", InvalidImage),
        ("truncated.gif", InvalidImage),
        ("corrupt_header.png", InvalidImage),
        ("declares_20000x20000.png", ImageTooComplex),
        ("declares_65535x65535.gif", ImageTooComplex),
    ],
)
def test_thumbnail_refuses_what_probe_refuses(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        make_thumbnail(HOSTILE / name)


@pytest.mark.parametrize("max_side", [0, -1, 16_384])
def test_max_side_must_fit_webp(max_side: int) -> None:
    with pytest.raises(ValueError, match="max_side"):
        make_thumbnail(SAMPLES / "still.png", max_side)


@pytest.mark.parametrize(
    ("size", "box"),
    [
        ((1000, 500), (150, 150)),
        ((300, 200), (220, 1280)),  # tinygif: the width decides
        ((300, 200), (1280, 90)),  # nanogif: the height decides
        ((641, 479), (320, 320)),
        ((1, 30000), (1280, 1280)),
        ((30000, 1), (640, 640)),
        ((999, 333), (400, 400)),
        ((1079, 1921), (320, 320)),
        ((50, 40), (1280, 1280)),  # never upscaled
        ((800, 400), (400, 10_000)),  # oEmbed maxwidth alone
    ],
)
def test_fit_is_the_size_pillow_thumbnail_makes(
    size: tuple[int, int], box: tuple[int, int]
) -> None:
    """One rule for thumbnails, renditions and the web pages: Pillow's own."""
    image = Image.new("1", size)
    image.thumbnail(box)
    assert fit(size, box) == image.size
