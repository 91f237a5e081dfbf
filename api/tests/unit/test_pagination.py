from __future__ import annotations

import pytest

from app.pagination import CursorCodec, InvalidCursor


def test_round_trip() -> None:
    codec = CursorCodec("k" * 32)
    payload = {"t": "2026-11-25T10:00:00+00:00", "i": "abcdefghij"}
    assert codec.decode(codec.encode(payload)) == payload


def test_a_cursor_from_another_key_or_edited_is_refused() -> None:
    ours, theirs = CursorCodec("k" * 32), CursorCodec("z" * 32)
    cursor = theirs.encode({"i": "x"})
    with pytest.raises(InvalidCursor):
        ours.decode(cursor)
    good = ours.encode({"i": "x"})
    tampered = good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1]
    with pytest.raises(InvalidCursor):
        ours.decode(tampered)


@pytest.mark.parametrize("cursor", ["", "!!!", "a", "A" * 600])
def test_garbage_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        CursorCodec("k" * 32).decode(cursor)
