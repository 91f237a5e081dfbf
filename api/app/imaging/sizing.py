"""Fitting a size into a box: one rule for thumbnails, renditions and the web pages.

Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Size = tuple[int, int]


def fit(size: Size, box: Size) -> Size:
    """`size` scaled down (never up) to fit `box`, aspect kept, at least 1 x 1.

    The rounding is `Image.thumbnail`'s: the side that is not the box's is the whole
    number whose aspect ratio comes nearest the original's, so a size stated without
    making the image (a thumbnail's in the Tenor API and the web pages) is what Pillow
    makes. Example: ``fit((1000, 500), (150, 150)) == (150, 75)``.
    """
    width, height = size
    box_width, box_height = box
    if width <= box_width and height <= box_height:
        return size
    aspect = width / height

    def nearest(number: float, error: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=error), 1)

    if box_width / box_height >= aspect:  # the box is relatively wider: the height fills it
        return nearest(box_height * aspect, lambda n: abs(aspect - n / box_height)), box_height
    return box_width, nearest(
        box_width / aspect, lambda n: 0 if n == 0 else abs(aspect - box_width / n)
    )
