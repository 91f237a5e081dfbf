"""`reactbin restore` reads every manifest version this release wrote or will write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.transfer.client import TransferError
from app.transfer.restorer import form_fields, read_export


def _manifest(folder: Path, version: object, images: list[dict[str, object]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = {"format": "reactbin-export", "version": version, "images": images}
    (folder / "manifest.json").write_text(json.dumps(body), "utf-8")
    return folder


V1_ENTRY = {
    "id": "Abc0123456",
    "title": "first",
    "description": "",
    "tags": ["dog"],
    "ocr_text": None,
    "sha256": "a" * 64,
    "mime_type": "image/gif",
    "created_at": "2026-01-02T03:04:05Z",
    "file": "images/Abc0123456.gif",
}


def test_a_version_1_manifest_restores_oldest_first(tmp_path: Path) -> None:
    newer = {**V1_ENTRY, "id": "Newer00001", "created_at": "2026-05-01T00:00:00Z"}
    entries = read_export(_manifest(tmp_path, 1, [newer, V1_ENTRY]))
    assert [entry["id"] for entry in entries] == ["Abc0123456", "Newer00001"]
    assert form_fields(V1_ENTRY) == {
        "id": "Abc0123456",
        "title": "first",
        "description": "",
        "sha256": "a" * 64,
        "created_at": "2026-01-02T03:04:05Z",
        "tags": ["dog"],
    }


def test_a_version_2_entry_sends_every_field(tmp_path: Path) -> None:
    entry = {
        **V1_ENTRY,
        "ocr_text": "FIXED",
        "updated_at": "2026-01-03T00:00:00Z",
        "share_count": 4,
        "phash": -9_000_000_000_000_000_000,
        "size_bytes": 10,
    }
    [read] = read_export(_manifest(tmp_path, 2, [entry]))
    fields = form_fields(read)
    assert fields["ocr_text"] == "FIXED"
    assert fields["updated_at"] == "2026-01-03T00:00:00Z"
    assert (fields["share_count"], fields["phash"]) == ("4", "-9000000000000000000")
    assert "size_bytes" not in fields  # the server measures the file itself


@pytest.mark.parametrize("version", [3, None, "2"])
def test_an_unknown_version_is_one_clear_error(tmp_path: Path, version: object) -> None:
    with pytest.raises(TransferError, match="version"):
        read_export(_manifest(tmp_path, version, [V1_ENTRY]))


def test_a_folder_without_a_manifest_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="no reactbin manifest"):
        read_export(tmp_path)
