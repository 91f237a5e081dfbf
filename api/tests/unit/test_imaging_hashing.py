from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageEnhance

from app.imaging.errors import InvalidImage, UnsupportedImageType
from app.imaging.hashing import (
    NEAR_DUPLICATE_DISTANCE,
    hamming,
    hash_image,
    perceptual_hash,
    to_signed,
)

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

# Unrelated pictures measured 22-42 bits apart (module doc); 20 leaves a margin
# and is still more than three times the near-duplicate distance.
FAR = 20


def _shapes(seed: int, size: tuple[int, int] = (400, 300)) -> Image.Image:
    rng = random.Random(seed)  # test data, not secrets
    im = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(15, 110)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - r, y - r, x + r, y + r), fill=colour)
    return im


def _shapes_of(seed: int) -> Callable[[], Image.Image]:
    return lambda: _shapes(seed)


def _sample(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        with Image.open(SAMPLES / name) as im:
            return im.convert("RGB")

    return load


# Pictures with structure. The 48 x 32 flat-colour samples are left out on purpose: with
# almost nothing but one colour, JPEG q=60 noise alone moves them 8-10 bits (see below).
PICTURES: dict[str, Callable[[], Image.Image]] = {
    **{f"shapes{seed}": _shapes_of(seed) for seed in range(6)},
    "shapes_large": lambda: _shapes(99, (1200, 900)),
    "noise.png": _sample("noise.png"),
    "noise.jpg": _sample("noise.jpg"),
    "noise.gif": _sample("noise.gif"),
    "metadata.jpg": _sample("metadata.jpg"),
    "meme": _sample("ocr/this_is_fine.png"),
    "meme_animated": _sample("ocr/punchline.gif"),
}


def _save(im: Image.Image, path: Path, **params: Any) -> Path:
    im.save(path, **params)
    return path


TRANSFORMS: dict[str, Callable[[Image.Image, Path], Path]] = {
    "jpeg_q60": lambda im, d: _save(im, d / "copy.jpg", quality=60),
    "half_size": lambda im, d: _save(
        im.resize((max(1, im.width // 2), max(1, im.height // 2)), Image.Resampling.BICUBIC),
        d / "copy.png",
    ),
    "brightness_plus_10": lambda im, d: _save(
        ImageEnhance.Brightness(im).enhance(1.1), d / "copy.png"
    ),
    "gif": lambda im, d: _save(im.convert("P", palette=Image.Palette.ADAPTIVE), d / "copy.gif"),
}


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("picture", PICTURES)
def test_copies_are_near_duplicates(picture: str, transform: str, tmp_path: Path) -> None:
    im = PICTURES[picture]()
    original = perceptual_hash(_save(im, tmp_path / "original.png"))
    copy = perceptual_hash(TRANSFORMS[transform](im, tmp_path))
    assert hamming(original, copy) <= NEAR_DUPLICATE_DISTANCE


def test_different_pictures_are_far_apart() -> None:
    hashes = {name: hash_image(make()) for name, make in PICTURES.items()}
    hashes["still.png"] = perceptual_hash(SAMPLES / "still.png")
    hashes["animated.gif"] = perceptual_hash(SAMPLES / "animated.gif")
    distances = {
        (a, b): hamming(hashes[a], hashes[b]) for a, b in itertools.combinations(hashes, 2)
    }
    assert min(distances.values()) >= FAR, min(distances.items(), key=lambda kv: kv[1])


def test_gif_and_png_of_the_same_transparent_picture_agree(tmp_path: Path) -> None:
    im = _shapes(7).convert("RGBA")
    im.paste((0, 0, 0, 0), (0, 0, 200, 150))  # a transparent quarter
    png = perceptual_hash(_save(im, tmp_path / "t.png"))
    gif_path = _save(im, tmp_path / "t.gif")  # Pillow quantises, keeping one transparent index
    with Image.open(gif_path) as saved:
        assert saved.info.get("transparency") is not None
    gif = perceptual_hash(gif_path)
    assert hamming(png, gif) <= NEAR_DUPLICATE_DISTANCE
    # Transparent counts as white whatever the hidden colour values are.
    white = im.copy()
    white.paste((255, 255, 255, 255), (0, 0, 200, 150))
    assert hamming(png, hash_image(white)) <= 2


def test_hash_is_of_the_picture_as_shown_upright(tmp_path: Path) -> None:
    upright = _shapes(8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    sideways = _save(stored, tmp_path / "sideways.jpg", quality=95, exif=exif)
    shown = perceptual_hash(_save(upright, tmp_path / "upright.png"))
    assert hamming(perceptual_hash(sideways), shown) <= 2
    assert hamming(hash_image(stored), shown) >= FAR


def test_apng_fallback_frame_is_skipped() -> None:
    with Image.open(SAMPLES / "apng_fallback.png") as im:
        im.seek(1)
        shown = hash_image(im.convert("RGB"))
        im.seek(0)
        fallback = hash_image(im.convert("RGB"))
    assert perceptual_hash(SAMPLES / "apng_fallback.png") == shown
    assert shown != fallback


@pytest.mark.parametrize(
    "name",
    ["gray16.png", "la.png", "cmyk.jpg", "bilevel.png", "palette_transparent.png", "rgba.png"],
)
def test_every_accepted_mode_hashes(name: str) -> None:
    assert -(2**63) <= perceptual_hash(SAMPLES / name) < 2**63


def test_hashes_are_stable() -> None:
    # Stored hashes are compared with new ones for years: a change here (algorithm,
    # Pillow's resampling) makes old rows incomparable and needs a re-hash migration.
    assert perceptual_hash(SAMPLES / "noise.png") == to_signed(0x972B76E0C898C3CE)
    assert perceptual_hash(SAMPLES / "ocr" / "this_is_fine.png") == to_signed(0xF04E5F9104BC43DB)


def test_flat_pictures_all_hash_alike() -> None:
    # pHash sees only structure: any two single-colour pictures are "duplicates".
    red = hash_image(Image.new("RGB", (64, 64), (220, 20, 30)))
    blue = hash_image(Image.new("RGB", (300, 20), (30, 40, 200)))
    assert red == blue == to_signed(1 << 63)
    assert hash_image(Image.new("L", (8, 8), 0)) == 0


def test_signed_conversion_keeps_the_bits() -> None:
    assert to_signed(0) == 0
    assert to_signed(2**63 - 1) == 2**63 - 1
    assert to_signed(2**63) == -(2**63)
    assert to_signed(2**64 - 1) == -1
    assert to_signed(-1) == -1


def test_hamming() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0, -1) == 64
    assert hamming(0, 2**64 - 1) == 64
    assert hamming(-1, 2**64 - 1) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(to_signed(1 << 63), 0) == 1
    assert hamming(5, 9) == hamming(9, 5)


def test_refused_files_raise_like_probe() -> None:
    with pytest.raises(UnsupportedImageType):
        perceptual_hash(SAMPLES / "hostile" / "image.svg")
    with pytest.raises(InvalidImage):
        perceptual_hash(SAMPLES / "hostile" / "truncated.jpg")
