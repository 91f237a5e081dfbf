"""OCR of meme captions: the engine is real (bundled models), loaded once for the session."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from app.imaging import ocr
from app.imaging.errors import InvalidImage, UnsupportedImageType
from app.imaging.ocr import MAX_SIDE, extract_text

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
OCR = SAMPLES / "ocr"


# --- end to end, on the generated memes (tests/samples/make_ocr_samples.py) --------------


def test_still_caption_is_read_exactly() -> None:
    assert extract_text(OCR / "this_is_fine.png") == "THIS IS FINE"


def test_top_and_bottom_captions_come_in_reading_order() -> None:
    assert extract_text(OCR / "top_bottom.jpg") == "ONE DOES NOT SIMPLY\nWRITE TESTS LATER"


def test_caption_missing_from_the_first_frame_is_found_on_later_ones() -> None:
    assert extract_text(OCR / "shrug_from_frame1.gif") == "SHRUG"


def test_first_frame_alone_would_miss_it() -> None:
    assert extract_text(OCR / "shrug_from_frame1.gif", max_frames=1) is None


def test_lines_from_several_frames_merge_once_each_in_order() -> None:
    # Frames 0, 2 and 4 are read: the top caption three times, the punchline once.
    assert extract_text(OCR / "punchline.gif") == "WAIT FOR IT\nNOT TODAY"


@pytest.mark.parametrize("name", ["ocr/no_text.png", "noise.png", "still.gif", "animated.webp"])
def test_pictures_without_text_give_none(name: str) -> None:
    assert extract_text(SAMPLES / name) is None


def test_caption_on_a_transparent_canvas_is_read() -> None:
    # White letters on transparent pixels: flattened onto grey, not onto white.
    assert extract_text(OCR / "transparent.png") == "NICE"


def test_exif_orientation_is_applied_first() -> None:
    # Stored sideways; read as stored, the caption would run top to bottom.
    assert extract_text(OCR / "orientation6.jpg") == "SIDEWAYS"


def test_huge_frames_are_downscaled_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    im = Image.new("RGB", (4000, 2400), (40, 90, 160))
    font = ImageFont.load_default(size=320)
    ImageDraw.Draw(im).text(
        (300, 200), "HUGE", font=font, fill="white", stroke_width=20, stroke_fill="black"
    )
    im.save(path, compress_level=1)
    frames = list(ocr._frames(path, 3))
    assert [frame.size for frame in frames] == [(MAX_SIDE, MAX_SIDE * 2400 // 4000)]
    assert extract_text(path) == "HUGE"


def test_concurrent_calls_queue_and_agree() -> None:
    names = ["this_is_fine.png", "transparent.png"]
    results: dict[str, str | None] = {}

    def read(name: str) -> None:
        results[name] = extract_text(OCR / name)

    threads = [threading.Thread(target=read, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"this_is_fine.png": "THIS IS FINE", "transparent.png": "NICE"}


def test_engine_loads_from_the_wheel_without_any_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # RapidOCR downloads a model it cannot find; ours must all come from the installed package.
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the OCR engine tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    engine = ocr._Engine()  # a fresh one: the shared instance may predate the patch
    lines = engine.read(Image.open(OCR / "this_is_fine.png").convert("RGB"))
    assert [line.text for line in lines if line.score >= ocr.MIN_LINE_SCORE] == ["THIS IS FINE"]


def test_the_engine_is_created_once_per_process() -> None:
    extract_text(OCR / "transparent.png")
    first = ocr._ENGINE
    extract_text(OCR / "transparent.png")
    assert first is not None
    assert ocr._ENGINE is first


# --- refusals -----------------------------------------------------------------------------


def test_files_probe_would_refuse_raise_its_errors() -> None:
    with pytest.raises(UnsupportedImageType):
        extract_text(SAMPLES / "hostile" / "random.bin")
    with pytest.raises(InvalidImage):
        extract_text(SAMPLES / "hostile" / "truncated.png")


def test_max_frames_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_frames"):
        extract_text(OCR / "this_is_fine.png", max_frames=0)


# --- the pure parts, without the engine ---------------------------------------------------


@pytest.mark.parametrize(
    ("total", "offset", "count", "expected"),
    [
        (1, 0, 3, [0]),
        (2, 0, 3, [0, 1]),
        (6, 0, 3, [0, 2, 4]),
        (100, 0, 3, [0, 33, 66]),
        (100, 0, 1, [0]),
        (3, 1, 3, [1, 2]),  # APNG whose frame 0 is a fallback browsers skip
    ],
)
def test_frames_are_spread_from_the_first_shown_one(
    total: int, offset: int, count: int, expected: list[int]
) -> None:
    assert ocr._frame_indices(total, offset, count) == expected


def test_apng_fallback_image_is_not_read() -> None:
    frames = list(ocr._frames(SAMPLES / "apng_fallback.png", 5))
    # Red then blue, as browsers play it; the grey fallback is never sampled.
    assert [frame.getpixel((0, 0)) for frame in frames] == [(220, 20, 30), (30, 40, 200)]


CLASSES = ["", "A", "B", " "]  # blank, two letters, space: the recogniser's layout


def _probabilities(*frames: dict[int, float]) -> np.ndarray:
    rows = np.zeros((len(frames), len(CLASSES)), dtype=np.float32)
    for row, frame in zip(rows, frames, strict=True):
        for label, p in frame.items():
            row[label] = p
        row[0] += 1.0 - row.sum()  # the rest is blank
    return rows


def test_ctc_decoding_collapses_repeats_and_keeps_doubled_letters() -> None:
    p = _probabilities({1: 0.9}, {1: 0.9}, {}, {1: 0.8}, {2: 0.7})
    text, score = ocr._ctc_decode(p, CLASSES)
    assert text == "AAB"
    assert score == pytest.approx((0.9 + 0.8 + 0.7) / 3)


def test_ctc_decoding_keeps_a_faint_space_between_words() -> None:
    faint = {3: ocr.SPACE_PROBABILITY * 2}
    assert ocr._ctc_decode(_probabilities({1: 0.9}, faint, {2: 0.9}), CLASSES)[0] == "A B"
    noise = {3: ocr.SPACE_PROBABILITY / 10}
    assert ocr._ctc_decode(_probabilities({1: 0.9}, noise, {2: 0.9}), CLASSES)[0] == "AB"
    outright = {3: 0.9}
    assert ocr._ctc_decode(_probabilities({1: 0.9}, outright, {2: 0.9}), CLASSES)[0] == "A B"


def test_ctc_decoding_never_starts_ends_or_doubles_spaces() -> None:
    space = {3: 0.9}
    p = _probabilities(space, {1: 0.9}, space, {}, space, {2: 0.9}, space)
    assert ocr._ctc_decode(p, CLASSES)[0] == "A B"
    assert ocr._ctc_decode(_probabilities({}, {}), CLASSES) == ("", 0.0)


def _line(text: str, left: float, top: float, score: float = 0.99) -> ocr._Line:
    return ocr._Line(text, score, (left, top, left + 10 * len(text), top + 40))


def test_lines_are_merged_in_reading_order_and_split_boxes_rejoined() -> None:
    frame = [
        _line("SIMPLY", 300, 12),  # the detector split the top line in two
        _line("WRITE TESTS", 50, 300),
        _line("ONE DOES NOT", 40, 10),
    ]
    assert ocr._merge([frame]) == "ONE DOES NOT SIMPLY\nWRITE TESTS"


def test_merge_drops_unsure_and_single_character_lines_and_repeats() -> None:
    frames = [
        [_line("WAIT FOR IT", 10, 10), _line("O", 200, 200, score=0.9)],
        [_line("Wait  for it", 10, 10), _line("GARBLE", 10, 300, score=ocr.MIN_LINE_SCORE - 0.01)],
        [_line("NOT TODAY", 10, 300)],
    ]
    assert ocr._merge(frames) == "WAIT FOR IT\nNOT TODAY"
    assert ocr._merge([[], []]) is None


def test_text_is_normalised() -> None:
    # Full-width "ONE" (a CJK-trained model can emit it), a bullet and a middle dot read
    # off shapes, a tab and a run of spaces.
    frame = [_line("\uff2f\uff2e\uff25  \u2022 DOES\tNOT \u00b7", 0, 0)]
    assert ocr._merge([frame]) == "ONE DOES NOT"
