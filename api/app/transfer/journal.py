"""What a re-run may skip: the server's own list, plus a small local journal.

How `reactbin import` resumes without re-sending bytes:

1. Before uploading, it pages through `GET /api/v1/images` once and keeps the set
   of ids and sha256 sums already on the server (one request per 100 images).
2. A file whose local sha256 is in that set is skipped without being sent.
3. The server stores *cleaned* bytes (metadata stripped), so a file's local sum can
   differ from the stored one. Each upload the server confirmed (201 or 409) is
   therefore appended to a journal, `local sha256 -> image id`, kept per server in
   the user's state directory (not in the folder being imported, which may be
   read-only). A file whose journal entry names an image still on the server is
   skipped too.

The journal is only a hint: an entry whose image was deleted meanwhile is ignored
(the id is no longer in the server's list), so a wiped server gets everything again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import TextIO

import platformdirs


def default_journal_path(server: str) -> Path:
    name = hashlib.sha256(server.rstrip("/").encode()).hexdigest()[:16]
    return platformdirs.user_state_path("reactbin") / "imports" / f"{name}.jsonl"


class Journal:
    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: remember for this run only
        self.entries: dict[str, str] = {}
        self._file: TextIO | None = None
        # `record` runs in worker threads (file writes stay off the event loop).
        self._lock = threading.Lock()

    def load(self) -> Journal:
        if self.path is None:
            return self
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return self
        for line in lines:
            try:
                entry = json.loads(line)
                self.entries[str(entry["sha256"])] = str(entry["id"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by an interruption
        return self

    def record(self, local_sha256: str, image_id: str) -> None:
        with self._lock:
            if self.entries.get(local_sha256) == image_id:
                return
            self.entries[local_sha256] = image_id
            if self.path is None:
                return
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            # One short line, flushed: an interruption loses at most the line being written.
            self._file.write(json.dumps({"sha256": local_sha256, "id": image_id}) + "\n")
            self._file.flush()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def already_in(journal: Journal, server_ids: set[str], server_sums: set[str]) -> set[str]:
    """Local sha256 sums that need not be sent again."""
    return server_sums | {
        sha for sha, image_id in journal.entries.items() if image_id in server_ids
    }
