"""Real image bytes for the synthetic library and for the upload benchmark.

Seeding: a pool of small GIFs and WebPs (a few KB to about 100 KB, one to a
dozen frames), each with its own WebP thumbnail. Every library row gets its own
copy of one pool image with the row's id written into a fixed-size marker (a GIF
comment, a WebP EXIF chunk), so each stored object is a distinct, valid file and
the row's `sha256` and `size_bytes` are those of the object's real bytes. A
handful of rows get a ~2 MB GIF instead, for the large-file download figure.

Uploads: distinct animated GIFs of about 200 KB, 1 MB and 2 MB (480x270,
noisy frames that compress like real footage); see `UploadGifs`.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

MARKER = b"RBbench#ID"  # exactly as long as an image id (10 bytes), replaced per row
ID_LENGTH = len(MARKER)
THUMBNAIL_SIDE = 320
ASPECTS = (1.0, 0.75, 0.5625)  # height / width: 1:1, 4:3, 16:9


@dataclass(frozen=True)
class PoolImage:
    data: bytes  # contains MARKER exactly once
    mime_type: str
    extension: str
    width: int
    height: int
    frame_count: int
    duration_ms: int
    thumbnail: bytes

    def for_row(self, image_id: str) -> tuple[bytes, str]:
        """The row's own bytes and their sha256."""
        data = self.data.replace(MARKER, image_id.encode("ascii"))
        return data, hashlib.sha256(data).hexdigest()


def _frames(
    width: int, height: int, count: int, seed: int, noise: float, colors: int
) -> list[Image.Image]:
    rng = random.Random(seed)
    frames = []
    background = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    for index in range(count):
        frame = Image.new("RGB", (width, height), background)
        draw = ImageDraw.Draw(frame)
        for _ in range(8):
            x, y = rng.randrange(width), rng.randrange(height)
            box = [
                x,
                y,
                x + rng.randrange(10, width // 2 + 10),
                y + rng.randrange(10, height // 2 + 10),
            ]
            fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.ellipse(box, fill=fill)
        if noise:
            grain = Image.effect_noise((width, height), 30 + index).convert("RGB")
            frame = Image.blend(frame, grain, noise)
        frames.append(frame.quantize(colors, method=Image.Quantize.FASTOCTREE))
    return frames


def _thumbnail(first_frame: Image.Image) -> bytes:
    image = first_frame.convert("RGB")
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=75)
    return out.getvalue()


def _gif(frames: list[Image.Image], duration: int) -> bytes:
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=duration,
        loop=0,
        comment=MARKER,
    )
    return out.getvalue()


def _check_marker(data: bytes) -> bytes:
    if data.count(MARKER) != 1:
        raise RuntimeError("the id marker must occur exactly once in a pool image")
    return data


def make_pool(seed: int = 1, gifs: int = 36, webps: int = 12) -> list[PoolImage]:
    rng = random.Random(seed)
    pool: list[PoolImage] = []
    for index in range(gifs):
        width = rng.choice((100, 120, 160, 200, 240))
        height = round(width * rng.choice(ASPECTS))
        count = rng.choice((1, 1, 2, 3, 4, 6, 8))
        duration = rng.choice((40, 60, 80, 100))
        frames = _frames(width, height, count, seed * 1000 + index, rng.uniform(0.0, 0.15), 32)
        pool.append(
            PoolImage(
                data=_check_marker(_gif(frames, duration)),
                mime_type="image/gif",
                extension="gif",
                width=width,
                height=height,
                frame_count=count,
                duration_ms=duration * count if count > 1 else 0,
                thumbnail=_thumbnail(frames[0]),
            )
        )
    for index in range(webps):
        width = rng.choice((160, 200, 240, 320))
        height = round(width * rng.choice(ASPECTS))
        frame = _frames(width, height, 1, seed * 2000 + index, rng.uniform(0.0, 0.2), 256)[0]
        out = io.BytesIO()
        # The EXIF chunk carries the marker (an extended-format WebP, still valid).
        frame.convert("RGB").save(out, "WEBP", quality=rng.choice((50, 60, 70)), exif=MARKER)
        pool.append(
            PoolImage(
                data=_check_marker(out.getvalue()),
                mime_type="image/webp",
                extension="webp",
                width=width,
                height=height,
                frame_count=1,
                duration_ms=0,
                thumbnail=_thumbnail(frame),
            )
        )
    return pool


def make_large(seed: int = 2) -> PoolImage:
    """One ~2 MB animated GIF (480x270, 25 frames)."""
    frames = _frames(480, 270, 25, seed, 0.6, 64)
    return PoolImage(
        data=_check_marker(_gif(frames, 80)),
        mime_type="image/gif",
        extension="gif",
        width=480,
        height=270,
        frame_count=25,
        duration_ms=25 * 80,
        thumbnail=_thumbnail(frames[0]),
    )


class UploadGifs:
    """Distinct animated GIFs of a given frame count (each frame is ~80 KB).

    Encoded once; each copy differs in the first four bytes of the global colour
    table (the serial number). The server keeps colour tables byte for byte when
    it cleans a GIF, so every copy is a different image to it, not a duplicate."""

    def __init__(self, frame_count: int, seed: int) -> None:
        frames = _frames(480, 270, frame_count, seed, 0.6, 64)
        out = io.BytesIO()
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
        self.base = out.getvalue()
        if not self.base[10] & 0x80:
            raise RuntimeError("expected a GIF with a global colour table")
        self.frame_count = frame_count

    def make(self, serial: int) -> bytes:
        data = bytearray(self.base)
        data[13:17] = serial.to_bytes(4, "big")
        return bytes(data)


# Frame counts that give about 200 KB, 1 MB and 2 MB (each frame is ~80 KB).
UPLOAD_SIZES = {"200KB": 3, "1MB": 13, "2MB": 26}
