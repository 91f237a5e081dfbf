from __future__ import annotations

import pytest

from app.images.schemas import (
    FieldError,
    ImageUpdate,
    clean_tags,
    clean_title,
    normalize_tag,
    split_tag_fields,
)
from app.images.upload import title_from_filename


@pytest.mark.parametrize(
    ("raw", "tag"),
    [(" Happy  Dance ", "happy dance"), ("DOG", "dog"), ("café", "café"), ("a\tb", "a b")],
)
def test_tags_are_normalised(raw: str, tag: str) -> None:
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "   ", "x" * 51, "a\x00b", "evil\u202egif", "\ud800"])
def test_bad_tags_are_refused(raw: str) -> None:
    with pytest.raises(FieldError):
        normalize_tag(raw)


def test_duplicate_tags_collapse_and_order_is_kept() -> None:
    assert clean_tags(["b", "A", "a", " B "]) == ["b", "a"]


def test_more_than_twenty_distinct_tags_are_refused() -> None:
    assert len(clean_tags([f"t{i}" for i in range(20)])) == 20
    with pytest.raises(FieldError):
        clean_tags([f"t{i}" for i in range(21)])


def test_tag_fields_split_on_commas_and_repeat() -> None:
    assert split_tag_fields(["a, b", "c"]) == ["a", " b", "c"]
    assert split_tag_fields([" "]) == []
    assert split_tag_fields([]) == []
    with pytest.raises(FieldError):
        clean_tags(split_tag_fields(["a,,b"]))


def test_titles_collapse_spaces_and_refuse_control_characters() -> None:
    assert clean_title("  this   is\tfine ") == "this is fine"
    with pytest.raises(FieldError):
        clean_title("bad\x1btitle")
    with pytest.raises(FieldError):
        clean_title("   ")


@pytest.mark.parametrize(
    ("filename", "title"),
    [
        ("this_is-fine.gif", "this is fine"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\shrug.png", "shrug"),
        (".gif", ".gif"),
        ("evil\u202efig.exe\x00.png", "evilfig.exe"),
        ("", "Untitled"),
        (None, "Untitled"),
        ("x" * 300 + ".png", "x" * 200),
    ],
)
def test_title_from_filename(filename: str | None, title: str) -> None:
    assert title_from_filename(filename) == title


def test_patch_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        ImageUpdate.model_validate({"title": "x", "sha256": "0" * 64})
    assert ImageUpdate.model_validate({"tags": ["A ", "b"]}).tags == ["a", "b"]
