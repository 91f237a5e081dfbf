#!/usr/bin/env python3
"""Rendition throughput: how fast one worker turns 1 MB GIFs into every format.

    .venv/bin/python bench/renditions.py              # 6 GIFs, 2 rounds
    .venv/bin/python bench/renditions.py --gifs 3 --rounds 1 --size 2000000

Generates seeded, meme-like animated GIFs of about `--size` bytes each (480x270,
shapes moving over a gradient with film grain, 60-80 ms frames: what a reaction
GIF cut from a video looks like), then runs the worker's encoder
(`app.renditions.encode.make_renditions`) on each, one at a time, as a single
`reactbin worker` does. Prints a Markdown table: per format, the mean time per
image and the mean output size, and the throughput in images per second.

No services are needed: this measures the CPU work only (the job's download and
upload are a few MB over the network).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from app.renditions.encode import make_renditions
from app.renditions.formats import FORMATS
from PIL import Image, ImageDraw

SIZE = (480, 270)


def _frame(seed: int, index: int, grain: random.Random) -> Image.Image:
    width, height = SIZE
    ramp = Image.linear_gradient("L").resize(SIZE)
    tint = Image.new("L", SIZE, 60 + (seed * 47) % 150)
    image = Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), tint))
    draw = ImageDraw.Draw(image)
    for k in range(6):
        x = int((math.sin(index / 7 + k + seed) * 0.4 + 0.5) * width)
        y = int((math.cos(index / 5 + 2 * k) * 0.4 + 0.5) * height)
        draw.ellipse(
            (x - 30, y - 30, x + 30, y + 30), fill=(40 * k % 256, 200 - 30 * k, 90 + 20 * k)
        )
    small = (width // 4, height // 4)
    noise = Image.frombytes("L", small, grain.randbytes(small[0] * small[1])).resize(SIZE)
    return Image.blend(image, noise.convert("RGB"), 0.05)


def _gif(seed: int, frames: int) -> bytes:
    grain = random.Random(seed)
    images = [
        _frame(seed, index, grain).convert("P", palette=Image.Palette.ADAPTIVE)
        for index in range(frames)
    ]
    out = io.BytesIO()
    durations = [60 + 10 * (index % 3) for index in range(frames)]
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return out.getvalue()


def make_gif(seed: int, target: int) -> bytes:
    """A GIF of about `target` bytes: frames added until it is that large."""
    probe = _gif(seed, 4)
    frames = max(2, round(4 * target / len(probe)))
    return _gif(seed, frames)


def _table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gifs", type=int, default=6, help="distinct GIFs to generate")
    parser.add_argument("--rounds", type=int, default=2, help="times each GIF is encoded")
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes per GIF (about)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reactbin-bench-renditions-") as tmp:
        root = Path(tmp)
        sources = []
        for seed in range(args.gifs):
            path = root / f"source-{seed}.gif"
            path.write_bytes(make_gif(seed, args.size))
            sources.append(path)
        input_bytes = [path.stat().st_size for path in sources]
        with Image.open(sources[0]) as first:
            frames = getattr(first, "n_frames", 1)

        per_format: dict[str, list[float]] = {}
        sizes: dict[str, list[int]] = {}
        totals: list[float] = []
        for round_ in range(args.rounds):
            for index, source in enumerate(sources):
                out = root / f"out-{round_}-{index}"
                out.mkdir()
                timings: dict[str, float] = {}
                started = time.perf_counter()
                made = make_renditions(source, out, timings)
                totals.append(time.perf_counter() - started)
                for name, seconds in timings.items():
                    per_format.setdefault(name, []).append(seconds)
                for rendition in made:
                    sizes.setdefault(rendition.format, []).append(rendition.size_bytes)
                for file in out.iterdir():
                    file.unlink()

    mean_total = statistics.mean(totals)
    rows = []
    for name in ("decode", *FORMATS):
        seconds = statistics.mean(per_format.get(name, [0.0]))
        size = f"{statistics.mean(sizes[name]) / 1024:,.0f}" if name in sizes else ""
        note = " (the original)" if name == "gif" else ""
        rows.append(
            (name + note, f"{seconds * 1000:,.0f}", f"{100 * seconds / mean_total:.0f} %", size)
        )
    print(
        f"## Rendition generation ({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()})\n"
    )
    print(
        f"{len(sources)} GIFs of {statistics.mean(input_bytes) / 1e6:.2f} MB "
        f"({SIZE[0]}x{SIZE[1]}, {frames} frames), each encoded {args.rounds} time(s), "
        "one at a time.\n"
    )
    print(_table(rows, ("format", "ms per image", "share", "output KB")))
    print()
    print(
        f"**{1 / mean_total:.2f} images/s** per worker "
        f"(mean {mean_total * 1000:,.0f} ms, median {statistics.median(totals) * 1000:,.0f} ms, "
        f"max {max(totals) * 1000:,.0f} ms per image; "
        f"{statistics.mean(input_bytes) / 1e6 / mean_total:.2f} MB of GIF per second)."
    )


if __name__ == "__main__":
    main()
