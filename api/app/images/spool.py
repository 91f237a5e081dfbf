"""An upload spooled to a temp file: what `receive.py` makes of the request, and what
the upload service (`preparation.py`, `upload.py`) works on, with no web framework."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TEMP_PREFIX = "reactbin-upload-"


@dataclass
class ReceivedUpload:
    """The parsed form. `file_path` is a temp file the caller must `discard()`."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    file_path: Path | None = None
    filename: str | None = None
    file_size: int = 0

    def discard(self) -> None:
        if self.file_path is not None:
            self.file_path.unlink(missing_ok=True)
            self.file_path = None


def sweep_stale_spool_files(tmp_dir: Path | None, older_than_seconds: float) -> int:
    """Delete upload spool files a killed process left behind; returns how many.

    Only files older than any live upload can be (the total upload timeout plus
    the storage time) are touched, so several processes may share the directory."""
    directory = Path(tmp_dir or tempfile.gettempdir())
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in directory.glob(f"{TEMP_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # raced with another process, or not ours to delete
            continue
    return removed
