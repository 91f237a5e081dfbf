"""The caption printed in a reaction image, as searchable text (`extract_text`).

Engine: RapidOCR 3 (PaddleOCR's PP-OCRv6 small models run by onnxruntime on
the CPU). Its wheel ships the three ONNX models (~31 MB), and `_Engine` names
the detection and recognition files by path, so nothing is ever downloaded:
with `model_path` unset, RapidOCR would fetch a model it cannot find from the
internet at first use. Debian's tesseract was the alternative; it misread
white-on-black-outline meme captions unless thresholded first (infra notes).

What is used of it, and why:

- Detection is RapidOCR's public pipeline with recognition and the 180-degree
  classifier switched off (captions are upright). Detection runs with the
  longest side limited to 960 px (`limit_type=max`) instead of the default
  "shortest side at least 736 px", which upscales a 480 x 360 GIF to 981 x 736:
  on the generated memes the default took 3-4x as long and found no caption
  line the limited one missed (it only added circles read as "O").
- Recognition is our own call of the bundled recogniser model, because
  RapidOCR's greedy CTC decoding drops word spaces in condensed fonts like the
  Impact of real memes ("NOTSUREIF"): it keeps a space only where the space
  class wins a frame outright. Here a gap between two characters becomes a
  space when the space class reaches `SPACE_PROBABILITY` in any frame of it.
  Measured over 193 generated captions in five bold fonts at 22-56 px: exact
  lines went from 155 to 185; within words the space probability never passed
  0.0005, between words it was mostly far above 0.005.
- A line is kept when its mean character confidence is at least
  `MIN_LINE_SCORE` and it holds two letters or digits: real caption lines
  scored 0.95-1.00, while round shapes read as "O" or "0" scored up to 0.90,
  and a lone character is not searchable text anyway.

Animations: `max_frames` frames spread evenly over the frames a viewer sees,
starting with the first (the poster frame); lines are merged in reading order
(frame by frame, top to bottom, left to right), each distinct line once.

Result: lines joined by "\\n", case as detected (memes are upper case),
NFKC-normalised, runs of spaces collapsed; None when nothing readable is found.

Cost (2-core dev machine): the engine loads once per process on first use
(~0.6 s, mostly imports) and then holds ~400 MB RSS; each frame takes about
0.15-0.3 s at 480 x 360 and more for bigger frames, which are downscaled to
`MAX_SIDE` first. onnxruntime already uses every core for one image, so a
lock serialises inference: concurrent calls queue instead of competing.
Synchronous and CPU-bound: run it in a background worker, never on the event loop.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile

from app.imaging.orientation import jpeg_orientation, upright
from app.imaging.probe import open_image
from app.imaging.thumbnails import _to_rgb

MAX_SIDE = 1280  # frames are shrunk to this first: caption lines stay well above 48 px
MIN_LINE_SCORE = 0.80
SPACE_PROBABILITY = 0.005
MIN_ALNUM = 2

_REC_HEIGHT = 48  # the recogniser's input height (PP-OCR rec_img_shape 3 x 48 x 320)
_REC_MIN_WIDTH = 320
_BACKGROUND = (
    128,
    128,
    128,
)  # transparency flattened onto grey: white fill and black outline both stay visible
_DET_PARAMS: dict[str, Any] = {"Det.limit_type": "max", "Det.limit_side_len": 960}


@dataclass(frozen=True)
class _Line:
    text: str
    score: float
    box: tuple[float, float, float, float]  # left, top, right, bottom in frame pixels


class _Engine:
    """RapidOCR's detector plus the bundled recogniser, from the wheel's own model files."""

    def __init__(self) -> None:
        # Imported here, not at module level: ~0.5 s and most of the 400 MB, paid only
        # by the process that actually reads text (the worker), not by the API server.
        import onnxruntime
        import rapidocr

        models = Path(rapidocr.__file__).resolve().parent / "models"
        self._detector = rapidocr.RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.use_cls": False,
                "Global.use_rec": False,
                "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
                **_DET_PARAMS,
            }
        )
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        self._recogniser = onnxruntime.InferenceSession(
            str(models / "PP-OCRv6_rec_small.onnx"),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._input = self._recogniser.get_inputs()[0].name
        metadata = self._recogniser.get_modelmeta().custom_metadata_map
        # CTC classes: 0 is "blank", then the model's alphabet, then the space (as PaddleOCR).
        self._classes = ["", *metadata["character"].splitlines(), " "]

    def read(self, frame: Image.Image) -> list[_Line]:
        """Every text line the detector finds in an RGB frame, recognised, in any order."""
        bgr = np.ascontiguousarray(np.asarray(frame)[:, :, ::-1])  # PaddleOCR models expect BGR
        found = self._detector(bgr)
        boxes = getattr(found, "boxes", None)
        if boxes is None or len(boxes) == 0:
            return []
        lines = []
        for quad in np.asarray(boxes, dtype=np.float64):
            left, top = quad.min(axis=0)
            right, bottom = quad.max(axis=0)
            box = (
                max(0, math.floor(left)),
                max(0, math.floor(top)),
                min(frame.width, math.ceil(right)),
                min(frame.height, math.ceil(bottom)),
            )
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            text, score = self._recognise(frame.crop(box))
            lines.append(_Line(text, score, (left, top, right, bottom)))
        return lines

    def _recognise(self, crop: Image.Image) -> tuple[str, float]:
        width = max(1, math.ceil(_REC_HEIGHT * crop.width / crop.height))
        pixels = np.asarray(crop.resize((width, _REC_HEIGHT), Image.Resampling.BILINEAR))
        batch = np.zeros((1, 3, _REC_HEIGHT, max(width, _REC_MIN_WIDTH)), dtype=np.float32)
        # BGR, scaled to [-1, 1]; the padding stays 0 (mid grey), as in PaddleOCR.
        batch[0, :, :, :width] = pixels[:, :, ::-1].transpose(2, 0, 1) / 127.5 - 1.0
        probabilities = self._recogniser.run(None, {self._input: batch})[0][0]
        return _ctc_decode(np.asarray(probabilities, dtype=np.float32), self._classes)


def _ctc_decode(probabilities: np.ndarray, classes: Sequence[str]) -> tuple[str, float]:
    """Greedy CTC decoding that also keeps faint spaces (see module doc); (text, mean confidence).

    `probabilities` is frames x classes; class 0 is the CTC blank, the last one the space.
    """
    space = len(classes) - 1
    best = probabilities.argmax(axis=1).tolist()
    text: list[str] = []
    confidences: list[float] = []
    previous, gap_space = 0, 0.0
    for frame, label in enumerate(best):
        if label == previous and label != 0:
            continue  # the same character held over several frames
        previous = label
        if label == 0:
            gap_space = max(gap_space, float(probabilities[frame, space]))
            continue
        if (label == space or gap_space >= SPACE_PROBABILITY) and text and text[-1] != " ":
            text.append(" ")
        gap_space = 0.0
        if label != space:
            text.append(classes[label])
            confidences.append(float(probabilities[frame, label]))
    score = sum(confidences) / len(confidences) if confidences else 0.0
    return "".join(text).strip(), score


_ENGINE: _Engine | None = None
_LOCK = threading.Lock()  # guards the engine's creation and every inference


def _engine() -> _Engine:
    global _ENGINE  # one per process, created on first use
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def _frame_indices(total: int, offset: int, count: int) -> list[int]:
    """`count` of the shown frames offset..total-1, evenly spread, the first one included."""
    shown = total - offset
    count = min(count, shown)
    return [offset + i * shown // count for i in range(count)]


def _prepare(image: Image.Image, orientation: int) -> Image.Image:
    """Upright RGB, transparency on grey, longest side at most `MAX_SIDE`."""
    frame = _to_rgb(image)
    if frame is image:
        frame = frame.copy()  # the next seek reuses the decoder's buffer
    if frame.mode == "RGBA":
        flat = Image.new("RGB", frame.size, _BACKGROUND)
        flat.paste(frame, mask=frame.getchannel("A"))
        frame = flat
    frame = upright(frame, orientation)
    frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BICUBIC)
    return frame


def _frames(path: Path, max_frames: int) -> Iterator[Image.Image]:
    with open_image(path) as (image, mime):
        total, offset = _shown_frames(image, mime)
        orientation = jpeg_orientation(image, mime)
        image.draft(None, (MAX_SIDE, MAX_SIDE))  # JPEG only: decode at a smaller scale
        for index in _frame_indices(total, offset, max_frames):
            image.seek(index)
            image.load()
            yield _prepare(image, orientation)


def _shown_frames(image: ImageFile.ImageFile, mime: str) -> tuple[int, int]:
    """(frames in the file, index of the first one a viewer shows), as `probe` counts them."""
    if mime == "image/jpeg":
        return 1, 0  # MPO extras are not shown
    total = getattr(image, "n_frames", 1)
    # An APNG's IDAT image may be only a fallback for old viewers; browsers skip it.
    offset = 1 if image.info.get("default_image") and total > 1 else 0
    return total, offset


def _clean(text: str) -> str:
    """NFKC, single spaces, and no tokens of stray symbols (bullets, dots read off shapes)."""
    tokens = unicodedata.normalize("NFKC", text).split()
    kept = [t for t in tokens if any(c.isalnum() for c in t) or t.isascii()]
    return " ".join(kept)


def _reading_order(lines: Sequence[_Line]) -> list[str]:
    """Boxes grouped into rows (vertical centres within half a box height), rows top to bottom,
    boxes left to right: a caption the detector split into pieces becomes one line again."""
    rows: list[list[_Line]] = []
    for line in sorted(lines, key=lambda item: (item.box[1] + item.box[3]) / 2):
        centre = (line.box[1] + line.box[3]) / 2
        if rows:
            last = rows[-1][-1]
            last_centre = (last.box[1] + last.box[3]) / 2
            height = min(line.box[3] - line.box[1], last.box[3] - last.box[1])
            if abs(centre - last_centre) <= height / 2:
                rows[-1].append(line)
                continue
        rows.append([line])
    texts = []
    for row in rows:
        text = " ".join(line.text for line in sorted(row, key=lambda item: item.box[0]))
        texts.append(_clean(text))
    return texts


def _merge(per_frame: Sequence[Sequence[_Line]]) -> str | None:
    """Confident lines of every frame in reading order, each distinct line once (case-blind)."""
    seen: set[str] = set()
    merged: list[str] = []
    for lines in per_frame:
        for text in _reading_order([line for line in lines if line.score >= MIN_LINE_SCORE]):
            key = text.casefold()
            if sum(c.isalnum() for c in text) >= MIN_ALNUM and key not in seen:
                seen.add(key)
                merged.append(text)
    return "\n".join(merged) or None


def extract_text(path: Path, *, max_frames: int = 3) -> str | None:
    """The caption in `path` (a still, or up to `max_frames` frames of an animation), or None.

    Raises `UnsupportedImageType`, `InvalidImage` or `ImageTooComplex` for a file
    `probe_image` would refuse; engine failures propagate (the job retries).
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, not {max_frames}")
    frames = list(_frames(path, max_frames))  # decoded outside the lock
    with _LOCK:
        engine = _engine()
        per_frame = [engine.read(frame) for frame in frames]
    return _merge(per_frame)
