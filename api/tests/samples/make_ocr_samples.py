"""Write the meme samples the OCR tests read: `python tests/samples/make_ocr_samples.py`.

Captions are drawn the way memes print them: white letters with a black
outline (`stroke_width`), centred at the top and/or bottom, over a busy
picture of coloured shapes (round ones, which a careless OCR reads as "O").
The font is the scalable one inside Pillow (`ImageFont.load_default(size=...)`,
Aileron), so no system font is needed. Deterministic (fixed seeds), like
`make_samples.py`; the expected captions are the constants below.
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent / "ocr"

STILL_CAPTION = "THIS IS FINE"
TOP_CAPTION = "ONE DOES NOT SIMPLY"
BOTTOM_CAPTION = "WRITE TESTS LATER"
LATE_CAPTION = "SHRUG"  # on the GIF's frames 1-5, not on frame 0
RUNNING_CAPTION = "WAIT FOR IT"  # on every frame of the second GIF
PUNCHLINE = "NOT TODAY"  # on its frames 3-5 only
TRANSPARENT_CAPTION = "NICE"
ROTATED_CAPTION = "SIDEWAYS"


def _scene(size: tuple[int, int], seed: int) -> Image.Image:
    """A background with overlapping circles and boxes in random colours."""
    rng = random.Random(seed)  # test data, not secrets
    im = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(25):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(size[0] // 30, size[0] // 6)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.6:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r, x + r, y + r), fill=colour)
    return im


def _caption(im: Image.Image, text: str, *, top: bool, size: int = 40) -> None:
    """White text, black outline, centred, 10 px from the top or bottom edge."""
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=size)
    stroke = max(2, size // 14)
    left, upper, right, lower = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    x = (im.width - (right - left)) // 2 - left
    y = 10 - upper if top else im.height - 10 - lower
    draw.text((x, y), text, font=font, fill="white", stroke_width=stroke, stroke_fill="black")


def _encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def still_png() -> bytes:
    im = _scene((480, 360), 1)
    _caption(im, STILL_CAPTION, top=True)
    return _encode(im, "PNG", optimize=True)


def top_bottom_jpeg() -> bytes:
    im = _scene((480, 360), 2)
    _caption(im, TOP_CAPTION, top=True, size=36)
    _caption(im, BOTTOM_CAPTION, top=False, size=36)
    return _encode(im, "JPEG", quality=85)


def no_text_png() -> bytes:
    return _encode(_scene((480, 360), 3), "PNG", optimize=True)


def _gif(frames: list[Image.Image]) -> bytes:
    palette = [f.convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    return _encode(
        palette[0], "GIF", save_all=True, append_images=palette[1:], duration=100, loop=0
    )


def late_caption_gif() -> bytes:
    """Six frames of a scene sliding left; "SHRUG" appears from frame 1 on."""
    base = _scene((400, 240), 4)
    frames = []
    for index in range(6):
        frame = Image.new("RGB", (320, 240))
        frame.paste(base.crop((index * 16, 0, index * 16 + 320, 240)))
        if index >= 1:
            _caption(frame, LATE_CAPTION, top=False, size=44)
        frames.append(frame)
    return _gif(frames)


def punchline_gif() -> bytes:
    """Six frames: a caption on all of them, a second one from frame 3 on."""
    frames = []
    for index in range(6):
        frame = _scene((320, 240), 10 + index)
        _caption(frame, RUNNING_CAPTION, top=True, size=36)
        if index >= 3:
            _caption(frame, PUNCHLINE, top=False, size=36)
        frames.append(frame)
    return _gif(frames)


def transparent_png() -> bytes:
    """An outlined caption on a fully transparent canvas: only the letters are opaque."""
    im = Image.new("RGBA", (320, 120), (255, 255, 255, 0))
    _caption(im, TRANSPARENT_CAPTION, top=True, size=48)
    return _encode(im, "PNG", optimize=True)


def rotated_jpeg() -> bytes:
    """Stored turned a quarter (caption running top to bottom); EXIF orientation 6 rights it."""
    im = _scene((400, 240), 5)
    _caption(im, ROTATED_CAPTION, top=True, size=44)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return _encode(im.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif)


SAMPLES = {
    "this_is_fine.png": still_png,
    "top_bottom.jpg": top_bottom_jpeg,
    "no_text.png": no_text_png,
    "shrug_from_frame1.gif": late_caption_gif,
    "punchline.gif": punchline_gif,
    "transparent.png": transparent_png,
    "orientation6.jpg": rotated_jpeg,
}


def main() -> int:
    HERE.mkdir(exist_ok=True)
    for name, make in SAMPLES.items():
        (HERE / name).write_bytes(make())
    total = sum((HERE / name).stat().st_size for name in SAMPLES)
    print(f"wrote {len(SAMPLES)} samples, {total:,} bytes, to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
