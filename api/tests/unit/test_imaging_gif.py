"""The GIF fast path (`app.imaging.gif`) must judge every file as Pillow's own
seek-and-composite decoding does: same refusals, same facts, same first frame.

Each case probes a file twice, once as `probe_image` does and once with the fast
path switched off, over well-formed GIFs of every shape the GIF writer makes and
thousands of truncated and corrupted copies of them.
"""

from __future__ import annotations

import hashlib
import io
import random
import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from app.imaging import gif
from app.imaging.errors import ImagingError
from app.imaging.probe import probe_image

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _frames(size: tuple[int, int], count: int, seed: int) -> list[Image.Image]:
    rng = random.Random(seed)
    frames = []
    for index in range(count):
        frame = Image.new("RGB", size, (rng.randrange(256), 40, 90))
        # A moving patch: the writer then stores sub-rectangles, not whole frames.
        x = (index * 7) % (size[0] - 10)
        frame.paste((255, 255, rng.randrange(256)), (x, 3, x + 10, 13))
        frames.append(frame)
    return frames


def _encode(frames: list[Image.Image], **params: object) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], **params)
    return out.getvalue()


def _generated() -> dict[str, bytes]:
    frames = _frames((40, 24), 5, seed=3)
    transparent = [f.convert("P") for f in frames]
    return {
        "sub_rectangles": _encode(frames, duration=[30, 0, 70, 10, 200], loop=0),
        "disposal_background": _encode(frames, disposal=2, duration=50),
        "disposal_previous": _encode(frames, disposal=3, duration=50, comment=b"hi"),
        "transparency": _encode(transparent, transparency=0, disposal=2, duration=40),
        "local_palettes": _encode(frames, optimize=False, palette=None, interlace=True),
        "grey": _encode([f.convert("L") for f in frames], duration=20),
        "not_interlaced": _encode(frames, interlace=False, loop=2),
    }


def _sources() -> dict[str, bytes]:
    sources = {
        name: (SAMPLES / name).read_bytes()
        for name in ("still.gif", "animated.gif", "noise.gif", "metadata.gif")
    }
    return {**sources, **_generated()}


def _mutations(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cut = sorted({*range(6, min(len(data), 90)), *rng.sample(range(6, len(data)), 30)})
    copies = [data[:n] for n in cut]
    for _ in range(80):
        mutated = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 4))):
            mutated[rng.randrange(6, len(data))] = rng.choice((0, 0x21, 0x2C, 0x3B, 0xFF, 1, 254))
        copies.append(bytes(mutated))
    junk = rng.randrange(13, len(data))
    copies.append(data[:junk] + b"\x00\x07junk" + data[junk:])
    return copies


def _outcome(path: Path) -> tuple[object, ...]:
    first: list[str] = []

    def record(image: ImageFile.ImageFile, mime: str) -> None:
        first.append(f"{image.mode} {image.size} {hashlib.sha256(image.tobytes()).hexdigest()}")

    # As in production, where warnings are not errors: Pillow warns about some
    # corrupt frames while compositing them, which the fast path never does.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("ok", probe_image(path, on_first_frame=record), first)
        except ImagingError as exc:
            return (type(exc).__name__, exc.message)


@pytest.mark.parametrize("name", sorted(_sources()))
def test_fast_path_judges_like_pillow(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _sources()[name]
    cases = [source, *_mutations(source, seed=len(name))]
    path = tmp_path / "case.gif"
    fast_used = 0
    for data in cases:
        path.write_bytes(data)
        fast = _outcome(path)
        with monkeypatch.context() as patched:
            patched.setattr(gif, "frames", lambda *_: None)
            slow = _outcome(path)
        assert fast == slow, f"{name}: {len(data)} bytes"
        fast_used += fast[0] == "ok"
    assert fast_used > 0


def test_well_formed_animations_take_the_fast_path() -> None:
    for name, data in _generated().items():
        with Image.open(io.BytesIO(data)) as image:
            found = gif.frames(data, image)
            assert found is not None, name
            assert len(found) == image.n_frames, name


def _descriptor(data: bytes, frame: gif.GifFrame) -> int:
    """Where the image descriptor (0x2C) of `frame` starts."""
    for start in range(frame.offset - 11, 0, -1):
        flags = data[start + 9]
        palette = 3 << ((flags & 7) + 1) if flags & 128 else 0
        if data[start] == 0x2C and start + 11 + palette == frame.offset:
            return start
    raise AssertionError("no descriptor")


@pytest.mark.parametrize(("field", "value"), [(1, 60), (5, 0)])
def test_a_frame_off_the_canvas_or_empty_is_left_to_pillow(field: int, value: int) -> None:
    data = bytearray(_generated()["not_interlaced"])
    with Image.open(io.BytesIO(bytes(data))) as image:
        frames = gif.frames(bytes(data), image)
    assert frames is not None
    start = _descriptor(bytes(data), frames[1]) + field  # left edge, or width
    data[start : start + 2] = value.to_bytes(2, "little")
    with Image.open(io.BytesIO(bytes(data))) as image:
        assert gif.frames(bytes(data), image) is None
