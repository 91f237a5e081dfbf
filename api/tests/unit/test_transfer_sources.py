"""What `reactbin import` reads and how it names things, without a server."""

from __future__ import annotations

import json
from pathlib import Path

from app.transfer.gifable import GifableMedia, describe, parse_media
from app.transfer.journal import Journal, already_in
from app.transfer.sources import collect, merge_tags


def test_tags_merge_in_order_without_repeats() -> None:
    assert merge_tags(["Cats", "happy  dance"], ["cats", "Happy Dance", "new"]) == (
        "Cats",
        "happy  dance",
        "new",
    )


def test_an_export_folder_is_read_from_its_manifest(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "old.gif").write_bytes(b"GIF89a")
    (tmp_path / "images" / "new.png").write_bytes(b"\x89PNG")
    (tmp_path / "outside.gif").write_bytes(b"GIF89a")
    manifest = {
        "format": "reactbin-export",
        "version": 1,
        "images": [
            {"file": "images/new.png", "title": "New", "tags": ["b"], "ocr_text": "HI",
             "description": "d", "created_at": "2026-11-02T00:00:00Z"},
            {"file": "images/old.gif", "title": "Old", "tags": [], "ocr_text": None,
             "description": "", "created_at": "2026-11-01T00:00:00Z"},
            {"file": "../outside.gif", "title": "escape", "created_at": "2026-11-03T00:00:00Z"},
        ],
    }  # fmt: skip
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    items = collect([tmp_path], extra_tags=["restored"]).items
    assert [item.title for item in items] == ["Old", "New"]  # oldest first; no escape
    assert items[1].tags == ("b", "restored")
    assert items[1].ocr_text == "HI"
    assert items[0].description is None


def test_a_foreign_manifest_is_just_a_file(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"name": "my-npm-package"}')
    (tmp_path / "a.gif").write_bytes(b"GIF89a")
    collected = collect([tmp_path])
    assert [item.filename for item in collected.items] == ["a.gif"]
    assert [path.name for path in collected.ignored] == ["manifest.json"]


def test_journal_entries_count_only_while_the_image_exists(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path).load() as journal:
        journal.record("local-a", "ID1")
        journal.record("local-b", "ID2")
    path.write_text(path.read_text() + '{"sha256": "cut-sho')  # an interrupted write
    journal = Journal(path).load()
    assert journal.entries == {"local-a": "ID1", "local-b": "ID2"}
    assert already_in(journal, server_ids={"ID2"}, server_sums={"stored"}) == {
        "stored",
        "local-b",
    }


def test_gifable_media_shapes() -> None:
    payload = {
        "data": [
            {"id": "u1", "url": "/media/u1/image", "labels": " dog, Fire ,,", "altText": " x "},
            {"id": "u2", "url": "https://bucket.example/piet/shrug.gif", "comment": "meh"},
            {"id": "u3"},  # no url: skipped
        ]
    }
    media = parse_media(payload, "https://gifable.example")
    assert media[0] == GifableMedia("u1", "https://gifable.example/media/u1/image",
                                    ("dog", "Fire"), "x")  # fmt: skip
    assert media[1].labels == ("meh",)
    assert len(media) == 2
    assert parse_media(payload["data"], "https://g.example") == parse_media(
        payload, "https://g.example"
    )


def test_gifable_labels_that_cannot_be_tags_are_kept_in_the_description() -> None:
    labels = (*(f"label {n}" for n in range(25)), "y" * 51)
    tags, description = describe(GifableMedia("u", "https://g/x", labels, "alt"), ("extra",))
    assert len(tags) == 20
    assert tags[0] == "label 0"
    assert tags[-1] == "extra"  # the --tag given always fits
    assert description.startswith("alt\n\nGifable labels: ")
    assert "label 24" in description
    assert "label 19" in description
    assert "y" * 51 in description
    assert "label 0," not in description
