"""Tenor v2 parameter parsing and the thumbnail size the API advertises."""

from __future__ import annotations

import pytest
from PIL import Image

from app.errors import BadRequest
from app.imaging.thumbnails import thumbnail_size
from app.tenor.params import (
    Position,
    parse_ar_range,
    parse_ids,
    parse_limit,
    parse_media_filter,
    parse_pos,
    parse_searchfilter,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, 20), ("", 20), (" 7 ", 7), ("0", 1), ("-3", 1), ("50", 50), ("51", 50), ("999", 50)],
)
def test_limit_defaults_and_clamps(given: str | None, expected: int) -> None:
    assert parse_limit(given) == expected


@pytest.mark.parametrize("given", ["abc", "1.5", "2e3", "twenty"])
def test_a_limit_that_is_not_an_integer_is_refused(given: str) -> None:
    with pytest.raises(BadRequest):
        parse_limit(given)


def test_pos_forms() -> None:
    assert parse_pos(None) == Position()
    assert parse_pos("") == Position(at_end=True)
    assert parse_pos("0") == Position(offset=0)
    assert parse_pos("40") == Position(offset=40)
    assert parse_pos("eyJrIjpbXX0") == Position(cursor="eyJrIjpbXX0")
    with pytest.raises(BadRequest):
        parse_pos("1000000")


def test_media_filter_keeps_known_formats_only() -> None:
    assert parse_media_filter(None) is None
    assert parse_media_filter(" tinygif, MP4,loopedmp4,,x") == frozenset({"tinygif", "mp4"})
    assert parse_media_filter("x") == frozenset()


def test_ar_range_and_searchfilter() -> None:
    assert parse_ar_range("all") is None
    assert parse_ar_range("wide") == (42, 236)
    assert parse_ar_range("STANDARD") == (56, 178)
    with pytest.raises(BadRequest):
        parse_ar_range("square")
    assert parse_searchfilter("sticker,-static") == "sticker"
    assert parse_searchfilter("-static") == "animated"
    assert parse_searchfilter(None) == "any"


def test_ids_keep_order_drop_repeats_and_cap_at_50() -> None:
    assert parse_ids(" b, a ,b,,c") == ["b", "a", "c"]
    assert len(parse_ids(",".join(f"id{n}" for n in range(50)))) == 50
    for bad in (None, "", " , "):
        with pytest.raises(BadRequest):
            parse_ids(bad)
    with pytest.raises(BadRequest):
        parse_ids(",".join(f"id{n}" for n in range(51)))


@pytest.mark.parametrize(
    "size",
    [
        (40, 30),
        (320, 320),
        (321, 320),
        (400, 100),
        (100, 400),
        (1000, 3),
        (3, 1000),
        (641, 479),
        (480, 270),
        (333, 999),
        (1920, 1080),
        (1079, 1921),
    ],
)
def test_thumbnail_dims_match_what_pillow_makes(size: tuple[int, int]) -> None:
    image = Image.new("RGB", size)
    image.thumbnail((320, 320))
    assert thumbnail_size(*size) == image.size
